"""Every generated page passes the Nu HTML Checker (vnu) with zero errors.

scripts/test.sh installs the checker (npm package vnu-jar, into node_modules/)
and a Java runtime (Debian); all pages of a site are checked in one run,
because the checker is slow to start.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import Built

VNU = Path(__file__).resolve().parent.parent / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def check_html(folder: Path) -> list[tuple[str, str]]:
    """Run the checker once over every .html file under *folder*; return (file, error) pairs."""
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        pytest.fail("the Nu HTML Checker is not installed: run `bash scripts/test.sh` (installs Java and node_modules/vnu-jar)")
    done = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", "--skip-non-html", str(folder)], capture_output=True, text=True, check=False
    )
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    prefix = folder.resolve().as_posix() + "/"
    return [(m.get("url", "").partition(prefix)[2], f"line {m.get('lastLine', '?')}: {m.get('message')}") for m in messages]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory, sample_site: Built, feeds_site: Built) -> list[tuple[str, str]]:
    """The sample site, the fixture site and one deliberately broken page, in one checker run."""
    root = tmp_path_factory.mktemp("vnu")
    for name, built in (("sample", sample_site), ("feeds", feeds_site)):
        pages = sorted(built.out.rglob("*.html"))
        assert len(pages) > 10
        for page in pages:  # a copy of the pages only: the shared builds stay as they are
            target = root / "check" / name / page.relative_to(built.out)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, target)
    (root / "check" / "broken").mkdir()
    (root / "check" / "broken" / "bad.html").write_text("<!doctype html><html lang=en><title>x</title><p><div></span>", encoding="utf-8")
    return check_html(root / "check")


@pytest.mark.parametrize("name", ["sample", "feeds"])
def test_every_page_is_valid_html(name: str, checked: list[tuple[str, str]]) -> None:
    assert [(page, error) for page, error in checked if page.startswith(name + "/")] == []


def test_the_checker_does_report_errors(checked: list[tuple[str, str]]) -> None:
    """Guard against a silent checker: the broken page must be reported."""
    assert any(page == "broken/bad.html" for page, _ in checked), checked[:3]
