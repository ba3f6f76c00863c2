"""Stage 4, index: topics, tags, outlets, stories, archive and related stories.

In: published ``Article`` values (newest first) and ``SiteConfig``. Out: a
frozen :class:`SiteIndex` of plain values, plus warnings. Nothing here knows
about HTML or files. Related stories are ranked through inverted indexes
(:func:`rank_related`), so their cost grows with the number of articles, not its square.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from itertools import pairwise

from .config import SiteConfig
from .errors import Problem, warning
from .i18n import month_names
from .memo import NO_MEMO, Memo, hash_of, hash_value
from .schema import Article, tag_key
from .slugs import slug_or_hash
from .stories import NO_STORY, Group, Story, StoryNote, best_report, group_stories, unused_slug
from .workers import in_chunks

# Weights of the related-story score; tag rarity (IDF) is the main signal.
SAME_STORY = 4.0
SAME_TOPIC = 0.75
SHARED_OUTLET = 0.25
RECENCY = 1.0  # times exp(-days apart / RECENCY_DAYS)
RECENCY_DAYS = 30.0
WINDOW = 40  # articles either side in time scored per posting list
PARALLEL_RANKING = 4000  # below this many articles, workers cost more than they save
_BONUS = {"s": SAME_STORY, "p": SAME_TOPIC, "o": SHARED_OUTLET}
STORY_BOX = 5  # other reports of its story listed on an article's page (and so left out of its related stories)
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    description: str
    url: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Tag:
    key: str
    slug: str
    name: str
    url: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Outlet:
    host: str
    slug: str
    name: str
    url: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    url: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Year:
    year: int
    url: str
    months: tuple[Month, ...]  # newest first

    @property
    def count(self) -> int:
        return sum(len(m.articles) for m in self.months)


@dataclass(frozen=True)
class Ref:
    """A topic, tag, outlet or story as seen by a page that only links to it.

    It holds no articles, so the page does not change when the entity's
    articles do (the page plan hashes what each page is given).
    """

    slug: str
    name: str
    url: str
    description: str = ""
    count: int = 0  # the reports of a story; 0 for the others


@dataclass(frozen=True)
class SiteIndex:
    articles: tuple[Article, ...]  # newest first
    topics: tuple[Topic, ...]  # site.yaml order, then unlisted topics by slug
    tags: tuple[Tag, ...]  # by name
    outlets: tuple[Outlet, ...]  # by name
    stories: tuple[Story, ...]  # most reports first, then latest report first
    years: tuple[Year, ...]  # newest first
    related: dict[str, tuple[Article, ...]]  # article path -> related articles
    more_from_topic: dict[str, tuple[Article, ...]]
    older: dict[str, Article]  # previous in time
    newer: dict[str, Article]  # next in time
    tags_of: dict[str, tuple[Tag, ...]]  # article path -> its tags
    outlet_of: dict[str, Outlet]  # source host -> outlet
    topic_of: dict[str, Topic]  # topic slug -> topic
    story_of: dict[str, Story]  # story slug -> story
    story_at: dict[str, Story]  # article path -> its story (by id or found)
    siblings: dict[str, tuple[Article, ...]]  # article path -> the other reports of its story its page lists
    expired: tuple[Article, ...] = ()  # past their "expires": own page only, in no list or feed
    month_names: tuple[str, ...] = MONTH_NAMES  # in the site's language, for a month's Ref
    refs: dict[int, Ref] = field(default_factory=dict, compare=False)  # made by .ref(), by the entity's id()

    def ref(self, entity: Topic | Tag | Outlet | Story | Month) -> Ref:
        """The one :class:`Ref` of *entity* in this index (made once, so its hash is computed once)."""
        if (made := self.refs.get(id(entity))) is None:
            if isinstance(entity, Story):
                made = Ref(entity.slug, entity.title, entity.url, count=len(entity.articles))
            elif isinstance(entity, Month):
                made = Ref(f"{entity.year:04d}-{entity.month:02d}", f"{self.month_names[entity.month - 1]} {entity.year}", entity.url)
            else:
                made = Ref(entity.slug, entity.name, entity.url, getattr(entity, "description", ""))
            self.refs[id(entity)] = made
        return made


def build_index(
    config: SiteConfig, articles: list[Article], jobs: int = 1, memo: Memo = NO_MEMO, notes: dict[str, StoryNote] | None = None
) -> tuple[SiteIndex, list[Problem]]:
    """Group, count and link the published articles (expired ones get only their page); *jobs* workers rank related stories.

    Ranking is the slow part: its result is memoised by the hash of every
    ranked article's metadata (``Article.meta_hash``), which a body edit leaves as it was.
    """
    problems: list[Problem] = []
    expired = [a for a in articles if a.expired]
    articles = [a for a in articles if not a.expired]
    topics = index_topics(config, articles, expired, problems)
    tags, tags_of = index_tags(articles, problems)
    outlets = index_outlets(articles)
    if expired:  # an expired article's sources keep their outlet pages, so its links resolve
        extra = [replace(o, articles=()) for o in index_outlets(expired, {o.slug: o.host for o in outlets})]
        outlets = tuple(sorted(outlets + tuple(extra), key=lambda o: (o.name.casefold(), o.slug)))
    stories = index_stories(config, articles, notes or {}, problems, memo)
    story_at = {a.path: s for s in stories for a in s.articles}
    siblings = {a.path: tuple(b for b in s.articles if b is not a)[:STORY_BOX] for s in stories if len(s.articles) > 1 for a in s.articles}
    years = index_archive(articles, config.tz)
    related = related_articles(articles, config.related_count, jobs, memo, story_at, siblings)
    shown = {path: {a.path for a in listed + siblings.get(path, ())} for path, listed in related.items()}  # "more" repeats neither
    index = SiteIndex(
        articles=tuple(articles),
        topics=topics,
        tags=tags,
        outlets=outlets,
        stories=stories,
        years=years,
        related=related,
        more_from_topic=more_from_topic(topics, config.more_from_topic, shown),
        older={newer.path: older for newer, older in pairwise(articles)},
        newer={older.path: newer for newer, older in pairwise(articles)},
        tags_of=tags_of,
        outlet_of={o.host: o for o in outlets},
        topic_of={t.slug: t for t in topics},
        story_of={s.slug: s for s in stories},
        story_at=story_at,
        siblings=siblings,
        expired=tuple(expired),
        month_names=month_names(config),
    )
    by_key = {t.key: t for t in tags}
    for article in expired:  # its page links to current stories only
        tags_of[article.path] = tuple(by_key[tag_key(t)] for t in article.tags if tag_key(t) in by_key)
        index.related[article.path] = ()
        index.more_from_topic[article.path] = index.topic_of[article.topic].articles[: config.more_from_topic]
    return index, problems


def related_articles(
    articles: list[Article], count: int, jobs: int, memo: Memo, story_at: dict[str, Story], siblings: dict[str, tuple[Article, ...]]
) -> dict[str, tuple[Article, ...]]:
    """:func:`rank_related`, memoised, with the paths it gives turned back into articles; the siblings an article's page lists are left out."""
    stories = {path: story.slug for path, story in story_at.items()}
    shown = {path: tuple(a.path for a in listed) for path, listed in siblings.items()}
    key = hash_of("related", str(count), *(a.meta_hash or hash_value(a) for a in articles), hash_value((stories, shown)))
    ranked: dict[str, tuple[str, ...]] | None = memo.get("related", key)
    if ranked is None:
        ranked = rank_related(articles, count, jobs, stories, shown)
        memo.put("related", key, ranked)
    by_path = {a.path: a for a in articles}
    return {path: tuple(by_path[p] for p in paths) for path, paths in ranked.items()}


