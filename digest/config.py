"""Stage 1, config: read and validate ``site.yaml`` into a frozen :class:`SiteConfig`.

In: the site folder. Out: ``SiteConfig`` plus problems. Every key is declared once, as a
``SiteConfig`` field made by :func:`option` (type, default, doc, check), listed in :data:`OPTIONS`;
that drives validation, the "did you mean" hint and the README table (``python -m digest.config``).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import Problem, UsageError, did_you_mean, error, unknown_keys, warning
from .slugs import make_slug
from .yamlmap import Entry, describe, load_mapping

PERMALINK_FIELDS = ("topic", "slug", "year", "month", "day")
MARKDOWN_ENGINES = ("auto", "python", "rust")
EDITION_KINDS = ("daily", "weekly")


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
    if "@" in parts.netloc:  # not echoed: a password
        return "a URL without a user name or password (every page would publish them in its canonical link), found one"
    if re.search(r'[\s<>"`{}|\\^]', value):  # it is written into every canonical link and sitemap as it is
        return f'a URL without spaces or <>"`{{}}|\\^ (percent-encode them), found "{value}"'
    try:
        parts.port  # noqa: B018 (it raises for a port out of range)
    except ValueError:
        return f'a port from 0 to 65535, found "{value}"'
    return None


def _timezone(value: Any) -> str | None:
    expected = 'an IANA time zone such as "Europe/Paris" or "UTC"'
    if value.strip().lower() == "localtime":  # the build machine's zone: the same site would date its stories by where it is built
        return f'{expected}, found "{value}", which is the zone of the machine that builds'
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f'{expected}, found "{value}"{did_you_mean(value, sorted(available_timezones()))}'
    return None


def _output_dir(value: Any) -> str | None:
    if value.strip().startswith("~") or "$" in value:  # no shell reads site.yaml: "~" would be a folder of that name in the site
        return f'a folder path as it is (no shell expands "~" or "$NAME" here), found "{value}"'
    return None if value.strip() else "a folder name, found an empty text"


def _permalink(value: Any) -> str | None:
    names = re.findall(r"{([^}]*)}", value)
    if unknown := [n for n in names if n not in PERMALINK_FIELDS]:
        return f"placeholders among {{{'}, {'.join(PERMALINK_FIELDS)}}}, found {{{unknown[0]}}}"
    if "slug" not in names:
        return f'a pattern containing {{slug}}, found "{value}"'
    if not value.startswith("/") or not value.endswith("/"):
        return f'a pattern that starts and ends with "/", found "{value}"'
    return None


LANGUAGE_TAG = r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*"  # a BCP 47 tag as sites write them: "en", "pt-BR", "zh-Hans" (also for articles' lang)


def _language(value: Any) -> str | None:
    return None if re.fullmatch(LANGUAGE_TAG, value) else f'a language tag such as "en" or "pt-BR", found "{value}"'


def _link(value: Any) -> str | None:
    """A site path ("/about/") or an http(s) URL; "" for none."""
    if not value or (value.startswith("/") and not value.startswith("//") and " " not in value) or check_base_url(value) is None:
        return None
    return f'a site path such as "/about/" or an http(s) URL, found "{value}"'


def _contact(value: Any) -> str | None:
    """An email address or an http(s) URL; "" for none."""
    if not value or re.fullmatch(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+", value) or check_base_url(value) is None:
        return None
    return f'an email address or an http(s) URL, found "{value}"'


@dataclass(frozen=True)
class AuthorInfo:
    key: str
    name: str
    bio: str = ""
    url: str = ""  # the author's own page elsewhere, if any
    image: str = ""  # a site path or an http(s) URL


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
    story_window_days: int = option(4, "Reports at most this many days apart may be found to be one story; 0 groups only by `story:` id.", _at_least(0))
    story_similarity: int = option(
        32,
        "How alike (0-100, cosine of rare words, tags and sources) two reports must be to be found one story.",
        lambda v: None if 1 <= v <= 100 else f"a whole number from 1 to 100, found {v}",
    )
    permalink: str = option("/{topic}/{slug}/", "Article URL pattern from {topic}, {slug}, {year}, {month}, {day}.", _permalink)
    allow_html: bool = option(False, "Pass raw HTML in article bodies through a sanitizer instead of escaping it.")
    feed_items: int = option(20, "Newest entries in each feed (site, topic, tag).", _at_least(1))
    feed_full_content: bool = option(True, "Put each article's full body in feeds; false sends only the summary.")
    share_images: bool = option(True, "Draw a 1200x630 share image for each article that names no image.")
    search: bool = option(True, "Index the articles with Pagefind and add a search box and a /search/ page; false leaves them out.")
    markdown_engine: str = option(
        "auto", "Markdown engine: rust (markdown-it-pyrs, fast), python (markdown-it-py) or auto (rust when installed).", key="markdown"
    )
    editions: tuple[str, ...] = option(
        ("daily",), "Digest editions to publish, on the web and for email: a list of daily, weekly (an empty list publishes none)."
    )
    topics: tuple[TopicInfo, ...] = option((), "Mapping of topic slug to {name, description}; its order is the display order.")
    header_links: tuple[tuple[str, str], ...] = option((), "Header links: `{label: URL}` (a site path or http(s) URL).")
    footer_links: tuple[tuple[str, str], ...] = option((), "Footer links, as `header_links`.")
    standards_url: str = option("", "Editorial standards page (path or URL), linked from reporting notes.", _link)
    corrections_policy_url: str = option("", "Corrections policy page (path or URL).", _link)
    report_errors: str = option("", "Email or URL to report an error, shown on articles.", _contact)
    authors: tuple[AuthorInfo, ...] = option((), "Mapping of author key to {name, bio, url, image}.")
    labels: tuple[tuple[str, str], ...] = option((), "Translations `{English label: text}` over the bundled ones.")
    path: str = "site.yaml"

    def author(self, name: str) -> AuthorInfo | None:
        """The author of site.yaml's ``authors`` whose key is *name*, or None for a free-form byline."""
        return self.authors_by_key.get(name)

    @functools.cached_property
    def authors_by_key(self) -> dict[str, AuthorInfo]:  # asked for each article's byline by feeds and pages: made once
        return {a.key: a for a in self.authors}

    def output_folder(self, override: Path | None = None) -> Path:
        """Where the site is written: *override* (``--output``) when given, else ``output_dir`` in the site folder."""
        return override if override is not None else self.root / self.output_dir

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under: ``/`` or ``/digest/``."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def report_errors_href(self) -> str:
        """Where ``report_errors`` links: its URL as written, or ``mailto:`` an email address."""
        return self.report_errors if "://" in self.report_errors else "mailto:" + self.report_errors


