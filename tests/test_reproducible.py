"""Reproducible builds: the same input gives byte-identical output.

Two builds of the sample site differ in everything that must not matter: the
folder the site lives in, the working folder, relative or absolute paths, the
order files were created in and their times, the hash seed (set iteration
order), the local time zone and the locale.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, page_file
from sitekit import article_front, snapshot, write_article

from digest.errors import UsageError
from digest.site import BuildResult, build_now


def copy_reversed(source: Path, target: Path, mtime: int) -> None:
    """Copy a site creating files in reverse order, all with one odd time stamp."""
    files = sorted((p for p in source.rglob("*") if p.is_file()), reverse=True)
    for path in files:
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        os.utime(dest, (mtime, mtime))


def run_build(args: list[str], cwd: Path, **env: str) -> None:
    clean_env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONHASHSEED", "TZ", "LC_ALL", "LANG")}
    done = subprocess.run([sys.executable, str(REPO / "build.py"), *args], cwd=cwd, env={**clean_env, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_two_builds_in_different_places_are_byte_identical(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    first_site = copy_site("sample")
    second_site = tmp_path / "elsewhere" / "deeper" / "copy"
    copy_reversed(first_site, second_site, mtime=946684800)
    first_out, second_out = tmp_path / "first-out", tmp_path / "second-out"

    run_build(["-o", "../first-out"], cwd=first_site, PYTHONHASHSEED="1", TZ="UTC", LC_ALL="C")
    run_build(["build", "--source", str(second_site), "--output", str(second_out)], cwd=tmp_path, PYTHONHASHSEED="4242", TZ="Asia/Kolkata", LANG="fr_FR.UTF-8")
    first, second = snapshot(first_out), snapshot(second_out)
    assert len(first) > 100
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []
    for name, data in first.items():
        assert str(tmp_path).encode() not in data, f"{name} contains the build folder's path"


def test_the_same_build_twice_changes_nothing(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("sample")
    build(site)
    before = snapshot(tmp_path / "out")
    build(site)
    assert snapshot(tmp_path / "out") == before


def test_source_date_epoch_is_the_builds_now(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/scheduled.md", article_front("Scheduled", date="2030-01-02T09:00:00Z"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1893488400")  # 2030-01-01 09:00 UTC: not yet published
    assert build(site).articles == 2
    assert not page_file(tmp_path / "out", "/policy/scheduled/").exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1893574800")  # 2030-01-02 09:00 UTC: due
    assert build(site).articles == 3
    assert page_file(tmp_path / "out", "/policy/scheduled/").is_file()


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "1e9", "99999999999999999999"])
def test_a_bad_source_date_epoch_is_an_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(UsageError) as caught:
        build_now()
    assert "SOURCE_DATE_EPOCH" in str(caught.value)
    assert str(caught.value).endswith("(after the year 9999)") == value.isdecimal()  # a whole number, but too large


def test_source_date_epoch_stamps_every_output_file(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = copy_site("minimal")
    (site / "content/policy/chart.png").write_bytes(b"\x89PNG")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    build(site)
    out = tmp_path / "out"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 10
    assert {int(p.stat().st_mtime) for p in [out, *out.rglob("*")]} == {1800000000}, "every file and folder, for archives that are the same each time"
    # An update (a new article, in a new folder, and a removed file) keeps every time at SOURCE_DATE_EPOCH too.
    (site / "content/policy/chart.png").unlink()
    write_article(site, "policy/later/new-story.md", article_front("A later story"))
    result = build(site)
    assert result.mode == "update"
    assert {int(p.stat().st_mtime) for p in [out, *out.rglob("*")]} == {1800000000}