def index_topics(config: SiteConfig, articles: list[Article], expired: list[Article], problems: list[Problem]) -> tuple[Topic, ...]:
    by_topic: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_topic[article.topic].append(article)
    topics = [Topic(info.slug, info.name, info.description, f"/topics/{info.slug}/", tuple(by_topic.get(info.slug, ()))) for info in config.topics]
    listed = {info.slug for info in config.topics}
    # An expired article's topic keeps its (possibly empty) page, so its link resolves.
    unlisted = sorted(by_topic.keys() - listed) + sorted({a.topic for a in expired} - listed - by_topic.keys())
    for slug in unlisted:
        if slug in by_topic:
            first = min(by_topic[slug], key=lambda a: a.path)
            problems.append(
                warning(
                    first.path,
                    dict(first.key_lines).get("topic", 1),
                    f'topic "{slug}" is not listed under "topics" in site.yaml; its name is derived from the slug',
                )
            )
        topics.append(Topic(slug, slug.replace("-", " ").title(), "", f"/topics/{slug}/", tuple(by_topic.get(slug, ()))))
    return tuple(topics)


def index_tags(articles: list[Article], problems: list[Problem]) -> tuple[tuple[Tag, ...], dict[str, tuple[Tag, ...]]]:
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    by_key: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        for tag in article.tags:
            key = tag_key(tag)
            spellings[key][tag] += 1
            by_key[key].append(article)
    tags: dict[str, Tag] = {}
    taken: dict[str, str] = {}
    # Most used tags claim their slug first, so a collision renames the rarer one.
    for key in sorted(by_key, key=lambda k: (-len(by_key[k]), k)):
        base = slug_or_hash(key, "tag")
        slug = unused_slug(base, taken)
        if slug != base:
            first = min(by_key[key], key=lambda a: a.path)
            problems.append(
                warning(
                    first.path,
                    dict(first.key_lines).get("tags", 1),
                    f'tag "{key}" would share the URL /tags/{base}/ with tag "{taken[base]}"; it is published at /tags/{slug}/',
                )
            )
        taken[slug] = key
        # Display name: the most common spelling, ties broken by the text itself.
        name = min(spellings[key].items(), key=lambda item: (-item[1], item[0]))[0]
        tags[key] = Tag(key, slug, name, f"/tags/{slug}/", tuple(by_key[key]))
    tags_of = {a.path: tuple(tags[tag_key(t)] for t in a.tags) for a in articles}
    return tuple(sorted(tags.values(), key=lambda t: (t.name.casefold(), t.slug))), tags_of


