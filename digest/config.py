"""Stage 1, config: read and validate ``site.yaml`` into a frozen :class:`SiteConfig`.

In: the site folder. Out: ``SiteConfig`` plus problems. Every key is declared
once in :data:`OPTIONS` (type, default, one-line doc); the same declaration
drives validation, the "did you mean" hint for unknown keys and the README
table (``python -m digest.config`` prints it).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import Problem, did_you_mean, error, warning
from .yamlmap import Entry, describe, load_mapping

PERMALINK_FIELDS = ("topic", "slug", "year", "month", "day")


@dataclass(frozen=True)
class TopicInfo:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class SiteConfig:
    """Validated site settings; plain values only, so a cache can key on them."""

    root: Path
    title: str = "AI News Digest"
    description: str = ""
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    timezone: str = "UTC"
    output_dir: str = "_site"
    per_page: int = 20
    related_count: int = 5
    max_tags: int = 100
    more_from_topic: int = 5
    home_topic_count: int = 3
    permalink: str = "/{topic}/{slug}/"
    allow_html: bool = False
    feed_items: int = 20
    feed_full_content: bool = True
    share_images: bool = True
    markdown_engine: str = "auto"
    topics: tuple[TopicInfo, ...] = ()
    path: str = "site.yaml"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under: ``/`` or ``/digest/``."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"



@dataclass(frozen=True)
class Option:
    name: str
    kind: type
    doc: str
    check: Callable[[Any], str | None] | None = None


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


OPTIONS: tuple[Option, ...] = (
    Option("title", str, "Site name, shown in the header, titles and feeds."),
    Option("description", str, "One sentence about the site, for the home page and meta tags."),
    Option("base_url", str, "Absolute URL the site is published at, e.g. https://example.org/digest/.", check_base_url),
    Option("language", str, "Default language tag of articles (e.g. en).", _language),
    Option("timezone", str, "IANA time zone for dates written without one (e.g. America/New_York).", _timezone),
    Option("output_dir", str, "Folder the site is written to, relative to the site folder.", _output_dir),
    Option("per_page", int, "Articles per list page (home, topic, tag, source, archive).", _at_least(1)),
    Option("related_count", int, "Related stories linked from each article.", _at_least(0)),
    Option("max_tags", int, "The most tags one article may have; every tag makes pages and feeds, so a runaway list is an error.", _at_least(1)),
    Option("more_from_topic", int, "Links under 'More from this topic' on each article.", _at_least(0)),
    Option("home_topic_count", int, "Top stories shown per topic on the home page.", _at_least(0)),
    Option("permalink", str, "Article URL pattern from {topic}, {slug}, {year}, {month}, {day}.", _permalink),
    Option("allow_html", bool, "Pass raw HTML in article bodies through a sanitizer instead of escaping it."),
    Option("feed_items", int, "Newest entries in each feed (site, topic, tag).", _at_least(1)),
    Option("feed_full_content", bool, "Put each article's full body in feeds; false sends only the summary."),
    Option("share_images", bool, "Draw a 1200x630 share image for each article that names no image."),
    Option("markdown", dict, "Markdown engine: rust (markdown-it-pyrs, fast), python (markdown-it-py) or auto (rust when installed)."),
    Option("topics", dict, "Mapping of topic slug to {name, description}; its order is the display order."),
)


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
    if entries is None:
        return SiteConfig(root=root), problems
    values, more = validate_config(entries, shown)
    return SiteConfig(root=root, path=shown, **values), problems + more


def validate_config(entries: dict[str, Entry], shown: str) -> tuple[dict[str, Any], list[Problem]]:
    """Check each key against :data:`OPTIONS`; return constructor arguments."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    known = {opt.name: opt for opt in OPTIONS}
    for key, entry in entries.items():
        opt = known.get(key)
        if opt is None:
            problems.append(warning(shown, entry.line, f'unknown setting "{key}"{did_you_mean(key, list(known))}; it is ignored'))
            continue
        value = entry.value
        if key == "topics":
            topics, more = _read_topics(value, shown, entry)
            problems.extend(more)
            values["topics"] = topics
            continue
        if key == "markdown":
            engine, more = _read_markdown(value, shown, entry)
            problems.extend(more)
            if engine is not None:
                values["markdown_engine"] = engine
            continue
        if (isinstance(value, bool) and opt.kind is not bool) or not isinstance(value, opt.kind):
            expected = {str: "text", int: "a whole number", bool: "true or false"}.get(opt.kind, "a mapping")
            problems.append(error(shown, entry.line, f"{key}: expected {expected}, found {describe(value)}"))
            continue
        if opt.check is not None:
            bad = opt.check(value)
            if bad:
                problems.append(error(shown, entry.line, f"{key}: expected {bad}"))
                continue
        values[key] = value
    return values, problems


