"""Helpers for walking a built site: internal links, assets and page files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup


def html_files(out: Path) -> list[Path]:
    """Every HTML file of a built site, the editions' email copies included."""
    return sorted(out.rglob("*.html"))


def html_pages(out: Path) -> list[Path]:
    """Every web page of a built site: its HTML files but the editions' email copies (``editions/.../email.html``), which are no pages."""
    return [path for path in html_files(out) if not (path.name == "email.html" and "editions" in path.parts)]


def site_path(url: str, base: str) -> str:
    """``https://example.org/digest/a/`` -> ``/a/`` for a site published at *base*."""
    assert url.startswith(base), f"{url} is not under {base}"
    return "/" + url[len(base) :]


def url_of(out: Path, path: Path) -> str:
    rel = path.relative_to(out).as_posix()
    if rel.endswith("index.html"):
        rel = rel[: -len("index.html")]
    return "/" + rel


def resolve(out: Path, base_path: str, page_url: str, href: str) -> Path | None:
    """The file an internal link points to, or None for external links."""
    absolute = urljoin(base_path + page_url.lstrip("/"), href)
    parts = urlsplit(absolute)
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    assert path.startswith(base_path), f"{href} on {page_url} leaves the site's base path {base_path}"
    target = out / path[len(base_path) :]
    if path.endswith("/"):
        target = target / "index.html"
    return target


def broken_links(out: Path, base_path: str = "/") -> list[str]:
    """Every internal link, asset or fragment in the output that does not resolve."""
    broken = []
    ids: dict[Path, set[str]] = {}
    soups: dict[Path, BeautifulSoup] = {}
    for page in html_files(out):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        soups[page] = soup
        ids[page] = {str(tag["id"]) for tag in soup.find_all(id=True)}
    for page, soup in soups.items():
        page_url = url_of(out, page)
        for tag, attr in (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src")):
            for element in soup.find_all(tag):
                value = element.get(attr)
                if not isinstance(value, str) or value.startswith(("mailto:", "data:")):
                    continue
                target = resolve(out, base_path, page_url, value)
                if target is None:
                    continue
                if not target.is_file():
                    broken.append(f"{page_url}: {value}")
                    continue
                fragment = urlsplit(value).fragment
                if fragment and target in ids and unquote(fragment) not in ids[target]:
                    broken.append(f"{page_url}: {value} (no such id)")
    return broken