def index_outlets(articles: list[Article], listed: dict[str, str] | None = None) -> tuple[Outlet, ...]:
    """The outlets *articles* cite, each on a slug of its own; *listed*: outlets (slug -> host) already given a page, left out."""
    names: dict[str, Counter[str]] = defaultdict(Counter)
    by_host: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        for source in article.sources:
            names[source.outlet][source.name] += 1
            if not by_host[source.outlet] or by_host[source.outlet][-1] is not article:
                by_host[source.outlet].append(article)
    outlets = []
    taken = dict(listed or {})
    # Hosts such as a-b.com and a.b.com slug alike: the most cited keeps the slug.
    for host in sorted(by_host.keys() - taken.values(), key=lambda h: (-len(by_host[h]), h)):
        # Prefer a given name over the bare host name when editors supplied one.
        name = min(names[host].items(), key=lambda item: (item[0] == host, -item[1], item[0]))[0]
        slug = unused_slug(slug_or_hash(host, "source"), taken)
        taken[slug] = host
        outlets.append(Outlet(host, slug, name, f"/sources/{slug}/", tuple(by_host[host])))
    return tuple(sorted(outlets, key=lambda o: (o.name.casefold(), o.slug)))


def index_stories(config: SiteConfig, articles: list[Article], notes: dict[str, StoryNote], problems: list[Problem], memo: Memo) -> tuple[Story, ...]:
    """The stories of *articles* (:func:`digest.stories.group_stories`, memoised by their front matter), headlined by their note, else their best-supported report."""
    by_path = {a.path: a for a in articles}
    key = hash_of("stories", str(config.story_window_days), str(config.story_similarity), *(a.meta_hash or hash_value(a) for a in articles))
    groups: list[Group] | None = memo.get("stories", key)
    if groups is None:
        groups = group_stories(articles, config.story_window_days, config.story_similarity / 100)
        memo.put("stories", key, groups)
    stories = []
    for group in groups:
        listed = tuple(by_path[p] for p in group.paths)
        note = notes.get(group.id)
        lead = best_report(listed)
        title, summary = (note.title, note.summary or lead.summary) if note else (lead.title, lead.summary)
        overview, lead_path = (note.overview, "") if note else ("", lead.path)
        stories.append(Story(group.id, title, f"/stories/{group.id}/", listed, summary, overview, lead_path, bool(group.joins), group.joins))
    for slug in sorted(notes.keys() - {s.slug for s in stories}):
        problems.append(warning(notes[slug].path, 1, f'expected a story with the id "{slug}", found none; the note is not published'))
    return tuple(sorted(stories, key=lambda s: (-len(s.articles), -s.articles[0].date.timestamp(), s.slug)))


