"""Shared fixtures: fixture sites copied to temporary folders, and built sites shared between tests.

Building a site is what the suite spends its time on, so tests that only read
a built site share one build: ``sample_site`` (the bundled sample, as the
golden test compares it) and ``feeds_site`` (tests/sites/feeds) are built once
per session; they must not be modified. Tests that edit a site copy it with
``copy_site`` and build it with ``build``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from digest.site import BuildOptions, BuildResult, LoadedSite, build_site, load_site

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SITES = TESTS / "sites"
EPOCH = "1780272000"  # 2026-06-01 00:00 UTC, after every article of the sample site: the shared builds' "now"


def copy_site_to(name: str, target: Path) -> Path:
    """Copy tests/sites/NAME (or the bundled sample for 'sample': content/ and site.yaml) to *target*."""
    if name == "sample":
        target.mkdir(parents=True)
        shutil.copytree(REPO / "content", target / "content")
        shutil.copy(REPO / "site.yaml", target / "site.yaml")
    else:
        shutil.copytree(SITES / name, target)
    return target


@contextmanager
def source_date(epoch: str = EPOCH) -> Iterator[None]:
    """SOURCE_DATE_EPOCH set to *epoch* for the duration, for fixtures that cannot use monkeypatch."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


@dataclass(frozen=True)
class Built:
    """A site built once: its source copy, its output folder and what the pipeline loaded."""

    source: Path
    out: Path
    site: LoadedSite
    result: BuildResult


def build_fresh(name: str, folder: Path, **options: object) -> Built:
    """Copy a site to folder/src and build it with ``--no-cache`` and the fixed "now" into folder/out."""
    source = copy_site_to(name, folder / "src")
    out = folder / "out"
    with source_date():
        result = build_site(BuildOptions(source=source, output=out, cache=False, **options))  # type: ignore[arg-type]
        site = load_site(BuildOptions(source=source, **options))  # type: ignore[arg-type]
    return Built(source, out, site, result)


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The bundled sample site, built once (read only: tests/test_golden.py compares it file by file)."""
    return build_fresh("sample", tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def feeds_site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """tests/sites/feeds (quotes, script tags, Arabic and Chinese text, a sub-path base URL), built once; read only."""
    return build_fresh("feeds", tmp_path_factory.mktemp("feeds"))


@pytest.fixture
def copy_site(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a fixture site (tests/sites/NAME, or 'sample' for the bundled one) to tmp."""

    def copy(name: str) -> Path:
        return copy_site_to(name, tmp_path / name)

    return copy


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., BuildResult]:
    """Build a site into tmp/out (or ``output=``), with the cache unless ``cache=False``."""

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
