"""Editions: the daily and weekly digest, as web pages, email copies and feeds.

In: ``SiteConfig`` and ``SiteIndex``. Out: :class:`Edition` values (one per
day with published articles, in the site's time zone, and one per ISO week,
as ``editions`` in site.yaml asks), their pages for the page plan, and the
bytes of their email copies (``email.html`` with its CSS inlined by
css-inline, ``email.txt``) and of the editions feeds. Nothing touches the disk.

An edition shows stories, not reports: the reports of one story (the same
``story`` id) appear once, under their lead report, with their count.
"""

from __future__ import annotations

import bisect
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from babel.dates import format_date, format_skeleton

from .config import SiteConfig
from .errors import UsageError
from .feeds import EPOCH, Feed, FeedLink, atom_feed, json_feed, rfc3339, tag_uri
from .i18n import babel_locale, primary, translator
from .images import share_image_url
from .index import MONTH_NAMES, Ref, SiteIndex
from .memo import hash_of, hash_value
from .pages import Crumb, Page
from .render import SiteUrls, fill_template, make_environment
from .schema import Article

EMAIL_LIMIT = 100_000  # bytes: past about 102 KB, common mail clients clip a message
KIND_NAMES = {"daily": "Daily edition", "weekly": "Weekly edition"}
KIND_GROUPS = {"daily": "Daily editions", "weekly": "Weekly editions"}


@dataclass(frozen=True)
class EditionStory:
    article: Article  # the lead report: its headline, summary, why it matters, marks and link
    count: int  # reports of the story in this edition
    story: Ref | None  # the story's page, for an article that names a story


@dataclass(frozen=True)
class EditionTopic:
    topic: Ref
    stories: tuple[EditionStory, ...]  # most reports first, then newest


@dataclass(frozen=True)
class Edition:
    kind: str  # "daily" or "weekly"
    key: str  # 2026-03-30 or 2026-W14
    name: str  # March 30, 2026 or Week 14, 2026 (March 30 – April 5)
    url: str  # /editions/2026/03/30/ or /editions/2026/w14/
    first: date  # the first day it covers, in the site's time zone
    topics: tuple[EditionTopic, ...]  # in the site's topic order
    articles: tuple[Article, ...]  # every report it covers, newest first
    title: str = ""  # Daily edition: March 30, 2026, in the site's language
    counts: str = ""  # 3 stories from 4 reports, in the site's language

    @property
    def story_count(self) -> int:
        return sum(len(t.stories) for t in self.topics)

    @property
    def email_html(self) -> str:
        return self.url + "email.html"

    @property
    def email_text(self) -> str:
        return self.url + "email.txt"


@dataclass(frozen=True)
class EditionsFeedLink(FeedLink):
    """The feed of one kind of edition, ``/editions/daily.xml``; its HTML page is the editions index."""

    kind: str = "daily"

    @property
    def atom(self) -> str:
        return f"{self.base}{self.kind}.xml"

    @property
    def json(self) -> str:
        return f"{self.base}{self.kind}.json"


class Names:
    """How editions are named in the site's language: in English "March 30, 2026", in others as Babel writes a date
    there ("30 mars 2026"); the words through the site's labels."""

    def __init__(self, config: SiteConfig | None = None) -> None:
        english = config is None or primary(config.language) == "en"
        self.t: Callable[..., str] = translator(config) if config is not None else (lambda label, **values: label.format(**values))
        self.locale = None if english or config is None else babel_locale(config.language)

    def day(self, day: date) -> str:
        return f"{MONTH_NAMES[day.month - 1]} {day.day}, {day.year}" if self.locale is None else format_date(day, "long", locale=self.locale)

    def month_day(self, day: date) -> str:
        return f"{MONTH_NAMES[day.month - 1]} {day.day}" if self.locale is None else format_skeleton("MMMMd", day, locale=self.locale)

    def counted(self, count: int, one: str, many: str) -> str:
        return self.t(one if count == 1 else many, count=count)


