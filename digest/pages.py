"""Stage 5, pages: plan every output page as (URL, template, context).

In: ``SiteConfig`` and ``SiteIndex``. Out: a list of :class:`Page` values, one
per output file, in a deterministic order. No HTML is made here, and no body:
an article's page names its article, and the render stage gives it the
rendered body (and the body's summary as its description).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import SiteConfig
from .i18n import Translator, month_names, translator
from .index import Ref, SiteIndex
from .memo import hash_value
from .schema import Article
from .stories import Story


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
    """The hash of what *page* shows besides its article's body and the site-wide values (see :func:`digest.site.plan_outputs`);
    *known*: the hashes of articles and index entities by ``id()`` (:func:`digest.site.entity_hashes`)."""
    return hash_value((page.url, page.template, page.title, page.description, page.crumbs, page.context), known)


def paginate(
    base: str,
    template: str,
    title: str,
    description: str,
    articles: Sequence[Article],
    per_page: int,
    crumbs: tuple[Crumb, ...],
    t: Translator,
    **extra: Any,
) -> list[Page]:
    """List pages ``/x/``, ``/x/page/2/``, ... of *articles* (always at least one), newest first, *per_page* to a page."""
    count = max(1, -(-len(articles) // per_page))
    urls = (base, *(f"{base}page/{n}/" for n in range(2, count + 1)))
    pages = []
    for number, url in enumerate(urls, start=1):
        chunk = articles[(number - 1) * per_page : number * per_page]
        shown_title = title if number == 1 else t("{title} (page {number})", title=title, number=number)
        pagination = Pagination(number, len(urls), urls)
        pages.append(Page(url, template, shown_title, description, {"articles": tuple(chunk), "pagination": pagination, **extra}, crumbs))
    return pages


def plan_pages(config: SiteConfig, index: SiteIndex, edition: Ref | None = None) -> list[Page]:
    """Every page of the site, home first, but the editions' (:mod:`digest.editions`); *edition*: the latest, linked from the home page."""
    t = translator(config)  # titles, descriptions and crumbs in the site's language
    months = month_names(config)
    home = Crumb(t("Headlines"), "/")
    per = config.per_page
    # Besides its headlines, the home page shows the top stories of each topic, and stories with several reports.
    tops = tuple((index.ref(t), t.articles[: config.home_topic_count]) for t in index.topics if t.articles and config.home_topic_count)
    several = tuple(index.ref(s) for s in developing(index))
    pages = paginate("/", "home.html", config.title, config.description, index.articles, per, (), t, topic_tops=tops, stories=several, edition=edition)
    pages += [plan_article(article, index, home) for article in index.articles + index.expired]

    topics = Crumb(t("Topics"), "/topics/")
    pages.append(Page("/topics/", "topics.html", t("Topics"), t("Every topic the desk covers."), {"topics": index.topics}, (home,)))
    for topic in index.topics:
        about = topic.description or t("Stories about {name}.", name=topic.name)
        pages += paginate(topic.url, "list.html", topic.name, about, topic.articles, per, (home, topics), t, kind="topic", topic=index.ref(topic))

    tags = Crumb(t("Tags"), "/tags/")
    pages.append(Page("/tags/", "tags.html", t("Tags"), t("Every tag, with how many stories carry it."), {"tags": index.tags}, (home,)))
    for tag in index.tags:
        title, about = t("Tag: {name}", name=tag.name), t("Stories tagged {name}.", name=tag.name)
        pages += paginate(tag.url, "list.html", title, about, tag.articles, per, (home, tags), t, kind="tag", tag=index.ref(tag))

    sources = Crumb(t("Sources"), "/sources/")
    about = t("Every outlet and primary source our stories cite.")
    pages.append(Page("/sources/", "sources.html", t("Sources"), about, {"outlets": index.outlets}, (home,)))
    for outlet in index.outlets:
        title, about = t("Source: {name}", name=outlet.name), t("Stories that cite {name}.", name=outlet.name)
        pages += paginate(outlet.url, "list.html", title, about, outlet.articles, per, (home, sources), t, kind="source", outlet=index.ref(outlet))

    stories = Crumb(t("Stories"), "/stories/")
    about = t("Events covered by one or more reports, each on one page; the most covered first.")
    pages.append(Page("/stories/", "stories.html", t("Stories"), about, {"stories": index.stories}, (home,)))
    for story in index.stories:
        cited = {s.outlet for a in story.articles for s in a.sources}
        outlets = tuple(index.ref(index.outlet_of[o]) for o in sorted(cited, key=lambda o: (index.outlet_of[o].name.casefold(), o)))  # by name
        context = {"story": story, "outlets": outlets, "shared_tags": shared_tags(index, story)}
        context["outlets_of"] = {a.path: tuple(index.ref(index.outlet_of[o]) for o in dict.fromkeys(s.outlet for s in a.sources)) for a in story.articles}
        about = story.summary or t("{count} reports on {title}", count=len(story.articles), title=story.title)
        title = t("Full coverage: {title}", title=story.title)
        pages.append(Page(story.url, "story.html", title, about, context, (home, stories)))

    archive = Crumb(t("Archive"), "/archive/")
    pages.append(Page("/archive/", "archive.html", t("Archive"), t("Every story by year and month."), {"years": index.years}, (home,)))
    for year in index.years:
        title, about = t("Archive: {name}", name=year.year), t("Stories published in {name}.", name=year.year)
        pages.append(Page(year.url, "year.html", title, about, {"year": year}, (home, archive)))
        crumbs = (home, archive, Crumb(str(year.year), year.url))
        for month in year.months:
            name = f"{months[month.month - 1]} {month.year}"
            title, about = t("Archive: {name}", name=name), t("Stories published in {name}.", name=name)
            pages += paginate(month.url, "list.html", title, about, month.articles, per, crumbs, t, kind="month", month=index.ref(month))

    if config.authors:
        about = t("The people and desks who write our stories.")
        pages.append(Page("/authors/", "authors.html", t("Authors"), about, {"authors": config.authors}, (home,)))
    people = Crumb(t("Authors"), "/authors/")
    by_author: dict[str, list[Article]] = defaultdict(list)  # once over the articles, not once for each author
    for article in index.articles:
        by_author[article.author].append(article)
    for author in config.authors:
        theirs = by_author[author.key]
        about = author.bio or t("Stories by {name}.", name=author.name)
        pages += paginate(f"/authors/{author.key}/", "list.html", author.name, about, theirs, per, (home, people), t, kind="author", author=author)
    corrections = tuple(
        sorted(((c, a) for a in index.articles + index.expired for c in a.corrections), key=lambda pair: (-pair[0].date.timestamp(), pair[1].url))
    )
    about = t("Every correction to our stories, newest first.")
    pages.append(Page("/corrections/", "corrections.html", t("Corrections"), about, {"corrections": corrections, "kind": "corrections"}, (home,)))
    if config.search:
        pages.append(Page("/search/", "search.html", t("Search"), t("Search every story by word, topic, tag, source and review."), {}, (home,)))
    pages.append(Page("/404.html", "404.html", t("Page not found"), t("There is no page at this address."), {}, ()))
    return pages


