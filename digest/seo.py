"""Stage 6d, search-engine files and metadata: sitemaps, robots.txt and JSON-LD.

In: ``SiteConfig``, ``SiteIndex`` and the page plan. Out: ``{url_path: bytes}``
for ``/sitemap.xml``, ``/news-sitemap.xml`` and ``/robots.txt``; and, for the
templates, the JSON-LD objects of each page (``NewsArticle``,
``BreadcrumbList``, ``WebSite``) serialised so that no title can end the
``<script>`` element early. All URLs are absolute, made by ``SiteUrls``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Any

from markupsafe import Markup

from .config import SiteConfig
from .feeds import FeedLink, feed_links, rfc3339
from .i18n import translator
from .images import share_image_url
from .index import SiteIndex, Year
from .pages import Page
from .render import SiteUrls, memoized_dates
from .schema import Article
from .stories import Story

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
NEWS_WINDOW = timedelta(days=2)
NEWS_LIMIT = 1000
NOT_INDEXED = ("/404.html",)
SITEMAP_LIMIT = 50_000  # URLs in one sitemap (the protocol's limit): a larger site's /sitemap.xml is an index of parts


def indexed(pages: list[Page]) -> list[Page]:
    """The pages a sitemap lists: all but those of :data:`NOT_INDEXED`."""
    return [page for page in pages if page.url not in NOT_INDEXED]


def seo_files(pages: list[Page]) -> list[str]:
    """The URLs :func:`render_seo_files` writes for *pages*: the sitemap, its parts when there are too many pages for one,
    the news sitemap and robots.txt."""
    count = len(indexed(pages))
    parts = [f"/sitemaps/{n}.xml" for n in range(1, -(-count // SITEMAP_LIMIT) + 1)] if count > SITEMAP_LIMIT else []
    return ["/sitemap.xml", *parts, "/news-sitemap.xml", "/robots.txt"]


def render_seo_files(config: SiteConfig, index: SiteIndex, pages: list[Page]) -> dict[str, bytes]:
    urls = SiteUrls(config)
    listed = sorted(indexed(pages), key=lambda p: p.url)
    site_newest = newest_change(index.articles)  # for every page that shows no articles of its own
    if len(listed) <= SITEMAP_LIMIT:
        files = {"/sitemap.xml": sitemap(urls, listed, site_newest)}
    else:
        parts = [listed[start : start + SITEMAP_LIMIT] for start in range(0, len(listed), SITEMAP_LIMIT)]
        files = {f"/sitemaps/{n}.xml": sitemap(urls, part, site_newest) for n, part in enumerate(parts, 1)}
        files = {"/sitemap.xml": sitemap_index(urls, list(files)), **files}
    return files | {
        "/news-sitemap.xml": news_sitemap(config, urls, index),
        "/robots.txt": f"User-agent: *\nAllow: /\n\nSitemap: {urls.absolute('/sitemap.xml')}\nSitemap: {urls.absolute('/news-sitemap.xml')}\n".encode(),
    }


def page_lastmod(page: Page, site_newest: str) -> str:
    """The newest change among the articles a page shows; *site_newest* for a page that shows none."""
    context = page.context
    articles: Sequence[Article] = ()
    if isinstance(context.get("article"), Article):
        articles = (context["article"],)
    elif "articles" in context:
        articles = tuple(context["articles"])
    elif isinstance(context.get("story"), Story):
        articles = context["story"].articles
    elif isinstance(context.get("year"), Year):
        articles = tuple(a for month in context["year"].months for a in month.articles)
    return newest_change(articles) if articles else site_newest


def newest_change(articles: Sequence[Article]) -> str:
    """The newest ``last_modified`` of *articles* ("" for none): an update is never before its date (content.py refuses that)."""
    return rfc3339(max(a.last_modified for a in articles)) if articles else ""


def sitemap(urls: SiteUrls, pages: list[Page], site_newest: str) -> bytes:
    """*pages* with the date of each one's newest change: the XML ElementTree would write, written as text (it lists
    every page) several times faster."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for page in pages:
        lines.append(f"  <url>\n    <loc>{escape(urls.absolute(page.url), quote=False)}</loc>")
        if lastmod := page_lastmod(page, site_newest):  # an ISO date: nothing to escape
            lines.append(f"    <lastmod>{lastmod}</lastmod>")
        lines.append("  </url>")
    return ("\n".join([*lines, "</urlset>"]) + "\n").encode("utf-8")