MARKDOWN_ENGINES = ("auto", "python", "rust")


def _read_markdown(value: object, shown: str, entry: Entry) -> tuple[str | None, list[Problem]]:
    """The engine named by ``markdown: {engine: ...}``, or None to keep the default."""
    line = entry.line
    if value is None:
        return None, []
    if not isinstance(value, dict):
        return None, [error(shown, line, f"markdown: expected a mapping such as {{engine: rust}}, found {describe(value)}")]
    problems: list[Problem] = []
    for sub in value:
        if sub != "engine":
            problems.append(warning(shown, line, f'markdown: unknown key "{sub}"{did_you_mean(str(sub), ["engine"])}; it is ignored'))
    engine = value.get("engine")
    if engine is None:
        return None, problems
    if engine not in MARKDOWN_ENGINES:
        problems.append(error(shown, line, f"markdown.engine: expected one of {', '.join(MARKDOWN_ENGINES)}, found {describe(engine)}"))
        return None, problems
    if engine == "rust" and importlib.util.find_spec("markdown_it_pyrs") is None:
        problems.append(
            error(shown, line, "markdown.engine: rust needs the markdown-it-pyrs package (pip install -r requirements.txt), found it not installed")
        )
        return None, problems
    return str(engine), problems


def _read_topics(value: object, shown: str, entry: Entry) -> tuple[tuple[TopicInfo, ...], list[Problem]]:
    from .slugs import make_slug

    line = entry.line
    if value is None:
        return (), []
    if not isinstance(value, dict):
        return (), [error(shown, line, f"topics: expected a mapping of topic slug to {{name, description}}, found {describe(value)}")]
    topics: list[TopicInfo] = []
    lines: dict[str, int] = {}  # topic slug -> its line, for the message about a repeated slug
    problems: list[Problem] = []
    for index, (key, info) in enumerate(value.items()):
        where = entry.item_lines[index] if index < len(entry.item_lines) else line
        slug = make_slug(str(key))
        if not slug:
            problems.append(error(shown, where, f'topics: expected a topic slug of letters or digits, found "{key}"'))
            continue
        if slug in lines:
            problems.append(
                error(shown, where, f'topics: "{key}" makes the same topic slug "{slug}" as the topic on line {lines[slug]}; give each topic its own slug')
            )
            continue
        if info is None:
            info = {}
        if isinstance(info, str):
            info = {"name": info}
        if not isinstance(info, dict):
            problems.append(error(shown, where, f"topics.{key}: expected {{name, description}}, found {describe(info)}"))
            continue
        for sub in info:
            if sub not in ("name", "description"):
                problems.append(warning(shown, where, f'topics.{key}: unknown key "{sub}"{did_you_mean(str(sub), ["name", "description"])}'))
        name = info.get("name", str(key).replace("-", " ").title())
        description = info.get("description", "")
        if not isinstance(name, str) or not isinstance(description, str):
            problems.append(error(shown, where, f"topics.{key}: expected text for name and description"))
            continue
        topics.append(TopicInfo(slug=slug, name=name, description=description))
        lines[slug] = where
    return tuple(topics), problems


def options_table() -> str:
    """The README's table of site.yaml settings, from :data:`OPTIONS`."""
    defaults = SiteConfig(root=Path("."))
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    for opt in OPTIONS:
        default = f"{{engine: {defaults.markdown_engine}}}" if opt.name == "markdown" else getattr(defaults, opt.name)
        shown = "(none)" if default in ((), "") else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        rows.append(f"| `{opt.name}` | {shown} | {opt.doc} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(options_table())