def edition_key(kind: str, day: date, names: Names | None = None) -> tuple[str, str, str, date]:
    """The key, name (by *names*, English by default), URL and first day of the *kind* edition that holds *day*."""
    names = names or Names()
    if kind == "daily":
        return day.isoformat(), names.day(day), f"/editions/{day:%Y/%m/%d}/", day
    year, week, weekday = day.isocalendar()
    first = day - timedelta(days=weekday - 1)
    span = f"{names.month_day(first)} – {names.month_day(first + timedelta(days=6))}"
    return f"{year}-W{week:02d}", names.t("Week {week}, {year} ({span})", week=week, year=year, span=span), f"/editions/{year}/w{week:02d}/", first


def plan_editions(config: SiteConfig, index: SiteIndex) -> tuple[Edition, ...]:
    """Every edition ``editions`` asks for, by kind in the setting's order, newest first."""
    editions: list[Edition] = []
    tz, names = config.tz, Names(config)
    for kind in config.editions:
        by_key: dict[tuple[str, str, str, date], list[Article]] = defaultdict(list)
        for article in index.articles:  # newest first, so each edition's list is too
            by_key[edition_key(kind, article.date.astimezone(tz).date(), names)].append(article)
        for (key, name, url, first), articles in sorted(by_key.items(), key=lambda item: item[0][3], reverse=True):
            edition = Edition(kind, key, name, url, first, group_stories(index, articles), tuple(articles))
            stories = names.counted(edition.story_count, "{count} story", "{count} stories")
            counts = names.t("{stories} from {reports}", stories=stories, reports=names.counted(len(articles), "{count} report", "{count} reports"))
            editions.append(replace(edition, title=f"{names.t(KIND_NAMES[kind])}: {name}", counts=counts))
    return tuple(editions)


def group_stories(index: SiteIndex, articles: list[Article]) -> tuple[EditionTopic, ...]:
    """*articles* as stories (one per story, by id or found, led by its most official then earliest report), grouped by topic."""
    reports: dict[str, list[Article]] = defaultdict(list)
    for article in articles:  # a story by id or found (stories.py); a report in none stands alone
        found = index.story_at.get(article.path)
        reports[found.slug if found is not None else "\0" + article.path].append(article)
    by_topic: dict[str, list[EditionStory]] = defaultdict(list)
    for slug, listed in reports.items():
        lead = min(listed, key=lambda a: (-a.official_count, a.date.timestamp(), a.path))
        story = index.ref(index.story_of[slug]) if slug in index.story_of else None
        by_topic[lead.topic].append(EditionStory(lead, len(listed), story))
    order = lambda s: (-s.count, -s.article.date.timestamp(), s.article.path)  # noqa: E731
    return tuple(EditionTopic(index.ref(t), tuple(sorted(by_topic[t.slug], key=order))) for t in index.topics if t.slug in by_topic)


def edition_ref(config: SiteConfig, edition: Edition) -> Ref:
    """An edition as the pages that only link to it see it: name, link, kind (in the site's language) and how many stories."""
    return Ref(edition.key, edition.name, edition.url, translator(config)(KIND_NAMES[edition.kind]), edition.story_count)


def edition_feeds(config: SiteConfig) -> tuple[EditionsFeedLink, ...]:
    t = translator(config)
    return tuple(EditionsFeedLink(f"{config.title}: {t(KIND_GROUPS[kind])}", "/editions/", kind) for kind in config.editions)


def latest_edition(config: SiteConfig, editions: tuple[Edition, ...]) -> Ref | None:
    """The newest edition of the first kind the site publishes: the home page's "Latest edition"."""
    return edition_ref(config, editions[0]) if editions else None


