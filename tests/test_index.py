"""The index stage: related stories, tags, outlets and stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import digest.index
from digest.index import rank_related
from digest.schema import Article, Source


def make(n: int, tags: tuple[str, ...], topic: str = "news", story: str = "", days: int = 0, host: str = "example.test") -> Article:
    return Article(
        path=f"content/{topic}/{n}.md", slug=str(n), topic=topic, url=f"/{topic}/{n}/", title=f"Story {n}",
        date=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days), updated=None, tags=tags,
        sources=(Source(f"https://{host}/{n}", host, False, host),), confidence=50, confidence_label="Medium", review="unreviewed",
        model="", summary="", why_it_matters=(), story=story, author="", lang="en", draft=False, body_line=1,
    )  # fmt: skip


def newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (-a.date.timestamp(), a.url))


def test_rare_tags_outweigh_common_ones() -> None:
    common = [make(i, ("ai",), days=i, host=f"h{i}.test") for i in range(20)]
    a = make(100, ("ai", "rare"), topic="x", days=5, host="a.test")
    b = make(101, ("rare",), topic="y", days=40, host="b.test")
    articles = newest_first([*common, a, b])
    related = rank_related(articles, 3)
    assert related[a.path][0] == b.path
    assert a.path not in related[a.path]


def test_same_story_ranks_high_and_self_is_never_related() -> None:
    articles = newest_first([make(1, ("x",), story="s", days=0), make(2, ("y",), story="s", days=60), make(3, ("x",), days=1)])
    related = rank_related(articles, 5)
    for article in articles:
        assert article.path not in related[article.path]
    story = {a.path: a.story for a in articles}
    assert story[related[articles[-1].path][0]] == "s"


def test_articles_sharing_nothing_still_get_recent_neighbours() -> None:
    articles = newest_first([make(i, (f"only{i}",), topic=f"t{i}", days=i, host=f"h{i}.test") for i in range(6)])
    related = rank_related(articles, 2)
    assert all(len(links) == 2 for links in related.values())


def test_a_tag_on_every_article_still_gives_every_article_its_related_stories() -> None:
    articles = newest_first([make(i, ("everywhere",), days=i % 700, host="same.test") for i in range(600)])
    related = rank_related(articles, 5)
    assert all(len(links) == 5 for links in related.values())


def test_related_ranking_is_deterministic() -> None:
    articles = newest_first([make(i, ("a", "b") if i % 2 else ("a",), days=i % 3) for i in range(30)])
    assert rank_related(articles, 5) == rank_related(list(articles), 5)


def test_ranking_in_workers_matches_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest.index, "PARALLEL_RANKING", 10)
    tags = ("a", "b", "c", "d", "e")
    articles = newest_first([make(i, (tags[i % 5], tags[i % 3]), topic=f"t{i % 4}", days=i % 90, host=f"h{i % 7}.test") for i in range(301)])
    alone = rank_related(articles, 5)
    split = rank_related(articles, 5, jobs=3)
    assert split == alone
    assert len(split[articles[0].path]) == 5
