"""Stage 6b, feeds: Atom 1.0 and JSON Feed 1.1 for the site, each topic and each tag.

In: ``SiteConfig``, ``SiteIndex`` and rendered bodies. Out: ``{url_path: bytes}``
(``/feed.xml``, ``/feed.json``, ``/topics/<t>/feed.xml``, ...); nothing touches
the disk. Every URL is absolute and made by :class:`~digest.render.SiteUrls`;
entry ids are tag URIs built from the host, the publication date and the
article's path, so they stay the same from build to build.
"""

from __future__ import annotations

import json
import mimetypes
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from .config import SiteConfig
from .i18n import translator
from .images import share_image_url
from .index import SiteIndex, Tag, Topic
from .markdown import RenderedBody
from .pages import Page
from .render import SiteUrls
from .schema import Article, text_direction

ATOM_NS = "http://www.w3.org/2005/Atom"
DIGEST_NS = "tag:ai-news-digest.example,2026:provenance"  # the namespace of provenance elements in Atom entries (prefix "digest")
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "AI News Digest"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # when a feed has no entries to date it
_ROOT_RELATIVE = re.compile(r'(\s(?:href|src)=")(/(?!/)[^"]*)"')
_FRAGMENT = re.compile(r'(\shref=")(#[^"]*)"')  # footnotes: out of the page, a reader resolves them against the feed
_HEADER_ANCHOR = re.compile(r' <a class="header-anchor" href="#[^"]*">#</a>')  # a heading's permalink: a stray "#" in a reader


@dataclass(frozen=True)
class FeedLink:
    """Where one subscribable feed lives, for ``<link rel="alternate">`` and subscribe links."""

    title: str
    base: str  # site path of the folder holding feed.xml and feed.json

    @property
    def atom(self) -> str:
        return self.base + "feed.xml"

    @property
    def json(self) -> str:
        return self.base + "feed.json"


@dataclass(frozen=True)
class Feed:
    link: FeedLink  # its base is also the HTML page the feed mirrors
    description: str
    articles: tuple[Article, ...]  # newest first, already cut to feed_items


def feed_links(config: SiteConfig, page: Page) -> tuple[FeedLink, ...]:
    """The feeds a page advertises: the site's, plus its topic's or tag's, or those its context names (``feeds``: the editions')."""
    site = FeedLink(config.title, "/")
    if "feeds" in page.context:
        return (site, *page.context["feeds"])
    kind = page.context.get("kind")
    if kind == "corrections":
        return (site, corrections_feed_link(config))
    shown = page.context.get("tag") if kind == "tag" else page.context.get("topic") if kind in ("topic", None) else None
    return (site,) if shown is None else (site, FeedLink(f"{config.title}: {shown.name}", shown.url))


def plan_feeds(config: SiteConfig, index: SiteIndex) -> list[Feed]:
    """One feed for the whole site, one per topic and one per tag."""
    count, t = config.feed_items, translator(config)  # descriptions in the site's language, as its pages word them
    feeds = [Feed(FeedLink(config.title, "/"), config.description, index.articles[:count])]
    feeds += [
        Feed(FeedLink(f"{config.title}: {i.name}", i.url), i.description or t("Stories about {name}.", name=i.name), i.articles[:count]) for i in index.topics
    ]
    feeds += [Feed(FeedLink(f"{config.title}: {i.name}", i.url), t("Stories tagged {name}.", name=i.name), i.articles[:count]) for i in index.tags]
    corrected = sorted((a for a in index.articles if a.corrections), key=lambda a: (-a.corrections[-1].date.timestamp(), a.url))
    feeds.append(Feed(corrections_feed_link(config), t("Stories we corrected, the latest correction first."), tuple(corrected[:count])))
    return feeds


def corrections_feed_link(config: SiteConfig) -> FeedLink:
    return FeedLink(f"{config.title}: {translator(config)('Corrections')}", "/corrections/")


def entry_inputs(index: SiteIndex, article: Article) -> tuple[Any, ...]:
    """What a feed entry shows besides the article and its body: its topic, tags and story as linked."""
    story = index.story_at.get(article.path)
    return (index.ref(index.topic_of[article.topic]), tuple(index.ref(t) for t in index.tags_of[article.path]), index.ref(story) if story else None)


def render_feeds(config: SiteConfig, index: SiteIndex, bodies: Mapping[str, RenderedBody], feeds: list[Feed]) -> Iterator[tuple[str, bytes]]:
    """*feeds* (from :func:`plan_feeds`) as ``(url, bytes)``, each file as soon as it is made."""
    urls = SiteUrls(config)
    newest = index.articles[0].last_modified if index.articles else EPOCH
    made: dict[str, tuple[str, str]] = {}  # an article appears in several feeds: its entry is built and serialized once
    for feed in feeds:
        for article in feed.articles:
            if article.path not in made:
                entry = FeedEntry.make(config, index, urls, article, bodies[article.path])
                made[article.path] = (atom_entry(entry), json_item(entry))
        updated = max((a.last_modified for a in feed.articles), default=newest)
        yield feed.link.atom, atom_feed(config, urls, feed, [made[a.path][0] for a in feed.articles], updated)
        yield feed.link.json, json_feed(config, urls, feed, [made[a.path][1] for a in feed.articles])