def index_archive(articles: list[Article], zone: tzinfo) -> tuple[Year, ...]:
    """The years and months of *articles*, each in the month its date falls in the site's time *zone*, as the editions
    and the pages' dates place it (not by the offset it was written with)."""
    by_month: dict[tuple[int, int], list[Article]] = defaultdict(list)
    for article in articles:
        local = article.date.astimezone(zone)
        by_month[(local.year, local.month)].append(article)
    years: dict[int, list[Month]] = defaultdict(list)
    for (year, month), listed in sorted(by_month.items(), reverse=True):
        years[year].append(Month(year, month, f"/archive/{year:04d}/{month:02d}/", tuple(listed)))
    return tuple(Year(year, f"/archive/{year:04d}/", tuple(months)) for year, months in sorted(years.items(), reverse=True))


def rank_related(
    articles: list[Article], count: int, jobs: int = 1, stories: dict[str, str] | None = None, shown: dict[str, tuple[str, ...]] | None = None
) -> dict[str, tuple[str, ...]]:
    """The paths of up to *count* related articles for each article (never itself).

    Score: the IDF of every shared tag, plus bonuses for the same story, the
    same topic and a shared outlet, plus closeness in time; ties go to the newer
    article, then the URL. An article that shares nothing gets recent stories
    from its topic, and when even that is too few, the stories closest in time.

    Postings (tag, story, outlet, topic -> articles) are in date order, and a
    long one is scored only in a window of the articles nearest in time. Only
    candidates sharing two or more postings get their exact score at first:
    one sharing a single posting scores at most its weight plus RECENCY,
    usually below the best *count* found already. The result is the same as
    scoring every candidate. *stories*: each article's story id (default: its
    ``story:``); *shown*: the articles its page lists already, never ranked for
    it. *jobs* forked workers rank parts of the list; the result does not depend on it.
    """
    if count <= 0:
        return {a.path: () for a in articles}
    if stories is None:
        stories = {a.path: a.story for a in articles if a.story and a.story != NO_STORY}
    at = {a.path: i for i, a in enumerate(articles)}
    excluded = [frozenset(at[p] for p in (shown or {}).get(a.path, ()) if p in at) for a in articles]
    total = len(articles)
    stamps = [a.date.timestamp() for a in articles]
    urls = [a.url for a in articles]
    postings: dict[str, list[int]] = defaultdict(list)
    keys_of: list[list[str]] = []
    at_of: list[list[int]] = []  # where the article first stands in each of its posting lists
    repeated = False  # an article lists a tag twice: its postings repeat, so score every candidate
    for position, article in enumerate(articles):
        # The posting lists the article is on, in the order its scores are summed.
        keys = ["t:" + tag_key(t) for t in article.tags]
        keys += ["o:" + o for o in sorted({s.outlet for s in article.sources})]
        keys.append("p:" + article.topic)
        if article.path in stories:
            keys.append("s:" + stories[article.path])
        repeated = repeated or len(set(keys)) < len(keys)
        at_of.append([len(postings[key]) for key in keys])
        for key in keys:
            postings[key].append(position)
        keys_of.append(keys)
    weight = {key: (math.log(1 + total / len(listed)) if key[0] == "t" else _BONUS[key[0]]) for key, listed in postings.items()}
    parts = in_chunks(_rank, (count, stamps, urls, postings, keys_of, at_of, weight, repeated, excluded), list(range(total)), jobs, PARALLEL_RANKING)
    ranked = [best for part in parts for best in part]
    return {article.path: tuple(articles[i].path for i in ranked[position]) for position, article in enumerate(articles)}


