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
    return {url: relativize_page(base, url, data) for url, data in files.items()}


def relativize_page(base: str, url: str, data: bytes) -> bytes:
    if url == "/404.html" or not url.endswith(("/", ".html")):
        return data
    folder = posixpath.dirname(base + url.lstrip("/"))  # /digest/a/ and /digest/a/index.html: /digest/a
    return _LINK.sub(lambda m: m[1] + relative_link(m[2], base, folder) + '"', data.decode("utf-8")).encode("utf-8")


def relative_link(value: str, base: str, folder: str) -> str:
    """*value* as seen from *folder*, if it points inside the site; else unchanged."""
    if not value.startswith(base) or value.startswith("//"):
        return value
    path = re.split("[?#]", value, maxsplit=1)[0]
    relative = posixpath.relpath(path + "index.html" if path.endswith("/") else path, folder)
    return relative + value[len(path) :]  # the query and fragment as they were
