"""rank_related against the straightforward ranking it replaced, on seeded random sites.

The reference below scores every candidate in every window; the optimised
ranking must give the same articles in the same order for every article.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from digest.content import Article, Source, tag_key
from digest.index import _BONUS, RECENCY, RECENCY_DAYS, WINDOW, _near, rank_related


def reference_rank_related(articles: list[Article], count: int) -> dict[str, tuple[Article, ...]]:
    if count <= 0:
        return {a.path: () for a in articles}
    total = len(articles)
    postings: dict[str, list[int]] = defaultdict(list)
    for position, article in enumerate(articles):
        for tag in article.tags:
            postings["t:" + tag_key(tag)].append(position)
        if article.story:
            postings["s:" + article.story].append(position)
        for outlet in {s.outlet for s in article.sources}:
            postings["o:" + outlet].append(position)
        postings["p:" + article.topic].append(position)
    weight = {key: (math.log(1 + total / len(listed)) if key[0] == "t" else _BONUS[key[0]]) for key, listed in postings.items()}
    related: dict[str, tuple[Article, ...]] = {}
    for position, article in enumerate(articles):
        keys = ["t:" + tag_key(t) for t in article.tags]
        keys += ["o:" + o for o in sorted({s.outlet for s in article.sources})]
        keys.append("p:" + article.topic)
        if article.story:
            keys.append("s:" + article.story)
        scores: dict[int, float] = defaultdict(float)
        for key in keys:
            for other in _near(postings[key], position, WINDOW):
                scores[other] += weight[key]
        scores.pop(position, None)
        when = article.date.timestamp()
        ranked = []
        for other, score in scores.items():
            stamp = articles[other].date.timestamp()
            score += RECENCY * math.exp(-abs(stamp - when) / 86400 / RECENCY_DAYS)
            ranked.append((-score, -stamp, articles[other].url, other))
        best = [other for *_, other in sorted(ranked)[:count]]
        if len(best) < count:
            best += reference_nearest_in_time(articles, position, count - len(best), exclude={position, *best})
        related[article.path] = tuple(articles[i] for i in best)
    return related


def reference_nearest_in_time(articles: list[Article], position: int, count: int, exclude: set[int]) -> list[int]:
    lo, hi = position - 1, position + 1
    found: list[int] = []
    when = articles[position].date.timestamp()
    while len(found) < count and (lo >= 0 or hi < len(articles)):
        before = when - articles[hi].date.timestamp() if hi < len(articles) else math.inf
        after = articles[lo].date.timestamp() - when if lo >= 0 else math.inf
        if before <= after:
            if hi not in exclude:
                found.append(hi)
            hi += 1
        else:
            if lo not in exclude:
                found.append(lo)
            lo -= 1
    return found


def random_site(seed: int) -> tuple[list[Article], int]:
    """A site shaped by the seed: few or many tags, shared stories, equal dates, one outlet for all..."""
    rng = random.Random(seed)
    n = rng.choice([1, 2, 3, 7, 30, 120, 400])
    n_tags = rng.choice([1, 2, 5, 40, 200, 600])
    n_topics = rng.choice([1, 3, 8])
    n_hosts = rng.choice([1, 4, 30])
    n_stories = rng.choice([0, 3, n // 3 + 1])
    day_span = rng.choice([0, 1, 5, 30, 90, 700])  # 0: every article at the same moment (ties everywhere)
    zipf = rng.random() < 0.5
    articles = []
    for i in range(n):
        k = rng.randint(0, min(6, n_tags)) if rng.random() < 0.9 else 0
        tags = {f"Tag {min(int(rng.paretovariate(1.2)) - 1, n_tags - 1)}" if zipf else f"tag {rng.randrange(n_tags)}" for _ in range(k)}
        shown = tuple(t.upper() if rng.random() < 0.1 else t for t in sorted(tags))
        hosts = sorted({f"h{rng.randrange(n_hosts)}.test" for _ in range(rng.randint(1, 3))})
        topic = f"t{rng.randrange(n_topics)}"
        story = f"s{rng.randrange(n_stories)}" if n_stories and rng.random() < 0.3 else ""
        seconds = rng.randrange(day_span * 86400 + 1)
        if rng.random() < 0.2:
            seconds -= seconds % 86400  # many articles at midnight: equal dates
        articles.append(
            Article(
                path=f"content/{topic}/{i}.md", slug=str(i), topic=topic, url=f"/{topic}/{i}/", title=f"Story {i}",
                date=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds), updated=None, tags=shown,
                sources=tuple(Source(f"https://{h}/{i}", h, False, h) for h in hosts), confidence=50, confidence_label="Medium",
                review="unreviewed", model="", summary="", why_it_matters=(), story=story, author="", lang="en", draft=False, body="", body_line=1,
            )
        )  # fmt: skip
    articles.sort(key=lambda a: (-a.date.timestamp(), a.url))
    return articles, rng.choice([1, 3, 5, 8, 20])


@pytest.mark.parametrize("seed", range(100))
def test_rank_related_matches_the_reference(seed: int) -> None:
    articles, count = random_site(seed)
    assert rank_related(articles, count) == reference_rank_related(articles, count)


def test_rank_related_matches_the_reference_with_repeated_tags_and_unsorted_articles() -> None:
    articles, count = random_site(7)
    rng = random.Random(7)
    articles = [a if rng.random() < 0.7 else replace_tags(a, a.tags + a.tags[:1]) for a in articles]
    rng.shuffle(articles)
    assert rank_related(articles, count) == reference_rank_related(articles, count)
    assert rank_related(articles, 0) == reference_rank_related(articles, 0)


def replace_tags(article: Article, tags: tuple[str, ...]) -> Article:
    return replace(article, tags=tags)


def edited(articles: list[Article], rng: random.Random) -> list[Article]:
    """The site after an editor's few changes: tags, topics, outlets, stories, titles, now and then a date."""
    articles = list(articles)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(articles))
        a = articles[i]
        change = rng.choice(["tags", "tags", "tags", "topic", "outlets", "story", "title", "date"])
        if change == "tags":
            kept = [t for t in a.tags if rng.random() < 0.5]
            a = replace_tags(a, tuple(sorted({*kept, *(f"Tag {rng.choice([0, 0, 1, 2, 7, 30, 150])}" for _ in range(rng.randint(0, 3)))})))
        elif change == "topic":
            a = replace(a, topic=f"t{rng.randrange(3)}")
        elif change == "outlets":
            a = replace(a, sources=(Source(f"https://h{rng.randrange(30)}.test/x", "h.test", False, f"h{rng.randrange(30)}.test"),))
        elif change == "story":
            a = replace(a, story="" if a.story else "s0")
        elif change == "title":
            a = replace(a, title=a.title + " (updated)")
        else:
            a = replace(a, date=a.date + timedelta(hours=rng.randint(1, 100)))
        articles[i] = a
    articles.sort(key=lambda a: (-a.date.timestamp(), a.url))
    return articles


@pytest.mark.parametrize("seed", range(60))
def test_ranking_again_from_a_previous_result_matches_ranking_from_scratch(seed: int) -> None:
    # Only the articles whose ranking can have changed are ranked again; the others keep
    # their previous related stories (as this build's Article objects).
    articles, count = random_site(seed + 1000)
    rng = random.Random(seed)
    previous = rank_related(articles, count)
    for _ in range(3):
        changed = edited(articles, rng)
        again = rank_related(changed, count, previous=(tuple(articles), previous))
        assert again == rank_related(changed, count)
        by_path = {a.path: a for a in changed}
        assert all(r is by_path[r.path] for listed in again.values() for r in listed)
        articles, previous = changed, again