def plan_edition_pages(config: SiteConfig, editions: tuple[Edition, ...]) -> list[Page]:
    """The editions index and a page per edition, each linking its neighbours of the same kind; none at ``editions: []``."""
    if not config.editions:
        return []
    t = translator(config)  # crumbs and the index's title in the site's language, as plan_pages writes them
    home = Crumb(t("Headlines"), "/")
    crumbs = (home, Crumb(t("Editions"), "/editions/"))
    feeds = {feed.kind: feed for feed in edition_feeds(config)}
    sections = tuple((kind, tuple(edition_ref(config, e) for e in editions if e.kind == kind), feed) for kind, feed in feeds.items())
    about = t("The digest, day by day and week by week, on the web and by email.")
    pages = [Page("/editions/", "editions.html", t("Editions"), about, {"sections": sections, "feeds": tuple(feeds.values())}, (home,))]
    for n, edition in enumerate(editions):
        newer = edition_ref(config, editions[n - 1]) if n and editions[n - 1].kind == edition.kind else None
        older = edition_ref(config, editions[n + 1]) if n + 1 < len(editions) and editions[n + 1].kind == edition.kind else None
        about = t("{counts}, by topic.", counts=edition.counts)
        context = {"edition": edition, "articles": edition.articles, "newer": newer, "older": older, "feeds": (feeds[edition.kind],)}
        pages.append(Page(edition.url, "edition.html", edition.title, about, context, crumbs))
    return pages


def edition_shapes(config: SiteConfig, editions: tuple[Edition, ...], known: dict[int, bytes]) -> dict[str, bytes]:
    """The hash of what each email copy (by its email.html URL) and editions feed (by its Atom URL) shows, besides site-wide values."""
    shapes = {e.email_html: hash_value(e, known) for e in editions}
    for feed in edition_feeds(config):
        shapes[feed.atom] = hash_of(repr(feed), *(shapes[e.email_html] for e in feed_editions(config, editions, feed.kind)))
    return shapes


def edition_hashes(config: SiteConfig, editions: tuple[Edition, ...], site_hash: bytes, shapes: dict[str, bytes]) -> dict[str, bytes]:
    """The hash of every email copy and editions feed, by URL (see :func:`digest.site.plan_outputs`)."""
    hashes: dict[str, bytes] = {}
    for edition in editions:
        made = hash_of(site_hash, shapes[edition.email_html])
        hashes[edition.email_html], hashes[edition.email_text] = hash_of(made, "html"), hash_of(made, "text")
    for feed in edition_feeds(config):
        made = hash_of(site_hash, shapes[feed.atom])
        hashes[feed.atom], hashes[feed.json] = hash_of(made, "atom"), hash_of(made, "json")
    return hashes


def edition_urls(config: SiteConfig, editions: tuple[Edition, ...]) -> list[str]:
    """The URLs of every email copy and editions feed (the editions' pages are in the page plan)."""
    return [url for e in editions for url in (e.email_html, e.email_text)] + [url for f in edition_feeds(config) for url in (f.atom, f.json)]


def feed_editions(config: SiteConfig, editions: tuple[Edition, ...], kind: str) -> list[Edition]:
    return [e for e in editions if e.kind == kind][: config.feed_items]


@dataclass(frozen=True)
class Email:
    html: bytes
    text: bytes
    shown: int  # stories in the email; the others are linked as "more stories" on the web


class EmailRenderer:
    """Fills ``edition_email.html`` (its CSS inlined) and ``edition_email.txt``, cutting stories until the HTML fits :data:`EMAIL_LIMIT`."""

    def __init__(self, config: SiteConfig) -> None:
        try:
            import css_inline  # here: only a build with editions to send inlines CSS
        except ImportError:
            raise UsageError("the editions' email copies need the css-inline package (pip install -r requirements.txt), found it not installed") from None

        self.env = make_environment(config)
        self.config, self.urls = config, SiteUrls(config)
        self.inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False)

    def render(self, edition: Edition) -> Email:
        shown = edition.story_count
        html = self.html(edition, shown)
        if len(html) > EMAIL_LIMIT:  # the most stories that fit (at least none), by bisection: more stories never make it shorter
            fit = bisect.bisect_right(range(shown), EMAIL_LIMIT, key=lambda count: len(self.html(edition, count)))
            shown = max(fit - 1, 0)
            html = self.html(edition, shown)
        return Email(html, self._fill("edition_email.txt", edition, shown).encode("utf-8"), shown)

    def html(self, edition: Edition, shown: int) -> bytes:
        return self.inliner.inline(self._fill("edition_email.html", edition, shown)).encode("utf-8")

    def _fill(self, template: str, edition: Edition, shown: int) -> str:
        topics = first_stories(edition, shown)
        lead = topics[0].stories[0].article if topics else None
        image = share_image_url(self.config, self.urls, lead) if lead else ""  # the lead story's picture, at the top of the email
        return fill_template(self.env, template, edition=edition, topics=topics, more=edition.story_count - shown, image=image)


