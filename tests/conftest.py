"""Shared fixtures: build fixture sites into temporary folders and parse pages."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

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


class Page(HTMLParser):
    """A parsed HTML page: links, assets, ids, headings and text by element."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.assets: list[str] = []
        self.ids: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text_parts: list[str] = []
        self._stack: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        if tag == "a" and attributes.get("href") is not None:
            self.links.append(attributes["href"] or "")
        if tag in ("img", "script") and attributes.get("src"):
            self.assets.append(attributes["src"] or "")
        if tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"] or "")

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def find_all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]