RECENT_DAYS = 7  # "Developing stories" counts the reports of the last week before the newest article


def developing(index: SiteIndex, count: int = 5) -> list[Story]:
    """The stories with several reports that had the most coverage in the last :data:`RECENT_DAYS`, then the latest."""
    if not index.articles:
        return []
    since = index.articles[0].date.timestamp() - RECENT_DAYS * 86400
    several = [s for s in index.stories if len(s.articles) > 1]
    recent = {s.slug: sum(1 for a in s.articles if a.date.timestamp() >= since) for s in several}
    return sorted(several, key=lambda s: (-recent[s.slug], -s.articles[0].date.timestamp(), s.slug))[:count]


def shared_tags(index: SiteIndex, story: Story) -> tuple[Ref, ...]:
    """The tags at least two of *story*'s reports carry, the most carried first."""
    carried = [tag for article in story.articles for tag in index.tags_of[article.path]]
    counts = Counter(tag.key for tag in carried)
    tags = {tag.key: tag for tag in carried}
    keys = sorted((k for k, n in counts.items() if n > 1), key=lambda k: (-counts[k], tags[k].name.casefold(), k))
    return tuple(index.ref(tags[k]) for k in keys)


def plan_article(article: Article, index: SiteIndex, home: Crumb) -> Page:
    topic = index.topic_of[article.topic]
    story = index.story_at.get(article.path)
    context = {
        "article": article,
        "body": None,  # filled when rendered (digest.site.render_outputs)
        "topic": index.ref(topic),
        "tags": tuple(index.ref(t) for t in index.tags_of[article.path]),
        "story": index.ref(story) if story else None,
        "siblings": index.siblings.get(article.path, ()),
        "related": index.related[article.path],
        "more": index.more_from_topic[article.path],
        "older": index.older.get(article.path),
        "newer": index.newer.get(article.path),
        "outlets": {s.outlet: index.ref(index.outlet_of[s.outlet]) for s in article.sources},
    }
    return Page(article.url, "article.html", article.title, "", context, (home, Crumb(topic.name, topic.url)))