def first_stories(edition: Edition, count: int) -> tuple[EditionTopic, ...]:
    """The edition's topics holding only its first *count* stories, in reading order."""
    above = accumulate((len(group.stories) for group in edition.topics), initial=0)  # the stories of the topics above each
    topics = zip(edition.topics, above, strict=False)  # the last of above, the edition's total, has no topic
    return tuple(EditionTopic(group.topic, group.stories[: count - n]) for group, n in topics if n < count)


def render_edition_outputs(config: SiteConfig, editions: tuple[Edition, ...], wanted: set[str]) -> Iterator[tuple[str, bytes]]:
    """The email copies and editions feeds at *wanted*, as ``(url, bytes)``."""
    feeds = [feed for feed in edition_feeds(config) if feed.atom in wanted or feed.json in wanted]
    needed = {e.url for feed in feeds for e in feed_editions(config, editions, feed.kind)}
    todo = [e for e in editions if e.email_html in wanted or e.email_text in wanted or e.url in needed]
    emails: dict[str, Email] = {}
    if todo:  # a site without editions still publishes its (empty) editions feeds, with no email to render
        renderer = EmailRenderer(config)
        for edition in todo:
            email = emails[edition.url] = renderer.render(edition)
            yield from ((url, data) for url, data in ((edition.email_html, email.html), (edition.email_text, email.text)) if url in wanted)
    urls = SiteUrls(config)
    for feed in feeds:
        shown = feed_editions(config, editions, feed.kind)
        yield from ((url, data) for url, data in editions_feed(config, urls, feed, shown, emails) if url in wanted)


def editions_feed(config: SiteConfig, urls: SiteUrls, link: EditionsFeedLink, editions: list[Edition], emails: dict[str, Email]) -> Iterator[tuple[str, bytes]]:
    """One kind's editions as Atom and JSON Feed: an entry per edition, the email's HTML as its content."""
    feed = Feed(link, translator(config)(f"Every {link.kind} edition of {{site}}, as sent by email.", site=config.title), ())
    atom: list[str] = []
    items: list[str] = []
    for edition in editions:
        html = emails[edition.url].html.decode("utf-8")  # the entry carries the inside of the email's <body>, styles inline
        content = html[html.find(">", html.find("<body")) + 1 : html.rfind("</body>")].strip()
        entry: dict[str, Any] = {
            "id": tag_uri(config, edition.first.isoformat(), edition.url),
            "url": urls.absolute(edition.url),
            "title": edition.title,
            "content_html": content,
            "summary": f"{edition.counts}.",
            "date_published": rfc3339(max(a.date for a in edition.articles)),
            "date_modified": rfc3339(max(a.last_modified for a in edition.articles)),
        }
        item = ET.Element("entry")
        for tag, text in (("id", entry["id"]), ("title", edition.title), ("published", entry["date_published"]), ("updated", entry["date_modified"])):
            ET.SubElement(item, tag).text = text
        ET.SubElement(item, "link", {"rel": "alternate", "type": "text/html", "href": entry["url"]})
        ET.SubElement(item, "summary", {"type": "text"}).text = entry["summary"]
        ET.SubElement(item, "content", {"type": "html"}).text = content
        ET.indent(item, level=1)
        atom.append(ET.tostring(item, encoding="unicode"))
        items.append(json.dumps(entry, ensure_ascii=False, indent=2).replace("\n", "\n    "))
    updated = max((max(a.last_modified for a in e.articles) for e in editions), default=EPOCH)
    yield link.atom, atom_feed(config, urls, feed, atom, updated)
    yield link.json, json_feed(config, urls, feed, items)