@dataclass(frozen=True)
class FeedEntry:
    """One article with what both feed formats add to it: its id, absolute URLs, author and body."""

    article: Article
    id: str
    url: str
    author: str
    summary: str
    content_html: str  # the body and its sources; "" when the site sends only summaries
    categories: tuple[tuple[str, str, str], ...]  # (term, label, scheme URL)
    image: str
    story: tuple[str, str, str] | None = None  # (id, title, scheme URL: the stories index) of the story it reports on

    @staticmethod
    def make(config: SiteConfig, index: SiteIndex, urls: SiteUrls, article: Article, body: RenderedBody) -> FeedEntry:
        shown: tuple[Topic | Tag, ...] = (index.topic_of[article.topic], *index.tags_of[article.path])
        story = index.story_at.get(article.path)
        known = config.author(article.author)  # an author key stands for its name; other text is shown as written
        return FeedEntry(
            article=article,
            id=tag_uri(config, f"{article.date:%Y-%m-%d}", article.url),
            url=urls.absolute(article.url),
            author=(known.name if known else article.author) or config.title,
            summary=body.summary,
            content_html=full_content(config, urls, article, body.html) if config.feed_full_content else "",
            categories=tuple((c.slug, c.name, urls.absolute(c.url)) for c in shown),
            image=share_image_url(config, urls, article),
            story=(story.slug, story.title, urls.absolute("/stories/")) if story else None,
        )


def tag_uri(config: SiteConfig, day: str, url: str) -> str:
    """An entry's id: a tag URI (RFC 4151) of the site's host, the entry's day and its URL, the same from build to build."""
    return f"tag:{urlsplit(config.base_url).hostname or 'localhost'},{day}:{config.base_path.rstrip('/')}{url}"


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def full_content(config: SiteConfig, urls: SiteUrls, article: Article, html: str) -> str:
    """The body as feed readers show it, out of context: corrections first, links made absolute, then why it matters, the
    reporting notes (review, confidence, model) and the sources (for readers that ignore rel=related links)."""
    t = translator(config)
    # The site's words in an entry of another language are marked as theirs, as on the page.
    own = f' lang="{escape(config.language)}" dir="{text_direction(config.language)}"' if article.lang != config.language else ""

    def section(title: str, items: str, words: str = "") -> str:  # words: the list's own language mark, when the site's
        return f"<h2{own}>{escape(t(title))}</h2>\n<ul{words}>{items}</ul>\n" if items else ""

    html = _ROOT_RELATIVE.sub(lambda m: f'{m.group(1)}{urls.origin}{m.group(2)}"', _HEADER_ANCHOR.sub("", html))
    page = escape(urls.absolute(article.url))
    html = _FRAGMENT.sub(lambda m: f'{m.group(1)}{page}{m.group(2)}"', html)
    fixes = "".join(f"<li><strong>{escape(t('Correction'))}, {c.date:%Y-%m-%d}:</strong> {escape(c.text)}</li>" for c in reversed(article.corrections))
    why = "".join(f"<li>{escape(point)}</li>" for point in article.why_it_matters)
    score = f" ({article.confidence}/100)" if article.confidence is not None else ""
    notes = [
        f"{t('Review status')}: {t(article.review_label)}. {t(article.review_note)}",
        f"{t('Confidence')}: {t(article.confidence_label)}{score}",
        *([f"{t('Model')}: {article.model}"] if article.model else []),
    ]
    items = "".join(f"<li>{escape(note)}</li>" for note in notes)
    if config.standards_url:
        items += f'<li><a href="{escape(urls.absolute(config.standards_url))}">{escape(t("Our editorial standards"))}</a></li>'
    if config.report_errors:
        items += f'<li>{escape(t("Report an error:"))} <a href="{escape(config.report_errors_href)}">{escape(config.report_errors)}</a></li>'
    official = escape(t("Official"))
    sources = "".join(f'<li><a href="{escape(s.url)}">{escape(s.name)}</a>{f" ({official})" if s.official else ""}</li>' for s in article.sources)
    notes_and_sources = section("Why it matters", why) + section("Reporting notes", items, own) + section("Sources", sources)
    return section("Corrections", fixes) + html + "\n" + notes_and_sources


def provenance(article: Article) -> dict[str, Any]:
    """What the desk says about how an article was made, for feeds (JSON Feed's ``_digest`` object, Atom's digest: elements)."""
    return {
        "review": article.review,
        "review_label": article.review_label,
        "confidence": article.confidence,
        "confidence_label": article.confidence_label,
        "model": article.model,
        "why_it_matters": list(article.why_it_matters),
        "sources": [{"url": s.url, "name": s.name, "official": s.official} for s in article.sources],
        "corrections": [{"date": rfc3339(c.date), "text": c.text} for c in article.corrections],
    }


