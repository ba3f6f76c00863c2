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


def paginate(
    base: str, template: str, title: str, description: str, articles: Sequence[Article], per_page: int, crumbs: tuple[Crumb, ...] = (), **extra: Any
) -> list[Page]:
    """List pages ``/x/``, ``/x/page/2/``, ... of *articles* (always at least one), newest first, *per_page* to a page."""
    count = max(1, -(-len(articles) // per_page))
    urls = (base, *(f"{base}page/{n}/" for n in range(2, count + 1)))
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
    # Besides its headlines, the home page shows the top stories of each topic, and stories with several reports.
    tops = tuple((index.ref(t), t.articles[: config.home_topic_count]) for t in index.topics if t.articles)
    several = tuple(index.ref(s) for s in index.stories if len(s.articles) > 1)[:5]
    pages = paginate("/", "home.html", config.title, config.description, index.articles, per, topic_tops=tops, stories=several)
    pages += [plan_article(article, index, home) for article in index.articles + index.expired]

    topics = Crumb("Topics", "/topics/")
    pages.append(Page("/topics/", "topics.html", "Topics", "Every topic the desk covers.", {"topics": index.topics}, (home,)))
    for topic in index.topics:
        about = topic.description or f"Stories about {topic.name}."
        pages += paginate(topic.url, "list.html", topic.name, about, topic.articles, per, (home, topics), kind="topic", topic=index.ref(topic))

    tags = Crumb("Tags", "/tags/")
    pages.append(Page("/tags/", "tags.html", "Tags", "Every tag, with how many stories carry it.", {"tags": index.tags}, (home,)))
    for tag in index.tags:
        title, about = f"Tag: {tag.name}", f"Stories tagged {tag.name}."
        pages += paginate(tag.url, "list.html", title, about, tag.articles, per, (home, tags), kind="tag", tag=index.ref(tag))

    sources = Crumb("Sources", "/sources/")
    pages.append(Page("/sources/", "sources.html", "Sources", "Every outlet and primary source our stories cite.", {"outlets": index.outlets}, (home,)))
    for outlet in index.outlets:
        title, about = f"Source: {outlet.name}", f"Stories that cite {outlet.name}."
        pages += paginate(outlet.url, "list.html", title, about, outlet.articles, per, (home, sources), kind="source", outlet=index.ref(outlet))

    stories = Crumb("Stories", "/stories/")
    pages.append(Page("/stories/", "stories.html", "Stories", "Events covered by more than one report, each on one page.", {"stories": index.stories}, (home,)))
    for story in index.stories:
        cited = {s.outlet for a in story.articles for s in a.sources}
        outlets = tuple(index.ref(index.outlet_of[o]) for o in sorted(cited, key=lambda o: (index.outlet_of[o].name.casefold(), o)))  # by name
        about = f"{len(story.articles)} reports on {story.title}"
        pages.append(Page(story.url, "story.html", f"Full coverage: {story.title}", about, {"story": story, "outlets": outlets}, (home, stories)))

    archive = Crumb("Archive", "/archive/")
    pages.append(Page("/archive/", "archive.html", "Archive", "Every story by year and month.", {"years": index.years}, (home,)))
    for year in index.years:
        pages.append(Page(year.url, "year.html", f"Archive: {year.year}", f"Stories published in {year.year}.", {"year": year}, (home, archive)))
        crumbs = (home, archive, Crumb(str(year.year), year.url))
        for month in year.months:
            name = f"{MONTHS[month.month - 1]} {month.year}"
            title, about = f"Archive: {name}", f"Stories published in {name}."
            pages += paginate(month.url, "list.html", title, about, month.articles, per, crumbs, kind="month", month=index.ref(month))

    if config.search:
        pages.append(Page("/search/", "search.html", "Search", "Search every story by word, topic, tag, source and review.", {}, (home,)))
    pages.append(Page("/404.html", "404.html", "Page not found", "There is no page at this address.", {}, ()))
    return pages


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
