"""Stage 1, config: read and validate ``site.yaml`` into a frozen :class:`SiteConfig`.

In: the site folder. Out: ``SiteConfig`` plus problems. Every key is declared once, as a
``SiteConfig`` field made by :func:`option` (type, default, doc, check), listed in :data:`OPTIONS`;
that drives validation, the "did you mean" hint and the README table (``python -m digest.config``).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import Problem, did_you_mean, error, warning
from .slugs import make_slug
from .yamlmap import Entry, describe, load_mapping

PERMALINK_FIELDS = ("topic", "slug", "year", "month", "day")
MARKDOWN_ENGINES = ("auto", "python", "rust")


@dataclass(frozen=True)
class TopicInfo:
    slug: str
    name: str
    description: str


def _at_least(low: int) -> Callable[[Any], str | None]:
    return lambda value: None if value >= low else f"a whole number of at least {low}, found {value}"


def check_base_url(value: Any) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f'an absolute http(s) URL such as "https://example.org/", found "{value}"'
    if parts.query or parts.fragment:
        return f'a URL without query or fragment, found "{value}"'
    return None


def _timezone(value: Any) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f'an IANA time zone such as "Europe/Paris" or "UTC", found "{value}"'
    return None


def _output_dir(value: Any) -> str | None:
    return None if value.strip() else "a folder name, found an empty text"


def _permalink(value: Any) -> str | None:
    names = re.findall(r"{([^}]*)}", value)
    unknown = [n for n in names if n not in PERMALINK_FIELDS]
    if unknown:
        return f"placeholders among {{{'}, {'.join(PERMALINK_FIELDS)}}}, found {{{unknown[0]}}}"
    if "slug" not in names:
        return f'a pattern containing {{slug}}, found "{value}"'
    if not value.startswith("/") or not value.endswith("/"):
        return f'a pattern that starts and ends with "/", found "{value}"'
    return None


def _language(value: Any) -> str | None:
    ok = re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value)
    return None if ok else f'a language tag such as "en" or "pt-BR", found "{value}"'


def option(default: Any, doc: str, check: Callable[[Any], str | None] | None = None, key: str = "") -> Any:
    """A setting of site.yaml: its default (whose type it must have), one-line doc, check, and key when not the field's name."""
    return field(default=default, metadata={"doc": doc, "check": check, "key": key})


@dataclass(frozen=True)
class SiteConfig:
    """Validated site settings; plain values only, so a cache can key on them."""

    root: Path
    title: str = option("AI News Digest", "Site name, shown in the header, titles and feeds.")
    description: str = option("", "One sentence about the site, for the home page and meta tags.")
    base_url: str = option("http://localhost:8000/", "Absolute URL the site is published at, e.g. https://example.org/digest/.", check_base_url)
    language: str = option("en", "Default language tag of articles (e.g. en).", _language)
    timezone: str = option("UTC", "IANA time zone for dates written without one (e.g. America/New_York).", _timezone)
    output_dir: str = option("_site", "Folder the site is written to, relative to the site folder.", _output_dir)
    per_page: int = option(20, "Articles per list page (home, topic, tag, source, archive).", _at_least(1))
    related_count: int = option(5, "Related stories linked from each article.", _at_least(0))
    max_tags: int = option(100, "The most tags one article may have; every tag makes pages and feeds, so a runaway list is an error.", _at_least(1))
    more_from_topic: int = option(5, "Links under 'More from this topic' on each article.", _at_least(0))
    home_topic_count: int = option(3, "Top stories shown per topic on the home page.", _at_least(0))
    permalink: str = option("/{topic}/{slug}/", "Article URL pattern from {topic}, {slug}, {year}, {month}, {day}.", _permalink)
    allow_html: bool = option(False, "Pass raw HTML in article bodies through a sanitizer instead of escaping it.")
    feed_items: int = option(20, "Newest entries in each feed (site, topic, tag).", _at_least(1))
    feed_full_content: bool = option(True, "Put each article's full body in feeds; false sends only the summary.")
    share_images: bool = option(True, "Draw a 1200x630 share image for each article that names no image.")
    search: bool = option(True, "Index the articles with Pagefind and add a search box and a /search/ page; false leaves them out.")
    markdown_engine: str = option(
        "auto", "Markdown engine: rust (markdown-it-pyrs, fast), python (markdown-it-py) or auto (rust when installed).", key="markdown"
    )
    topics: tuple[TopicInfo, ...] = option((), "Mapping of topic slug to {name, description}; its order is the display order.")
    path: str = "site.yaml"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under: ``/`` or ``/digest/``."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"


OPTIONS = {f.metadata["key"] or f.name: f for f in fields(SiteConfig) if f.metadata}  # site.yaml key -> its SiteConfig field


