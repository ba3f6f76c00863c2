"""Every front-matter field, declared once, and the checks that turn a front-matter mapping into an :class:`Article`.

Used by the content stage (:mod:`digest.content`). :data:`FIELDS` drives
validation, the "did you mean" hint for unknown keys and the README table
(``python -m digest.content``). Every problem is located as ``path:line``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

from .config import LANGUAGE_TAG, SiteConfig
from .errors import Problem, did_you_mean, error, unknown_keys, warning
from .slugs import make_slug, slug_or_hash
from .yamlmap import Entry, describe

MARKDOWN_SUFFIXES = (".md", ".markdown")
REVIEW_STATUSES = {
    "human-reviewed": ("Human reviewed", "An editor checked this story against its sources before publishing."),
    "ai-assisted": ("AI-assisted, editor approved", "Drafted with AI help; an editor reviewed and approved it."),
    "ai-generated": ("AI-generated", "Written by an AI system and published without an editor's review."),
    "unreviewed": ("Not yet reviewed", "Nobody has checked this story against its sources yet."),
}
MAX_ARTICLE_BYTES = 2_000_000  # Markdown renders at roughly 3 s per MB; no news story is longer
MAX_TAG = 100  # characters: a tag is in every feed and page of its article's
RTL_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku", "ps", "sd", "syr", "ug", "ur", "yi"}
RTL_SCRIPTS = {"adlm", "arab", "hebr", "mand", "nkoo", "rohg", "samr", "syrc", "thaa"}  # ISO 15924, as a tag's script subtag


def text_direction(language: str) -> str:
    """``rtl`` for a right-to-left language or script (``ku`` and ``pa-Arab``, not ``ku-Latn``), else ``ltr``."""
    primary, *rest = language.lower().split("-")
    script = next((part for part in rest if len(part) == 4 and part.isalpha()), "")
    return "rtl" if (script in RTL_SCRIPTS if script else primary in RTL_LANGUAGES) else "ltr"


class Source(NamedTuple):
    """One source an article rests on; ``outlet`` keys the outlet (its host). A named tuple: it unpickles faster than a dataclass."""

    url: str
    name: str
    official: bool
    outlet: str


class Correction(NamedTuple):
    """A dated note of what was wrong in an article and was fixed."""

    date: datetime
    text: str


@dataclass(frozen=True)
class Article:
    """One article's front matter, validated. Its Markdown body is not kept here: the markdown stage reads it (:func:`digest.content.read_body`)."""

    path: str  # relative to the site folder, with forward slashes
    slug: str
    topic: str
    url: str  # site-relative URL path, e.g. /business/some-story/
    title: str
    date: datetime
    updated: datetime | None
    tags: tuple[str, ...]
    sources: tuple[Source, ...]
    confidence: int | None
    confidence_label: str
    review: str
    model: str
    summary: str  # the front matter's, else (once bodies are rendered: digest.site.load_site) the body's first paragraph
    why_it_matters: tuple[str, ...]
    story: str
    author: str
    lang: str
    draft: bool
    body_line: int  # file line on which the Markdown body starts
    image: str = ""  # share image: an http(s) URL or a site path; "" for a generated one
    expires: datetime | None = None  # after this moment the article leaves lists and feeds
    expired: bool = False  # set when loaded: expires is at or before the build's "now"
    corrections: tuple[Correction, ...] = ()  # oldest first
    lede: str = ""  # the front matter's summary alone, which the page shows above the body
    hash: bytes = field(default=b"", repr=False, compare=False)  # of the file's bytes and the settings it was parsed with
    meta_hash: bytes = field(default=b"", repr=False, compare=False)  # of the front matter alone: what the index reads
    key_lines: tuple[tuple[str, int], ...] = field(default=(), repr=False, compare=False)  # each front-matter key's line, for later stages

    @property
    def dir(self) -> str:
        """``rtl`` for right-to-left languages, else ``ltr``."""
        return text_direction(self.lang)

    @property
    def official_count(self) -> int:
        return sum(1 for s in self.sources if s.official)

    @property
    def review_label(self) -> str:
        return REVIEW_STATUSES[self.review][0]

    @property
    def review_note(self) -> str:
        return REVIEW_STATUSES[self.review][1]

    @property
    def last_modified(self) -> datetime:
        """The date, the update or the latest correction, whichever is newest."""
        return max(self.updated or self.date, self.corrections[-1].date) if self.corrections else self.updated or self.date