def sitemap_index(urls: SiteUrls, parts: list[str]) -> bytes:
    """A sitemap index of the sitemaps at *parts* (their pages carry the dates)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f'<sitemapindex xmlns="{SITEMAP_NS}">']
    for url in parts:
        lines += ["  <sitemap>", f"    <loc>{escape(urls.absolute(url), quote=False)}</loc>", "  </sitemap>"]
    return ("\n".join([*lines, "</sitemapindex>"]) + "\n").encode("utf-8")


def news_language(lang: str) -> str:
    """Google News wants ISO 639 codes, except zh-cn / zh-tw for Chinese."""
    parts = lang.lower().split("-")
    if parts[0] == "zh":
        return "zh-tw" if any(p in ("tw", "hk", "hant") for p in parts[1:]) else "zh-cn"
    return parts[0]


def news_sitemap(config: SiteConfig, urls: SiteUrls, index: SiteIndex) -> bytes:
    """The articles published in the two days before the newest one (at most 1,000), for Google News."""
    root = ET.Element("urlset", {"xmlns": SITEMAP_NS, "xmlns:news": NEWS_NS})
    for article in [a for a in index.articles if index.articles[0].date - a.date <= NEWS_WINDOW][:NEWS_LIMIT]:
        entry = ET.SubElement(root, "url")
        ET.SubElement(entry, "loc").text = urls.absolute(article.url)
        news = ET.SubElement(entry, "news:news")
        publication = ET.SubElement(news, "news:publication")
        ET.SubElement(publication, "news:name").text = config.title
        ET.SubElement(publication, "news:language").text = news_language(article.lang)
        ET.SubElement(news, "news:publication_date").text = rfc3339(article.date)
        ET.SubElement(news, "news:title").text = article.title
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")  # into a str: much faster than an encoding writer
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n").encode("utf-8")


_JSON = json.JSONEncoder(ensure_ascii=False, indent=None, separators=(", ", ": "))  # made once: json.dumps makes one a call


def script_json(value: Any) -> Markup:
    """JSON for a ``<script>`` element: ``<``, ``>`` and ``&`` escaped, so ``</script>`` cannot close it."""
    text = _JSON.encode(value)
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return Markup(text)  # safe: every character that could end the element is escaped above


iso_seconds = memoized_dates(rfc3339)  # each article page writes its dates twice


def website_jsonld(config: SiteConfig, urls: SiteUrls) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": config.title,
        "description": config.description,
        "url": urls.absolute("/"),
        "inLanguage": config.language,
        "publisher": publisher_jsonld(config, urls),
    }


def publisher_jsonld(config: SiteConfig, urls: SiteUrls) -> dict[str, Any]:
    """The site as an organization, with its standards and corrections policy where site.yaml names them."""
    policies = {"publishingPrinciples": config.standards_url, "correctionsPolicy": config.corrections_policy_url}
    return {"@type": "Organization", "name": config.title, "url": urls.absolute("/")} | {k: urls.absolute(v) for k, v in policies.items() if v}


def ai_disclosure(config: SiteConfig, article: Article) -> str:
    """The AI disclosure of an article as one line in the site's language, for a ``<meta>`` element and JSON-LD's ``backstory``."""
    t = translator(config)
    made = f"{t(article.review_label)}: {t(article.review_note)}"
    return made + (f" {t('Model')}: {article.model}." if article.model else "")


def article_jsonld(config: SiteConfig, urls: SiteUrls, page: Page, article: Article, image: str) -> dict[str, Any]:
    """NewsArticle for an article page; its section and keywords are the page's topic and tags."""
    newest_first = reversed(article.corrections)
    corrections = [{"@type": "CorrectionComment", "text": c.text, "datePublished": iso_seconds(c.date)} for c in newest_first]
    return (
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "description": page.description,
            "datePublished": iso_seconds(article.date),
            "dateModified": iso_seconds(article.last_modified),
            "author": author_jsonld(config, urls, article.author) if article.author else publisher_jsonld(config, urls),
            "publisher": publisher_jsonld(config, urls),
            "mainEntityOfPage": {"@type": "WebPage", "@id": urls.absolute(article.url)},
            "url": urls.absolute(article.url),
            "inLanguage": article.lang,
            "articleSection": page.context["topic"].name,
            "keywords": [tag.name for tag in page.context["tags"]],
            "isBasedOn": [{"@type": "CreativeWork", "name": s.name, "url": s.url} for s in article.sources],
            "backstory": ai_disclosure(config, article)
            + f" {translator(config)('Confidence')}: {translator(config)(article.confidence_label)}"
            + (f" ({article.confidence}/100)." if article.confidence is not None else "."),
        }
        | ({"image": [image]} if image else {})
        | ({"correction": corrections} if corrections else {})
    )