OPTIONS = {f.metadata["key"] or f.name: f for f in fields(SiteConfig) if f.metadata}  # site.yaml key -> its SiteConfig field


def load_config(root: Path) -> tuple[SiteConfig, list[Problem]]:
    """Read ``root/site.yaml``; a missing file gives the defaults and a warning, a missing folder a usage error."""
    if not root.is_dir():  # a mistyped --source: say so, not that content/ has no articles
        found = "a file" if root.exists() else "nothing there"
        raise UsageError(f"{root}: expected a site folder (with site.yaml and content/), found {found}")
    path = root / "site.yaml"
    shown = "site.yaml"
    if path.exists() and not path.is_file():
        return SiteConfig(root=root), [error(shown, 0, "expected site.yaml to be a file, found a folder or a special file")]
    if path.is_symlink() and not path.exists():  # meant as the settings: the defaults would publish another site
        return SiteConfig(root=root), [error(shown, 0, f"expected site.yaml to be a file, found a link to a missing file ({os.readlink(path)})")]
    if not path.is_file():
        return SiteConfig(root=root), [warning(shown, 0, "no site.yaml found; using default settings")]
    try:
        text = (raw := path.read_bytes()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # the same words as an article's (digest.content.split_file)
        line = raw[: exc.start].count(b"\n") + 1
        return SiteConfig(root=root), [error(shown, line, f"expected UTF-8 text, found the byte 0x{raw[exc.start]:02x} that is not valid UTF-8")]
    except OSError as exc:
        return SiteConfig(root=root), [error(shown, 0, f"cannot read the file ({exc.strerror})")]
    entries, problems = load_mapping(text, shown, 1)
    values, more = validate_config(entries or {}, shown)  # None: not a mapping, already a problem
    return SiteConfig(root=root, **values), problems + more


def setting_lines(config: SiteConfig) -> dict[str, int]:
    """The line of each site.yaml key as load_config reads it ({} when unreadable), for warnings about settings found later."""
    try:
        text = (config.root / config.path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    entries, _ = load_mapping(text, config.path, 1)
    return {key: entry.line for key, entry in (entries or {}).items()}


# What other generators (Hugo, Jekyll, Pelican, Zola) call a setting: a migrated site.yaml's names get the right hint.
ELSEWHERE = {
    "url": "base_url", "siteurl": "base_url", "sitename": "title", "languagecode": "language", "defaultcontentlanguage": "language",
    "default_lang": "language", "paginate": "per_page", "pagination": "per_page", "default_pagination": "per_page", "permalinks": "permalink",
    "article_url": "permalink", "publishdir": "output_dir", "destination": "output_dir", "output_path": "output_dir",
}  # fmt: skip


def validate_config(entries: dict[str, Entry], shown: str) -> tuple[dict[str, Any], list[Problem]]:
    """Check each key against :data:`OPTIONS`; return constructor arguments."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, entry in entries.items():
        opt = OPTIONS.get(key)
        if opt is None:
            problems.append(warning(shown, entry.line, f'unknown setting "{key}"{did_you_mean(key, list(OPTIONS), ELSEWHERE)}; it is ignored'))
            continue
        if entry.broken:  # unreadable: reported when it was read
            continue
        value = entry.value
        read = READERS.get(key)
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
    at = dict(zip(value, entry.item_lines, strict=False))  # the line of each key under markdown:
    problems = [p for key in value for p in unknown_keys(shown, at.get(key, line), "markdown", [key], ["engine"])]
    engine: str | None = value.get("engine")
    line = at.get("engine", line)
    if engine is not None and engine not in MARKDOWN_ENGINES:
        problems.append(error(shown, line, f"markdown.engine: expected one of {', '.join(MARKDOWN_ENGINES)}, found {describe(engine)}"))
        engine = None
    if engine == "rust" and importlib.util.find_spec("markdown_it_pyrs") is None:
        problems.append(
            error(shown, line, "markdown.engine: rust needs the markdown-it-pyrs package (pip install -r requirements.txt), found it not installed")
        )
        engine = None
    return engine, problems


def _read_editions(entry: Entry, shown: str) -> tuple[tuple[str, ...] | None, list[Problem]]:
    """The kinds of ``editions: [daily, weekly]``, in their order of :data:`EDITION_KINDS`."""
    value, kinds = entry.value, ", ".join(EDITION_KINDS)
    if not isinstance(value, list):
        return None, [error(shown, entry.line, f"editions: expected a list of {kinds}, found {describe(value)}")]
    if unknown := [(item, line) for item, line in zip(value, entry.item_lines or (entry.line,) * len(value), strict=False) if item not in EDITION_KINDS]:
        (item, line), hint = unknown[0], did_you_mean(str(unknown[0][0]), list(EDITION_KINDS))
        return None, [error(shown, line, f"editions: expected a list of {kinds}, found {describe(item)}{hint}")]
    return tuple(kind for kind in EDITION_KINDS if kind in value), []


def _read_links(entry: Entry, shown: str, key: str) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    """``header_links`` or ``footer_links``: ``{label: URL}``, in order."""
    if not isinstance(entry.value, dict):
        return (), [error(shown, entry.line, f"{key}: expected a mapping of label to URL such as {{About: /about/}}, found {describe(entry.value)}")]
    links: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for (label, url), where in zip(entry.value.items(), entry.item_lines, strict=False):
        bad = f"text, found {describe(url)}" if not isinstance(url, str) else _link(url) if url else 'a URL, found ""'
        if bad and isinstance(url, str) and url.startswith("mailto:") and _contact(url.removeprefix("mailto:")) is None:
            bad = None  # a footer's "Contact" link
        if bad:
            problems.append(error(shown, where, f"{key}.{label}: expected {bad}"))
        else:
            links.append((str(label), url))
    return tuple(links), problems


def _read_labels(entry: Entry, shown: str) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    """``labels``: ``{English label: translation}``."""
    if not isinstance(entry.value, dict):
        return (), [error(shown, entry.line, f"labels: expected a mapping of English label to translation, found {describe(entry.value)}")]
    labels: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for (label, text), where in zip(entry.value.items(), entry.item_lines, strict=False):
        if not isinstance(text, str) or not text.strip():
            problems.append(error(shown, where, f'labels."{label}": expected the translation as text, found {describe(text)}'))
        elif unknown := set(re.findall(r"{([^{}]*)}", text)) - set(re.findall(r"{([^{}]*)}", str(label))):
            problems.append(error(shown, where, f'labels."{label}": expected only the placeholders of the label, found {{{sorted(unknown)[0]}}}'))
        else:
            labels.append((str(label), text))
    return tuple(labels), problems


AUTHOR_KEYS = ["name", "bio", "url", "image"]


def _read_authors(entry: Entry, shown: str) -> tuple[tuple[AuthorInfo, ...], list[Problem]]:
    """``authors: {key: {name, bio, url, image}}``."""
    if not isinstance(entry.value, dict):
        return (), [error(shown, entry.line, f"authors: expected a mapping of author key to {{name, bio, url, image}}, found {describe(entry.value)}")]
    authors: list[AuthorInfo] = []
    problems: list[Problem] = []
    for (key, info), where in zip(entry.value.items(), entry.item_lines, strict=False):
        slug = make_slug(str(key))
        info = {"name": info} if isinstance(info, str) else info
        if not slug or slug != str(key):
            problems.append(
                error(shown, where, f'authors: expected a key of lowercase letters, digits and hyphens such as "{slug or "jane-doe"}", found "{key}"')
            )
            continue
        if not isinstance(info, dict) or not isinstance(info.get("name"), str) or not info["name"].strip():
            problems.append(error(shown, where, f"authors.{key}: expected {{name, bio, url, image}} with a name, found {describe(info)}"))
            continue
        problems += unknown_keys(shown, where, f"authors.{key}", info, AUTHOR_KEYS)
        values = {k: info.get(k) or "" for k in AUTHOR_KEYS}
        bad = next((f"{k}: expected text, found {describe(v)}" for k, v in values.items() if not isinstance(v, str)), None)
        bad = bad or next((f"{k}: expected {why}" for k in ("url", "image") if (why := _link(values[k]))), None)
        if bad:
            problems.append(error(shown, where, f"authors.{key}.{bad}"))
            continue
        authors.append(AuthorInfo(key=slug, **{k: " ".join(v.split()) for k, v in values.items()}))
    return tuple(authors), problems


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
        problems += unknown_keys(shown, where, f"topics.{key}", info, ["name", "description"])
        name, description = info.get("name", str(key).replace("-", " ").title()), info.get("description", "")
        if not isinstance(name, str) or not isinstance(description, str):
            odd = name if not isinstance(name, str) else description
            problems.append(error(shown, where, f"topics.{key}: expected text for name and description, found {describe(odd)}"))
            continue
        topics.append(TopicInfo(slug=slug, name=name, description=description))
        lines[slug] = where
    return tuple(topics), problems


READERS: dict[str, Callable[[Entry, str], tuple[Any, list[Problem]]]] = {  # the settings that are not one plain value
    "topics": _read_topics,
    "markdown": _read_markdown,
    "editions": _read_editions,
    "authors": _read_authors,
    "labels": _read_labels,
    "header_links": lambda entry, shown: _read_links(entry, shown, "header_links"),
    "footer_links": lambda entry, shown: _read_links(entry, shown, "footer_links"),
}


def options_table() -> str:
    """The README's table of site.yaml settings, from :data:`OPTIONS`."""
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    for key, opt in OPTIONS.items():
        default: Any = opt.default
        default = f"{{engine: {default}}}" if key == "markdown" else f"[{', '.join(default)}]" if key == "editions" else default
        shown = "(none)" if default in ((), "") else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        rows.append(f"| `{key}` | {shown} | {opt.metadata['doc']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(options_table())