class _Invalid(ValueError):
    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")  # \s is exactly str.isspace()
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")  # C0 controls but tab and line breaks, DEL, and what XML forbids


def check_url(url: str) -> str | None:
    """Why *url* is not an acceptable http(s) source link, or None."""
    text = url.strip()
    if _SPACE_OR_CONTROL.search(text):
        return f'expected a URL without spaces or control characters, found "{text[:80]}"'
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. "https://[::1/x": Invalid IPv6 URL
        return f'expected a well-formed URL, found "{text[:80]}" ({exc})'
    if parts.scheme.lower() not in ("http", "https"):
        return f'expected an http:// or https:// URL, found "{text[:80]}"'
    if not parts.hostname:
        return f'expected a URL with a host name, found "{text[:80]}"'
    return None


def _one_text(value: Any, expected: str, line: int = 0) -> str:
    """*value* as text with its spaces collapsed; no headline or name needs a control character (tab and line breaks aside)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid(f"expected {expected}, found {describe(value)}", line)
    text = str(value)
    if found := CONTROL.search(text):
        raise _Invalid(f'expected text without control characters, found \\x{ord(found[0]):02x} in "{text[:80]}"', line)
    return " ".join(text.split())


def _text(value: Any, entry: Entry, checker: FrontMatter) -> str:
    return _one_text(value, "text")


def _text_required(value: Any, entry: Entry, checker: FrontMatter) -> str:
    text = _text(value, entry, checker)
    if not text:
        raise _Invalid("expected text, found an empty value")
    return text


def _text_list(value: Any, entry: Entry, checker: FrontMatter) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list):
        raise _Invalid(f"expected a list of text items, found {describe(value)}")
    lines = entry.item_lines or (entry.line,) * len(value)
    return tuple(filter(None, (_one_text(item, "text for each item", line) for item, line in zip(value, lines, strict=True))))


def outlet_host(url: str) -> str:
    """A source URL's outlet: its host without "www.", in Unicode (``xn--bcher-kva.example`` is ``bücher.example``)."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    try:
        return host.encode("ascii").decode("idna") if "xn--" in host else host
    except UnicodeError:  # not a valid encoded name: kept as written
        return host


def _tags(value: Any, entry: Entry, checker: FrontMatter) -> tuple[str, ...]:
    tags = _text_list(value.split(",") if isinstance(value, str) else value, entry, checker)
    if not tags:
        raise _Invalid("expected at least one tag, found an empty list")
    if long := next((tag for tag in tags if len(tag) > MAX_TAG), None):
        raise _Invalid(f'expected tags of at most {MAX_TAG} characters, found one of {len(long)}: "{long[:40]}..."')
    unique: dict[str, str] = {}
    for tag in tags:
        unique.setdefault(tag_key(tag), unicodedata.normalize("NFC", tag))  # "é" typed as e and an accent is "é"
    return tuple(unique.values())


@lru_cache(maxsize=4096)  # the same few hundred tags, looked up by content, index and pages
def tag_key(tag: str) -> str:
    """A tag's identity: case, runs of spaces and hyphens ("GPT-5" is "gpt 5", not "GPT5") and how an accent is encoded do not count."""
    return unicodedata.normalize("NFC", " ".join(tag.replace("-", " ").split()).casefold())