def atom_feed(config: SiteConfig, urls: SiteUrls, feed: Feed, entries: list[str], updated: datetime) -> bytes:
    """An Atom document around entries already serialized by :func:`atom_entry`."""
    root = ET.Element("feed", {"xmlns": ATOM_NS, "xmlns:digest": DIGEST_NS, "{http://www.w3.org/XML/1998/namespace}lang": config.language})
    _text(root, "id", urls.absolute(feed.link.atom))
    _text(root, "title", feed.link.title)
    if feed.description:
        _text(root, "subtitle", feed.description)
    ET.SubElement(root, "link", {"rel": "self", "type": "application/atom+xml", "href": urls.absolute(feed.link.atom)})
    ET.SubElement(root, "link", {"rel": "alternate", "type": "text/html", "href": urls.absolute(feed.link.base)})
    _text(root, "updated", rfc3339(updated))
    author = ET.SubElement(root, "author")
    _text(author, "name", config.title)
    _text(author, "uri", urls.absolute("/"))
    _text(root, "generator", GENERATOR)
    ET.indent(root)
    head = ET.tostring(root, encoding="unicode").removesuffix("</feed>")  # into a str: much faster than an encoding writer
    body = "".join(f"  {entry}\n" for entry in entries)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + head + body + "</feed>\n").encode("utf-8")


def atom_entry(entry: FeedEntry) -> str:
    """One ``<entry>`` as text, indented to sit inside ``<feed>``."""
    article = entry.article
    item = ET.Element("entry", {"{http://www.w3.org/XML/1998/namespace}lang": article.lang})
    _text(item, "id", entry.id)
    _text(item, "title", article.title)
    ET.SubElement(item, "link", {"rel": "alternate", "type": "text/html", "href": entry.url})
    _text(item, "published", rfc3339(article.date))
    _text(item, "updated", rfc3339(article.last_modified))
    _text(ET.SubElement(item, "author"), "name", entry.author)
    for category in (*entry.categories, *([entry.story] if entry.story else [])):  # the story's last, in the stories' scheme
        ET.SubElement(item, "category", dict(zip(("term", "label", "scheme"), category, strict=True)))
    for source in article.sources:
        ET.SubElement(item, "link", {"rel": "related", "type": "text/html", "href": source.url, "title": source.name})
    if entry.image:
        kind = mimetypes.guess_type(urlsplit(entry.image).path)[0]
        ET.SubElement(item, "link", {"rel": "enclosure", "href": entry.image} | ({"type": kind} if kind else {}))
    if entry.summary:
        _text(item, "summary", entry.summary, {"type": "text"})
    if entry.content_html:
        _text(item, "content", entry.content_html, {"type": "html"})
    ET.SubElement(item, "digest:review", {"status": article.review, "label": article.review_label})
    score = {"score": str(article.confidence)} if article.confidence is not None else {}
    ET.SubElement(item, "digest:confidence", {"label": article.confidence_label} | score)
    if article.model:
        _text(item, "digest:model", article.model)
    for point in article.why_it_matters:
        _text(item, "digest:why-it-matters", point)
    for source in article.sources:
        ET.SubElement(item, "digest:source", {"href": source.url, "title": source.name, "official": str(source.official).lower()})
    for correction in article.corrections:
        _text(item, "digest:correction", correction.text, {"date": rfc3339(correction.date)})
    ET.indent(item, level=1)
    return ET.tostring(item, encoding="unicode")


def json_item(entry: FeedEntry) -> str:
    """One JSON Feed item as text, indented to sit in the document's ``items`` list."""
    article = entry.article
    body = {"content_html": entry.content_html} if entry.content_html else {"content_text": entry.summary or article.title}
    item: dict[str, Any] = {"id": entry.id, "url": entry.url, "title": article.title, **body}
    if entry.summary:
        item["summary"] = entry.summary
    if entry.image:
        item["image"] = entry.image
    item["date_published"] = rfc3339(article.date)
    item["date_modified"] = rfc3339(article.last_modified)
    item["authors"] = [{"name": entry.author}]
    item["tags"] = list(dict.fromkeys(label for _term, label, _scheme in entry.categories))  # a topic and a tag may share a name
    item["language"] = article.lang
    item["_digest"] = provenance(article) | ({"story": entry.story[0]} if entry.story else {})  # a JSON Feed extension
    return json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")


def json_feed(config: SiteConfig, urls: SiteUrls, feed: Feed, items: list[str]) -> bytes:
    """A JSON Feed document around items already serialized by :func:`json_item`."""
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed.link.title,
        "home_page_url": urls.absolute(feed.link.base),
        "feed_url": urls.absolute(feed.link.json),
        "description": feed.description,
        "language": config.language,
        "authors": [{"name": config.title, "url": urls.absolute("/")}],
        "items": [],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if items:  # "items" is the last key: its empty list ends the text
        text = text.removesuffix("[]\n}") + "[\n    " + ",\n    ".join(items) + "\n  ]\n}"
    return (text + "\n").encode("utf-8")


def _text(parent: ET.Element, tag: str, text: str, attrs: dict[str, str] | None = None) -> None:
    ET.SubElement(parent, tag, attrs or {}).text = text
