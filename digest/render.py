"""Stage 6, render: fill the Jinja2 templates for every planned page.

In: ``SiteConfig``, ``SiteIndex`` and the list of ``Page`` values. Out:
``{url_path: bytes}``; nothing touches the disk. Templates autoescape and use
``StrictUndefined``, so a typo in a template fails the build with the
template's name and line instead of rendering an empty string.

Each article's list entry (its "card") is rendered once and reused on every
list page it appears on.
"""

from __future__ import annotations

import hashlib
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from .config import SiteConfig
from .errors import TemplateError
from .index import SiteIndex
from .pages import MONTHS, Page

if TYPE_CHECKING:
    from .seo import PageMeta

BUNDLED = Path(__file__).resolve().parent.parent


def template_dirs(config: SiteConfig) -> list[Path]:
    """The site's own templates first, then the bundled ones."""
    return [d for d in (config.root / "templates", BUNDLED / "templates") if d.is_dir()]


class SiteUrls:
    """Turns site-relative paths ("/tags/x/") into links; the one place URLs are made."""

    def __init__(self, config: SiteConfig) -> None:
        self.base_path = config.base_path
        parts = urlsplit(config.base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def path(self, url: str) -> str:
        return self.base_path + url.lstrip("/")

    def absolute(self, url: str) -> str:
        """An absolute URL; URLs that already have a scheme are returned unchanged."""
        if "://" in url:
            return url
        return self.origin + self.path(url)


def find_static(config: SiteConfig, name: str) -> Path | None:
    """The file ``static/<name>`` is copied from: the site's own, else the bundled one."""
    for folder in (config.root / "static", BUNDLED / "static"):
        if (folder / name).is_file():
            return folder / name
    return None


def hashed_name(name: str, data: bytes) -> str:
    """``css/site.css`` -> ``css/site.1a2b3c4d5e.css``: a new name whenever the content changes."""
    digest = hashlib.sha256(data).hexdigest()[:10]
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else f"{name}.{digest}"


def hashed_static_copies(copies: dict[str, Path]) -> dict[str, Path]:
    """A content-hashed twin of every static file, so hosts may cache them for a year."""
    twins = {}
    for url, path in copies.items():
        if url.startswith("/static/"):
            twins["/static/" + hashed_name(url.removeprefix("/static/"), path.read_bytes())] = path
    return twins


def format_date(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}, {moment.year}"


def make_environment(config: SiteConfig) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(config)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    urls = SiteUrls(config)
    env.filters["url"] = urls.path
    env.filters["abs_url"] = urls.absolute
    env.filters["date"] = format_date
    env.filters["isodate"] = lambda moment: moment.isoformat()
    env.globals["site"] = config
    env.globals["month_names"] = MONTHS
    hashed: dict[str, str] = {}  # read and hash each static file once per build

    def asset(name: str) -> str:
        if name not in hashed:
            hashed[name] = urls.path("/static/" + asset_name(config, name))
        return hashed[name]

    env.globals["asset"] = asset
    env.filters["jsonld"] = script_json
    return env


def asset_name(config: SiteConfig, name: str) -> str:
    """The content-hashed name of a static file (the plain name if it does not exist)."""
    found = find_static(config, name)
    return hashed_name(name, found.read_bytes()) if found else name


def render_site(config: SiteConfig, index: SiteIndex, pages: list[Page]) -> dict[str, bytes]:
    """Render every page; raises TemplateError naming the template and line."""
    env = make_environment(config)
    env.globals["nav_topics"] = index.topics
    env.globals["topic_of"] = index.topic_of
    card = _template(env, "_card.html")
    env.globals["page_meta"] = lambda page: describe_page(config, index, page)
    env.globals["cards"] = {a.path: Markup(_call(card.render, "_card.html", article=a)) for a in index.articles}
    files: dict[str, bytes] = {}
    for page in pages:
        template = _template(env, page.template)
        html = _call(template.render, page.template, page=page, **page.context)
        files[page.url] = html.encode("utf-8")
    return files


def describe_page(config: SiteConfig, index: SiteIndex, page: Page) -> PageMeta:
    from .seo import page_meta

    return page_meta(config, SiteUrls(config), index, page)


def script_json(value: Any) -> Markup:
    from .seo import script_json as dump

    return dump(value)


def _template(env: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{_shown(exc.filename or name)}:{exc.lineno}: template error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"templates/{name}: template not found (looked in {', '.join(str(d) for d in env.loader.searchpath)})") from exc  # type: ignore[union-attr]


def _call(render: Callable[..., str], name: str, **context: Any) -> str:
    try:
        return render(**context)
    except TemplateError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{_shown(exc.filename or name)}:{exc.lineno}: template error: {exc.message}") from exc
    except Exception as exc:  # a template bug: report where it is, not a traceback
        where = f"templates/{name}"
        for frame in reversed(traceback.extract_tb(sys.exc_info()[2])):
            if frame.filename.endswith((".html", ".xml", ".json", ".txt")):
                where = f"{_shown(frame.filename)}:{frame.lineno}"
                break
        raise TemplateError(f"{where}: template error: {exc}") from exc


def _shown(filename: str) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(BUNDLED).as_posix()
    except ValueError:
        return path.as_posix()