def _confidence(value: Any, entry: Entry, checker: FrontMatter) -> tuple[int | None, str]:
    if isinstance(value, str) and (word := value.strip().lower()) in ("high", "medium", "low"):
        return None, word.title()
    if (isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value)) or (isinstance(value, float) and value.is_integer()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected a score from 0 to 100 or one of high, medium, low, found {describe(value)}")
    if not 0 <= value <= 100:
        raise _Invalid(f"expected a score from 0 to 100, found {value}")
    return value, "High" if value >= 75 else "Medium" if value >= 50 else "Low"


def _review(value: Any, entry: Entry, checker: FrontMatter) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if text not in REVIEW_STATUSES:
        hint = did_you_mean(text, list(REVIEW_STATUSES), {"reviewed": "human-reviewed"})
        raise _Invalid(f"expected one of {', '.join(REVIEW_STATUSES)}, found {describe(value)}{hint}")
    return text


def _slug_value(value: Any, entry: Entry, checker: FrontMatter) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise _Invalid(f"expected a short name of letters, digits and hyphens, found {describe(value)}")
    return slug_or_hash(str(value), "id")


def _lang(value: Any, entry: Entry, checker: FrontMatter) -> str:
    if not isinstance(value, str) or not re.fullmatch(LANGUAGE_TAG, value.strip()):
        raise _Invalid(f'expected a language tag such as "en", "ar" or "zh-Hans", found {describe(value)}')
    return value.strip()


def _bool(value: Any, entry: Entry, checker: FrontMatter) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, found {describe(value)}")
    return value


def _sources(value: Any, entry: Entry, checker: FrontMatter) -> tuple[Source, ...]:
    if isinstance(value, (str, dict)):
        return checker.read_sources([value], (entry.line,))
    if not isinstance(value, list) or not value:
        raise _Invalid(f"expected a list of one or more URLs or {{url, name, official}} mappings, found {describe(value)}")
    return checker.read_sources(value, entry.item_lines)


def _image(value: Any, entry: Entry, checker: FrontMatter) -> str:
    """An http(s) URL as is; a local path as a site path (checked to exist by :func:`check_images`)."""
    text = _text(value, entry, checker)
    if "://" in text:
        if bad := check_url(text):
            raise _Invalid(bad)
        return text
    if not text or any(ch.isspace() for ch in text) or ".." in text.split("/"):
        raise _Invalid(f'expected an http(s) URL or a path such as "/img/card.png", found "{text[:80]}"')
    if text.startswith("/"):
        return text
    # a relative path names a file beside the article (content assets keep their folders); "./" and "//" are dropped
    return "/" + PurePosixPath(*PurePosixPath(checker.shown).parts[1:-1], text).as_posix()


def _date(value: Any, entry: Entry, checker: FrontMatter) -> datetime:
    """A YAML date, date-time or ISO text as an aware date-time (site zone by default)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text or " " in text or ":" in text else date.fromisoformat(text)
        except ValueError:
            raise _Invalid(f'expected a date such as 2026-04-30 or 2026-04-30T18:20:00-07:00, found "{text[:60]}"') from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    if not isinstance(value, datetime):
        raise _Invalid(f"expected a date such as 2026-04-30, found {describe(value)}")
    moment: datetime = value if value.tzinfo is not None else value.replace(tzinfo=checker.config.tz)  # no offset written: the site's zone
    if not 1 < moment.year < 9999:  # shown in every zone, the first and last days of the calendar fall off it
        raise _Invalid(f"expected a date from the year 2 to 9998, found {moment.date()}")
    offset = moment.utcoffset()
    # Before time zones, a zone's offset was local mean time (-07:52:58 in Los Angeles), which
    # RFC 3339 (feeds, sitemaps) cannot write: the same moment in UTC can.
    return moment.astimezone(UTC) if offset is not None and offset.seconds % 60 else moment


def _corrections(value: Any, entry: Entry, checker: FrontMatter) -> tuple[Correction, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"expected a list of {{date, text}} mappings, found {describe(value)}")
    found: list[Correction] = []
    for item, line in zip(value, entry.item_lines or (entry.line,) * len(value), strict=True):
        if not isinstance(item, dict):
            checker.fail(line, f"corrections: expected a {{date, text}} mapping, found {describe(item)}")
            continue
        checker.problems += unknown_keys(checker.shown, line, "corrections", item, ["date", "text"])
        try:
            if item.get("date") is None:
                raise _Invalid("expected a date such as 2026-05-02 for each correction, found none")
            moment = _date(item["date"], entry, checker)
            text = _one_text(item.get("text"), "the correction as text") if item.get("text") is not None else ""
            if not text:
                raise _Invalid("expected the text of the correction, found none")
            found.append(Correction(moment, text))
        except _Invalid as bad:
            checker.fail(line, f"corrections: {bad}")
    return tuple(sorted(found))


@dataclass(frozen=True)
class Field:
    name: str
    doc: str
    required: bool = False
    read: Callable[[Any, Entry, FrontMatter], Any] | None = None  # None: read by FrontMatter itself
    default: Any = None


FIELDS: tuple[Field, ...] = (
    Field("title", "Headline of the story.", True, _text_required),
    Field("date", "Publication date (`2026-04-30`) or date-time (`2026-04-30T18:20:00-07:00`); the site time zone applies when none is given.", True, _date),
    Field("updated", "Date or date-time of the last substantive update; shown beside the date.", False, _date),
    Field("topic", "Topic slug; defaults to the folder the file is in (`content/<topic>/`)."),
    Field("tags", "List of tags (`[OpenAI, agents]`). Case, spaces and hyphens do not matter: `GPT-5` and `gpt 5` are one tag.", True, _tags, ()),
    Field("sources", "List of sources: URL strings or `{url, name, official}` mappings. `official: true` marks a primary source (filing, company post).", True),
    Field("source", "A single source URL; shorthand for a one-item `sources` list."),
    Field("confidence", "How sure the desk is: a score 0-100, or `high`, `medium`, `low`.", True, _confidence, (None, "")),
    Field("review", "Review status: `human-reviewed`, `ai-assisted`, `ai-generated` or `unreviewed` (default).", False, _review, "unreviewed"),
    Field("model", "The AI model that drafted or analysed the story, if any.", False, _text, ""),
    Field("summary", "One or two sentences for lists, feeds and meta tags; defaults to the body's first paragraph.", False, _text, ""),
    Field("why_it_matters", "List of short points shown in a 'Why it matters' box.", False, _text_list, ()),
    Field("story", "Story id: reports of one event share a full-coverage page; without it, found by likeness. `none`: never grouped.", False, _slug_value, ""),
    Field("author", "Byline: a key of `authors` in site.yaml, or a name.", False, _text, ""),
    Field("slug", "URL name of the article; defaults to the file name (a folder's `index.md`: the folder's name).", False, _slug_value, ""),
    Field("lang", "Language tag of the article when it differs from the site's (`ar`, `zh`); sets `lang` and `dir`.", False, _lang, ""),
    Field("draft", "`true` keeps the article out of the published site.", False, _bool, False),
    Field("image", "Share image (PNG, JPEG, GIF, WebP): an http(s) URL, a site path or a file beside the article; default: a card.", False, _image, ""),
    Field("corrections", "List of `{date, text}` corrections.", False, _corrections, ()),
    Field("expires", "Date or date-time after which the article leaves lists and feeds; its page stays, marked as expired.", False, _date),
)
KNOWN = [f.name for f in FIELDS]
# What other generators' front matter (Hugo, Jekyll, Pelican) calls a field: a migrated article's names get the right hint.
ELSEWHERE = {
    "lastmod": "updated", "modified": "updated", "last_modified": "updated", "description": "summary", "excerpt": "summary",
    "subtitle": "summary", "categories": "topic", "category": "topic", "section": "topic", "featured_image": "image", "cover": "image",
    "thumbnail": "image", "images": "image", "publishdate": "date", "pubdate": "date", "published": "date", "authors": "author",
    "keywords": "tags", "expirydate": "expires", "expirationdate": "expires", "language": "lang", "url": "slug", "permalink": "slug",
}  # fmt: skip
REQUIRED = frozenset(f.name for f in FIELDS if f.required)


@dataclass
class FrontMatter:
    """Validates one article's entries, collecting every problem."""

    config: SiteConfig
    shown: str
    entries: dict[str, Entry]
    front_line: int
    problems: list[Problem] = field(default_factory=list)

    def fail(self, line: int, message: str) -> None:
        self.problems.append(error(self.shown, line, message))

    def get(self, key: str, read: Callable[[Any, Entry, FrontMatter], Any], default: Any = None) -> Any:
        entry = self.entries.get(key)
        if entry is None or entry.value is None:  # a broken value is None too, and already reported
            if key in REQUIRED and entry is None:
                self.fail(self.front_line - 1, f'missing required field "{key}"')
            elif key in REQUIRED and entry is not None and not entry.broken:  # "confidence:" with nothing after it
                self.fail(entry.line, f"{key}: expected a value, found an empty value")
            return default
        try:
            return read(entry.value, entry, self)
        except _Invalid as bad:
            self.fail(bad.line or entry.line, f"{key}: {bad}")
            return default

    def build(self, body_line: int) -> Article | None:
        for key, entry in self.entries.items():
            if key not in KNOWN:
                self.problems.append(warning(self.shown, entry.line, f'unknown field "{key}"{did_you_mean(key, KNOWN, ELSEWHERE)}; it is ignored'))
        values = {f.name: self.get(f.name, f.read, f.default) for f in FIELDS if f.read is not None}
        self._check_author(values["author"])
        if len(values["tags"]) > self.config.max_tags:
            self.fail(self.entries["tags"].line, f"tags: expected at most {self.config.max_tags} tags (max_tags in site.yaml), found {len(values['tags'])}")
        sources = self._sources()
        topic = self._topic()
        values["lang"] = values["lang"] or self.config.language
        file = PurePosixPath(self.shown)
        bundle = file.stem == "index" and len(file.parts) > 3  # content/<topic>/<name>/index.md, its files beside it: named by its folder
        slug = values.pop("slug") or make_slug(file.parent.name if bundle else file.stem)
        if not slug:
            self.fail(self.front_line - 1, f'expected a file name with letters or digits to make the URL slug, found "{file.name}"; set "slug:"')
        published, updated, expires = values["date"], values["updated"], values["expires"]
        if published is not None:  # str(date) is its ISO form

            def wrong(moment: datetime) -> tuple[str, str]:  # (publication, moment) as days, or as times when their days alone do not differ
                both = (published.isoformat(), moment.isoformat()) if moment.date() >= published.date() else (str(published.date()), str(moment.date()))
                return f"after the publication date {both[0]}", both[1]

            def day_of(moment: datetime) -> datetime:  # a date written without a time, on the publication's day, means that day
                local = moment.astimezone(self.config.tz)
                return published if local.time() == time(0) and local.date() == published.astimezone(self.config.tz).date() else moment

            if updated is not None and (updated := day_of(updated)) < published:
                self.fail(self.entries["updated"].line, "updated: expected a date on or {}, found {}".format(*wrong(updated)))
            values["updated"] = updated
            values["corrections"] = tuple(Correction(day_of(c.date), c.text) for c in values["corrections"])
            for correction in values["corrections"]:
                if correction.date < published:
                    self.fail(self.entries["corrections"].line, "corrections: expected dates on or {}, found {}".format(*wrong(correction.date)))
            if expires is not None and expires <= published:
                self.fail(self.entries["expires"].line, "expires: expected a date {}, found {}".format(*wrong(expires)))
        if any(p.is_error for p in self.problems) or values["title"] is None or published is None or topic is None:
            return None
        score, label = values.pop("confidence")
        day = {"year": f"{published.year:04d}", "month": f"{published.month:02d}", "day": f"{published.day:02d}"}
        url = self.config.permalink.format(topic=topic, slug=slug, **day)
        return Article(
            path=self.shown,
            slug=slug,
            topic=topic,
            url=url,
            sources=sources,
            confidence=score,
            confidence_label=label,
            body_line=body_line,
            lede=values["summary"],
            key_lines=tuple((key, entry.line) for key, entry in self.entries.items()),
            **values,
        )

    def _check_author(self, author: str) -> None:
        """A byline that looks like a key of site.yaml's ``authors`` but is none: a warning naming the closest key."""
        keys = [a.key for a in self.config.authors]
        if keys and author not in keys and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+|[a-z0-9]+", author):
            hint = did_you_mean(author, keys) or f" (keys: {', '.join(keys[:5])})"
            self.problems.append(
                warning(self.shown, self.entries["author"].line, f'author: expected a key of authors in site.yaml, found "{author}"{hint}; shown as a name')
            )

    def _topic(self) -> str | None:
        entry = self.entries.get("topic")
        if entry is not None and entry.value is not None:
            slug = make_slug(entry.value) if isinstance(entry.value, str) else ""
            if not slug:
                self.fail(entry.line, f'topic: expected a topic slug such as "policy", found {describe(entry.value)}')
            elif slug == "pages":
                self.fail(entry.line, 'topic: expected a topic slug other than "pages", found "pages" (content/pages/ holds standalone pages)')
                return None
            return slug or None
        parts = self.shown.split("/")
        slug = make_slug(parts[1]) if len(parts) >= 3 else ""  # content/<topic>/.../file.md
        if not slug:
            self.fail(self.front_line - 1, 'missing "topic": expected the file in a content/<topic>/ folder or a "topic:" field')
        return slug or None

    def _sources(self) -> tuple[Source, ...]:
        one = self.entries.get("source")
        if one is None:
            return cast(tuple[Source, ...], self.get("sources", _sources, ()))
        if "sources" in self.entries:
            self.fail(one.line, 'source: expected either "source" or "sources", found both')
            return ()
        if not isinstance(one.value, str):
            if not one.broken:  # an unreadable value was reported when it was read
                self.fail(one.line, f"source: expected one URL as text, found {describe(one.value)}")
            return ()
        return self.read_sources([one.value], (one.line,))

    def read_sources(self, items: list[Any], lines: tuple[int, ...]) -> tuple[Source, ...]:
        sources: list[Source] = []
        first_on: dict[str, int] = {}  # URL -> the line that listed it
        for item, line in zip(items, lines, strict=True):
            url, name, official = item, "", False
            if isinstance(item, dict):
                self.problems += unknown_keys(self.shown, line, "sources", item, ["url", "name", "official"])
                url, name, official = item.get("url"), item.get("name") or "", item.get("official", False)
            if not isinstance(name, str):
                problem: str | None = f"expected the name as text, found {describe(name)}"
            elif CONTROL.search(name):
                problem = f'expected a name without control characters, found "{name[:80]}"'
            elif not isinstance(official, bool):
                problem = f"expected official to be true or false, found {describe(official)}"
            elif not isinstance(url, str):
                problem = f"expected a URL as text, found {describe(url)}"
            else:
                problem = check_url(url)
            if problem:
                self.fail(line, f"sources: {problem}")
                continue
            if url.strip() in first_on:  # counted once: "sources reviewed" must not grow by a copy
                self.problems.append(
                    warning(self.shown, line, f"sources: expected each source once, found {url.strip()} again (first on line {first_on[url.strip()]})")
                )
                continue
            first_on[url.strip()] = line
            host = outlet_host(url)
            sources.append(Source(url=url.strip(), name=" ".join(name.split()) or host, official=official, outlet=host))
        return tuple(sources)