def author_jsonld(config: SiteConfig, urls: SiteUrls, author: str) -> dict[str, Any]:
    """A Person with name and url: an author of site.yaml links to their page (and to their own as ``sameAs``)."""
    known = config.author(author)
    if known is None:
        return {"@type": "Person", "name": author}
    person = {"@type": "Person", "name": known.name, "url": urls.absolute(f"/authors/{known.key}/")}
    return person | {key: urls.absolute(url) for key, url in {"sameAs": known.url, "image": known.image}.items() if url}


def breadcrumb_jsonld(urls: SiteUrls, page: Page) -> dict[str, Any]:
    trail = [(crumb.name, crumb.url) for crumb in page.crumbs] + [(page.title, page.url)]
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": number, "name": name, "item": urls.absolute(url)} for number, (name, url) in enumerate(trail, start=1)
        ],
    }


@dataclass(frozen=True)
class PageMeta:
    """What ``templates/_meta.html`` prints in a page's ``<head>``; the fields after ``jsonld`` are for article pages."""

    title: str
    description: str
    canonical: str
    feeds: tuple[FeedLink, ...]
    jsonld: tuple[dict[str, Any], ...]
    image: str = ""  # absolute URL or ""
    og_type: str = "website"  # "article" or "website"
    published: str = ""
    modified: str = ""
    section: str = ""
    tags: tuple[str, ...] = ()
    ai_disclosure: str = ""  # review status and model, for <meta name="ai-disclosure">
    ai_review: str = ""  # the review status's key (human-reviewed, ai-assisted, ...)


def page_meta(config: SiteConfig, urls: SiteUrls, page: Page) -> PageMeta:
    """What a page's ``<head>`` shows, JSON-LD included; made from the page and the settings alone."""
    article = page.context.get("article")
    title = page.title if page.template == "home.html" else f"{page.title} · {config.title}"  # the home pages: the site's own name
    head = (title, page.description or config.description, urls.absolute(page.url), feed_links(config, page))
    website = [website_jsonld(config, urls)] if page.url == "/" else []
    crumbs = [breadcrumb_jsonld(urls, page)] if page.crumbs else []
    if not isinstance(article, Article):
        return PageMeta(*head, (*website, *crumbs))
    image = share_image_url(config, urls, article)
    return PageMeta(
        *head,
        (*website, article_jsonld(config, urls, page, article, image), *crumbs),
        image=image,
        og_type="article",
        published=iso_seconds(article.date),
        modified=iso_seconds(article.last_modified),
        section=page.context["topic"].name,
        tags=tuple(tag.name for tag in page.context["tags"]),
        ai_disclosure=ai_disclosure(config, article),
        ai_review=article.review,
    )