def load_config(root: Path) -> tuple[SiteConfig, list[Problem]]:
    """Read ``root/site.yaml``; a missing file gives the defaults and a warning."""
    path = root / "site.yaml"
    shown = "site.yaml"
    if path.exists() and not path.is_file():
        return SiteConfig(root=root), [error(shown, 0, "expected site.yaml to be a file, found a folder or a special file")]
    if not path.is_file():
        return SiteConfig(root=root), [warning(shown, 0, "no site.yaml found; using default settings")]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return SiteConfig(root=root), [error(shown, 1, f"expected UTF-8 text, found an undecodable byte at offset {exc.start}")]
    except OSError as exc:
        return SiteConfig(root=root), [error(shown, 0, f"cannot read the file ({exc.strerror})")]
    entries, problems = load_mapping(text, shown, 1)
    values, more = validate_config(entries or {}, shown)  # None: not a mapping, already a problem
    return SiteConfig(root=root, **values), problems + more


def validate_config(entries: dict[str, Entry], shown: str) -> tuple[dict[str, Any], list[Problem]]:
    """Check each key against :data:`OPTIONS`; return constructor arguments."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, entry in entries.items():
        opt = OPTIONS.get(key)
        if opt is None:
            problems.append(warning(shown, entry.line, f'unknown setting "{key}"{did_you_mean(key, list(OPTIONS))}; it is ignored'))
            continue
        value = entry.value
        read = {"topics": _read_topics, "markdown": _read_markdown}.get(key)
        if read is not None:
            value, more = read(entry, shown) if value is not None else (None, [])  # null keeps the default
            problems.extend(more)
            if value is not None:
                values[opt.name] = value
            continue
        kind, check = type(opt.default), opt.metadata["check"]
        if type(value) is not kind:  # exactly: YAML's true is no whole number
            bad: str | None = {str: "text", int: "a whole number", bool: "true or false"}[kind] + f", found {describe(value)}"
        else:
            bad = check(value) if check else None
        if bad:
            problems.append(error(shown, entry.line, f"{key}: expected {bad}"))
        else:
            values[key] = value
    return values, problems


def _read_markdown(entry: Entry, shown: str) -> tuple[str | None, list[Problem]]:
    """The engine named by ``markdown: {engine: ...}``, or None to keep the default."""
    value, line = entry.value, entry.line
    if not isinstance(value, dict):
        return None, [error(shown, line, f"markdown: expected a mapping such as {{engine: rust}}, found {describe(value)}")]
    problems = [warning(shown, line, f'markdown: unknown key "{sub}"{did_you_mean(str(sub), ["engine"])}; it is ignored') for sub in value if sub != "engine"]
    engine: str | None = value.get("engine")
    if engine is not None and engine not in MARKDOWN_ENGINES:
        problems.append(error(shown, line, f"markdown.engine: expected one of {', '.join(MARKDOWN_ENGINES)}, found {describe(engine)}"))
        engine = None
    if engine == "rust" and importlib.util.find_spec("markdown_it_pyrs") is None:
        problems.append(
            error(shown, line, "markdown.engine: rust needs the markdown-it-pyrs package (pip install -r requirements.txt), found it not installed")
        )
        engine = None
    return engine, problems


def _read_topics(entry: Entry, shown: str) -> tuple[tuple[TopicInfo, ...], list[Problem]]:
    """The topics of ``topics: {slug: {name, description}}``."""
    value, line = entry.value, entry.line
    if not isinstance(value, dict):
        return (), [error(shown, line, f"topics: expected a mapping of topic slug to {{name, description}}, found {describe(value)}")]
    topics: list[TopicInfo] = []
    lines: dict[str, int] = {}  # topic slug -> its line, for the message about a repeated slug
    problems: list[Problem] = []
    for (key, info), where in zip(value.items(), entry.item_lines, strict=False):  # a mapping has a line for each key
        slug = make_slug(str(key))
        if not slug:
            problems.append(error(shown, where, f'topics: expected a topic slug of letters or digits, found "{key}"'))
            continue
        if slug in lines:
            problems.append(
                error(shown, where, f'topics: "{key}" makes the same topic slug "{slug}" as the topic on line {lines[slug]}; give each topic its own slug')
            )
            continue
        info = {} if info is None else {"name": info} if isinstance(info, str) else info
        if not isinstance(info, dict):
            problems.append(error(shown, where, f"topics.{key}: expected {{name, description}}, found {describe(info)}"))
            continue
        for sub in info:
            if sub not in ("name", "description"):
                problems.append(warning(shown, where, f'topics.{key}: unknown key "{sub}"{did_you_mean(str(sub), ["name", "description"])}'))
        name, description = info.get("name", str(key).replace("-", " ").title()), info.get("description", "")
        if not isinstance(name, str) or not isinstance(description, str):
            problems.append(error(shown, where, f"topics.{key}: expected text for name and description"))
            continue
        topics.append(TopicInfo(slug=slug, name=name, description=description))
        lines[slug] = where
    return tuple(topics), problems


def options_table() -> str:
    """The README's table of site.yaml settings, from :data:`OPTIONS`."""
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    for key, opt in OPTIONS.items():
        default = f"{{engine: {opt.default}}}" if key == "markdown" else opt.default
        shown = "(none)" if default in ((), "") else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        rows.append(f"| `{key}` | {shown} | {opt.metadata['doc']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(options_table())
