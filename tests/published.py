"""Helpers for the tests of what the site publishes: build a copy of a site once per module."""

from __future__ import annotations

import shutil
from pathlib import Path

from digest.site import BuildOptions, LoadedSite, build_site, load_site

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def copy_site(name: str, target: Path) -> Path:
    """Copy tests/sites/NAME (or the bundled sample for 'sample') to *target*."""
    if name == "sample":
        target.mkdir(parents=True)
        shutil.copytree(REPO / "content", target / "content")
        shutil.copy(REPO / "site.yaml", target / "site.yaml")
    else:
        shutil.copytree(TESTS / "sites" / name, target)
    return target


def build_copy(name: str, folder: Path, **options: object) -> tuple[Path, LoadedSite]:
    """Build a fresh copy of a site into folder/out; return the output and the loaded site."""
    source = copy_site(name, folder / "src")
    out = folder / "out"
    build_site(BuildOptions(source=source, output=out, **options))  # type: ignore[arg-type]
    return out, load_site(BuildOptions(source=source, **options))  # type: ignore[arg-type]


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def site_path(url: str, base: str) -> str:
    """``https://example.org/digest/a/`` -> ``/a/`` for a site published at *base*."""
    assert url.startswith(base), f"{url} is not under {base}"
    return "/" + url[len(base) :]