def _rank(
    count: int,
    stamps: list[float],
    urls: list[str],
    postings: dict[str, list[int]],
    keys_of: list[list[str]],
    at_of: list[list[int]],
    weight: dict[str, float],
    repeated: bool,
    excluded: list[frozenset[int]],
    positions: Iterable[int],
) -> list[list[int]]:
    """The positions of the related articles of the articles at *positions* (see :func:`rank_related`)."""
    found: list[list[int]] = []
    for position in positions:
        windows = []  # (weight, postings nearest in time)
        for key, at in zip(keys_of[position], at_of[position], strict=True):
            listed = postings[key]
            windows.append((weight[key], listed if len(listed) <= 2 * WINDOW + 1 else listed[max(0, at - WINDOW) : at + WINDOW + 1]))
        if repeated:
            shared = set().union(*(listed for _, listed in windows))
        else:  # the candidates in two or more windows
            seen = set(windows[0][1])
            shared = set()
            for _, listed in windows[1:]:
                shared.update(seen.intersection(listed))
                seen.update(listed)
        shared.discard(position)
        skip = excluded[position]
        shared -= skip
        sums: dict[int, float] = {}
        for key_weight, listed in windows:  # in the article's key order, as the sums are rounded
            for other in filter(shared.__contains__, listed) if repeated else shared.intersection(listed):
                sums[other] = sums.get(other, 0.0) + key_weight
        # A candidate scores at least its sum and less than its sum + RECENCY.
        cut = sorted(sums.values())[-count] if len(sums) >= count else -math.inf
        when = stamps[position]
        ranked: list[tuple[float, float, str, int]] = []
        for other, score in sums.items():
            if score + RECENCY >= cut:
                stamp = stamps[other]
                score += RECENCY * math.exp(-abs(stamp - when) / 86400 / RECENCY_DAYS)
                ranked.append((-score, -stamp, urls[other], other))
        ranked.sort()
        threshold = -ranked[count - 1][0] if len(ranked) >= count else -math.inf
        for key_weight, listed in windows:
            if key_weight + RECENCY < threshold:
                continue  # no candidate that shares only this posting can reach the best *count*
            # Nor one so far apart in time that its score stays below the threshold by more than 1e-9,
            # a margin far wider than the rounding of any score.
            short = threshold - key_weight - 1e-9
            reach = math.inf if short <= 0 else -math.log(short / RECENCY) * 86400 * RECENCY_DAYS * (1 + 1e-9) + 1
            for other in listed:
                if other != position and other not in shared and other not in skip and abs(stamps[other] - when) <= reach:
                    stamp = stamps[other]
                    score = key_weight + RECENCY * math.exp(-abs(stamp - when) / 86400 / RECENCY_DAYS)
                    ranked.append((-score, -stamp, urls[other], other))
        best = [other for *_, other in sorted(ranked)[:count]]
        if len(best) < count:
            best += _nearest_in_time(stamps, position, count - len(best), exclude={position, *best, *skip})
        found.append(best)
    return found


def _nearest_in_time(stamps: list[float], position: int, count: int, exclude: set[int]) -> list[int]:
    """Fallback when too little is shared: the stories published closest in time."""
    lo, hi = position - 1, position + 1
    found: list[int] = []
    when = stamps[position]
    while len(found) < count and (lo >= 0 or hi < len(stamps)):
        before = when - stamps[hi] if hi < len(stamps) else math.inf
        after = stamps[lo] - when if lo >= 0 else math.inf
        if before <= after:
            if hi not in exclude:
                found.append(hi)
            hi += 1
        else:
            if lo not in exclude:
                found.append(lo)
            lo -= 1
    return found


def more_from_topic(topics: tuple[Topic, ...], count: int, shown: dict[str, set[str]]) -> dict[str, tuple[Article, ...]]:
    """For each article, the stories of its topic nearest to it in time, but those its page *shown* already (related, its story's)."""
    more: dict[str, tuple[Article, ...]] = {}
    for topic in topics:
        listed = topic.articles
        for position, article in enumerate(listed):
            skip = shown.get(article.path, set())
            wanted = count + len(skip)  # enough to leave *count* once those are skipped
            start = max(0, min(position - wanted // 2, len(listed) - wanted - 1))
            nearby = [a for a in listed[start : start + wanted + 1] if a is not article and a.path not in skip]
            more[article.path] = tuple(nearby[:count])
    return more
