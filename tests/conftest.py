"""Shared fixtures: build fixture sites into temporary folders and parse pages."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from digest.site import BuildOptions, BuildResult, build_site

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SITES = TESTS / "sites"


@pytest.fixture
def copy_site(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a fixture site (tests/sites/NAME, or 'sample' for the bundled one) to tmp."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        if name == "sample":
            target.mkdir()
            shutil.copytree(REPO / "content", target / "content")
            shutil.copy(REPO / "site.yaml", target / "site.yaml")
        else:
            shutil.copytree(SITES / name, target)
        return target

    return copy


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., BuildResult]:
    def run(source: Path, **options: object) -> BuildResult:
        options.setdefault("output", tmp_path / "out")
        return build_site(BuildOptions(source=source, **options))  # type: ignore[arg-type]

    return run


def parse(path: Path) -> BeautifulSoup:
    """Parse one generated HTML file."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def page_file(out: Path, url: str) -> Path:
    """The file a site-relative URL is served from (``/a/`` -> ``a/index.html``)."""
    path = out / url.lstrip("/")
    return path / "index.html" if url.endswith("/") else path
