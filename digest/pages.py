"""Stage 5, pages: plan every output page as (URL, template, context).

In: ``SiteConfig`` and ``SiteIndex``. Out: a list of :class:`Page` values, one
per output file, in a deterministic order. No HTML is made here, and no body:
an article's page names its article, and the render stage gives it the
rendered body (and the body's summary as its description).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import SiteConfig
from .index import MONTH_NAMES, SiteIndex
from .memo import hash_value
from .schema import Article

MONTHS = MONTH_NAMES


@dataclass(frozen=True)
class Pagination:
    number: int
    count: int
    urls: tuple[str, ...]  # URL of every page, first to last

    @property
    def previous_url(self) -> str | None:
        return self.urls[self.number - 2] if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.urls[self.number] if self.number < self.count else None


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


@dataclass(frozen=True)
class Page:
    """One output file to render: where it goes, with which template and data.

    The context is all a page shows besides the site-wide values every page
    sees (settings, navigation, templates, static files) and its article's
    body: a page is rendered again exactly when one of these changes.
    """

    url: str
    template: str
    title: str
    description: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    crumbs: tuple[Crumb, ...] = ()


def page_shape(page: Page, known: dict[int, bytes]) -> bytes:
    """The hash of what *page* shows besides its article's body and the site-wide values (see :func:`digest.site.plan_outputs`).

    *known* holds the hashes of articles and index entities by ``id()``
    (see :func:`digest.site.entity_hashes`).
    """
    return hash_value((page.url, page.template, page.title, page.description, page.crumbs, page.context), known)


def page_urls(base: str, total: int, per_page: int) -> tuple[str, ...]:
    """``/x/``, ``/x/page/2/``, ... for *total* items (always at least one page)."""
    count = max(1, -(-total // per_page))
    return (base, *tuple(f"{base}page/{n}/" for n in range(2, count + 1)))


def paginate(
    base: str, template: str, title: str, description: str, articles: Sequence[Article], per_page: int, crumbs: tuple[Crumb, ...] = (), **extra: Any
) -> list[Page]:
    """List pages of *articles*, newest first, *per_page* to a page."""
    urls = page_urls(base, len(articles), per_page)
    pages = []
    for number, url in enumerate(urls, start=1):
        chunk = articles[(number - 1) * per_page : number * per_page]
        shown_title = title if number == 1 else f"{title} (page {number})"
        pagination = Pagination(number, len(urls), urls)
        pages.append(Page(url, template, shown_title, description, {"articles": tuple(chunk), "pagination": pagination, **extra}, crumbs))
    return pages


def plan_pages(config: SiteConfig, index: SiteIndex) -> list[Page]:
    """Every page of the site, home first."""
    home = Crumb("Headlines", "/")
    per = config.per_page
    pages = paginate("/", "home.html", config.title, config.description, index.articles, per, **home_extras(config, index))
    for article in index.articles + index.expired:
        pages.append(plan_article(article, index, home))

    topics = Crumb("Topics", "/topics/")
    pages.append(Page("/topics/", "topics.html", "Topics", "Every topic the desk covers.", {"topics": index.topics}, (home,)))
    for topic in index.topics:
        pages += paginate(
            topic.url,
            "list.html",
            topic.name,
            topic.description or f"Stories about {topic.name}.",
            topic.articles,
            per,
            (home, topics),
            kind="topic",
            topic=index.ref(topic),
        )

    tags = Crumb("Tags", "/tags/")
    pages.append(Page("/tags/", "tags.html", "Tags", "Every tag, with how many stories carry it.", {"tags": index.tags}, (home,)))
    for tag in index.tags:
        pages += paginate(
            tag.url, "list.html", f"Tag: {tag.name}", f"Stories tagged {tag.name}.", tag.articles, per, (home, tags), kind="tag", tag=index.ref(tag)
        )

    sources = Crumb("Sources", "/sources/")
    pages.append(Page("/sources/", "sources.html", "Sources", "Every outlet and primary source our stories cite.", {"outlets": index.outlets}, (home,)))
    for outlet in index.outlets:
        pages += paginate(
            outlet.url,
            "list.html",
            f"Source: {outlet.name}",
            f"Stories that cite {outlet.name}.",
            outlet.articles,
            per,
            (home, sources),
            kind="source",
            outlet=index.ref(outlet),
        )

    stories = Crumb("Stories", "/stories/")
    pages.append(Page("/stories/", "stories.html", "Stories", "Events covered by more than one report, each on one page.", {"stories": index.stories}, (home,)))
    for story in index.stories:
        outlets = sorted({s.outlet for a in story.articles for s in a.sources})
        pages.append(
            Page(
                story.url,
                "story.html",
                f"Full coverage: {story.title}",
                f"{len(story.articles)} reports on {story.title}",
                {"story": story, "outlets": tuple(index.ref(index.outlet_of[o]) for o in outlets)},
                (home, stories),
            )
        )

    archive = Crumb("Archive", "/archive/")
    pages.append(Page("/archive/", "archive.html", "Archive", "Every story by year and month.", {"years": index.years}, (home,)))
    for year in index.years:
        pages.append(Page(year.url, "year.html", f"Archive: {year.year}", f"Stories published in {year.year}.", {"year": year}, (home, archive)))
        year_crumb = Crumb(str(year.year), year.url)
        for month in year.months:
            name = f"{MONTHS[month.month - 1]} {month.year}"
            pages += paginate(
                month.url,
                "list.html",
                f"Archive: {name}",
                f"Stories published in {name}.",
                month.articles,
                per,
                (home, archive, year_crumb),
                kind="month",
                month=index.ref(month),
            )

    pages.append(Page("/404.html", "404.html", "Page not found", "There is no page at this address.", {}, ()))
    return pages


def home_extras(config: SiteConfig, index: SiteIndex) -> dict[str, Any]:
    """What every home page shows besides its headlines: the top stories of each topic, and stories with several reports."""
    return {
        "topic_tops": tuple((index.ref(t), t.articles[: config.home_topic_count]) for t in index.topics if t.articles),
        "stories": tuple(index.ref(s) for s in index.stories if len(s.articles) > 1)[:5],
    }


def plan_article(article: Article, index: SiteIndex, home: Crumb) -> Page:
    topic = index.topic_of[article.topic]
    story = index.story_of.get(article.story) if article.story else None
    context = {
        "article": article,
        "body": None,  # filled when rendered (digest.site.render_outputs)
        "topic": index.ref(topic),
        "tags": tuple(index.ref(t) for t in index.tags_of[article.path]),
        "story": index.ref(story) if story else None,
        "related": index.related[article.path],
        "more": index.more_from_topic[article.path],
        "older": index.older.get(article.path),
        "newer": index.newer.get(article.path),
        "outlets": {s.outlet: index.ref(index.outlet_of[s.outlet]) for s in article.sources},
    }
    return Page(article.url, "article.html", article.title, "", context, (home, Crumb(topic.name, topic.url)))
