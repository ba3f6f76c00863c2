"""Stage 6e, relative links (``--relative``): make a built site work opened from disk.

In: ``SiteConfig`` and the rendered ``{url_path: bytes}``. Out: the same files, each HTML page's internal
``href``/``src``/``action`` relative to it (``/digest/tags/x/`` from ``/digest/business/y/`` is ``../../tags/x/index.html``:
a browser reading files looks for no index.html). ``404.html`` keeps root-relative links, as a server shows it at
any depth. Absolute URLs (canonical, feeds...) are untouched.
"""

from __future__ import annotations

import posixpath
import re

from .config import SiteConfig

_LINK = re.compile(r'(\s(?:href|src|action)=")([^"]*)"')


def relativize_pages(config: SiteConfig, files: dict[str, bytes]) -> dict[str, bytes]:
    """Rewrite internal links of every HTML page but 404.html."""
    base = config.base_path
    result: dict[str, bytes] = {}
    for url, data in files.items():
        if url == "/404.html" or not url.endswith(("/", ".html")):
            result[url] = data
            continue
        page = base + url.lstrip("/")
        page_dir = page if page.endswith("/") else posixpath.dirname(page) + "/"
        result[url] = relativize_html(data.decode("utf-8"), base, page_dir).encode("utf-8")
    return result


def relativize_html(html: str, base: str, page_dir: str) -> str:
    return _LINK.sub(lambda m: m[1] + relative_link(m[2], base, page_dir) + '"', html)


def relative_link(value: str, base: str, page_dir: str) -> str:
    """*value* as seen from *page_dir*, if it points inside the site; else unchanged."""
    if not value.startswith(base) or value.startswith("//"):
        return value
    path = re.split("[?#]", value, maxsplit=1)[0]
    relative = posixpath.relpath(path + "index.html" if path.endswith("/") else path, page_dir.rstrip("/") or "/")
    return relative + value[len(path) :]  # the query and fragment as they were
