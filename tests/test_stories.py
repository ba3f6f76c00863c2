"""Stories found by likeness: measured quality on a labelled fixture, the rules of ids, and the sample site's event."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import Built, parse, source_date
from sitekit import snapshot
from story_fixture import ROWS

from digest.config import SiteConfig
from digest.errors import ContentError
from digest.index import build_index
from digest.options import BuildOptions
from digest.pages import developing
from digest.schema import Article, Source
from digest.site import build_site, load_site
from digest.stories import group_stories

REPO = Path(__file__).resolve().parent.parent
DEFAULTS = SiteConfig(root=Path("."))
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def report(n: int, title: str, summary: str, tags: tuple[str, ...], urls: tuple[str, ...], day: float, story: str = "") -> Article:
    return Article(
        path=f"content/news/r{n:02d}.md", slug=f"r{n:02d}", topic="news", url=f"/news/r{n:02d}/", title=title, date=START + timedelta(days=day),
        updated=None, tags=tags, sources=tuple(Source(u, u, False, u.split("/")[2]) for u in urls), confidence=60, confidence_label="Medium",
        review="unreviewed", model="", summary=summary, lede=summary, why_it_matters=(), story=story, author="", lang="en", draft=False, body_line=1,
    )  # fmt: skip


def newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.date, a.path), reverse=True)


FIXTURE = newest_first([report(n, title, summary, tags, urls, day) for n, (_label, day, title, summary, tags, urls) in enumerate(ROWS)])
LABELS = {f"content/news/r{n:02d}.md": row[0] for n, row in enumerate(ROWS)}


def group(articles: list[Article], window: int = DEFAULTS.story_window_days) -> dict[str, str]:
    return {path: g.id for g in group_stories(articles, window, DEFAULTS.story_similarity / 100) for path in g.paths}


def test_fixture_is_large_and_varied_enough() -> None:
    events = {label for label in LABELS.values() if not label.startswith("x-")}
    sizes = [sum(1 for label in LABELS.values() if label == event) for event in events]
    assert len(ROWS) >= 60 and len(events) >= 12 and min(sizes) >= 2 and max(sizes) <= 5
    assert len({title for _, _, title, *_ in ROWS}) == len(ROWS)


def test_pairwise_precision_and_recall() -> None:
    found = group(FIXTURE)
    true_positive = false_positive = false_negative = 0
    for a, b in itertools.combinations(sorted(LABELS), 2):
        same, joined = LABELS[a] == LABELS[b], a in found and found.get(a) == found.get(b)
        true_positive += same and joined
        false_positive += joined and not same
        false_negative += same and not joined
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    print(f"story grouping on {len(ROWS)} reports: pairwise precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.9 and recall >= 0.9


def test_window_zero_groups_only_by_id() -> None:
    assert group(FIXTURE, window=0) == {}


def test_id_of_found_story_is_its_earliest_report_and_survives_a_later_report() -> None:
    labelled = [(n, row) for n, row in enumerate(ROWS) if row[0] == "jailbreak"]
    articles = newest_first([report(n, row[2], row[3], row[4], row[5], row[1]) for n, row in labelled])
    before = set(group(articles[1:]).values())  # without the newest report
    after = set(group(articles).values())
    assert before == after == {articles[-1].slug}


def test_explicit_id_wins_attracts_and_none_opts_out() -> None:
    rows = [row for row in ROWS if row[0] == "halcyon-release"]
    articles = [report(n, r[2], r[3], r[4], r[5], r[1]) for n, r in enumerate(rows)]
    articles[3] = replace(articles[3], story="halcyon")  # the latest names the story: the others join it
    articles[2] = replace(articles[2], story="none")
    found = group(newest_first(articles))
    assert found == {articles[0].path: "halcyon", articles[1].path: "halcyon", articles[3].path: "halcyon"}


def test_a_big_event_with_a_hundred_reports_is_one_story() -> None:
    """The more coverage an event gets, the more surely it is one story: its words are then shared by more reports
    within the window than the index lets propose pairs, so the nearest in time propose them."""
    titles = [
        "Nvidia recalls Blackwell boards after Zephyr thermal faults",
        "Zephyr faults force Nvidia Blackwell board recall",
        "Nvidia pulls Blackwell boards over Zephyr heat",
    ]
    event = [
        report(n, titles[n % 3], "Nvidia recalled Blackwell boards after thermal faults at Zephyr's data centers.", ("Nvidia", "recall"),
               ("https://nvidia.example/recall", f"https://outlet{n % 30}.example/story-{n}"), n / 100)
        for n in range(100)
    ]  # fmt: skip
    background = [replace(article, path=f"content/news/b{n:03d}.md", date=article.date + timedelta(days=30 + n % 20)) for n, article in enumerate(FIXTURE * 40)]
    found = group(newest_first(event + background))
    assert len({found.get(article.path) for article in event}) == 1 and None not in {found.get(a.path) for a in event}


def test_two_named_stories_never_merge() -> None:
    rows = [row for row in ROWS if row[0] == "outage"]
    articles = [report(n, r[2], r[3], r[4], r[5], r[1], story=f"named-{n}") for n, r in enumerate(rows[:2])]
    articles.append(report(9, rows[2][2], rows[2][3], rows[2][4], rows[2][5], rows[2][1]))
    found = group(newest_first(articles))
    assert found[articles[0].path] == "named-0" and found[articles[1].path] == "named-1"


@pytest.fixture(scope="module")
def sample_without_ids(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site with every ``story:`` id and every story note removed."""
    root = tmp_path_factory.mktemp("sample") / "site"
    shutil.copytree(REPO / "content", root / "content", ignore=shutil.ignore_patterns("stories"))
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    for path in (root / "content").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        path.write_text("\n".join(line for line in text.split("\n") if not line.startswith("story:")), encoding="utf-8")
    return root


def test_sample_event_is_one_story_without_any_id(sample_without_ids: Path) -> None:
    with source_date():
        site = load_site(BuildOptions(source=sample_without_ids, cache=False))
    several = [s for s in site.index.stories if len(s.articles) > 1]
    assert [s.slug for s in several] == ["musk-xai-distillation-testimony"]  # named after its earliest report
    story = several[0]
    assert {a.slug for a in story.articles} == {
        "musk-xai-distillation-testimony",
        "distillation-terms-of-service-legal-questions",
        "what-is-model-distillation",
        "api-rate-limits-against-distillation",
    }
    # Headlined by the human-reviewed report with the highest confidence, not by the most official sources alone.
    assert story.title == "Musk says xAI partly distilled OpenAI models to train Grok"


def test_sample_story_page_shows_note_timeline_and_totals(sample_site: Built) -> None:
    output = sample_site.out
    soup = BeautifulSoup((output / "stories/musk-openai-trial/index.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.h1.get_text().startswith("Full coverage: Musk's testimony")  # the editor's note names it
    assert soup.select_one("#overview-heading") is not None
    assert soup.select_one('.overview a[href="/business/musk-xai-distillation-testimony/"]')  # a link to a report's file
    timeline = [a["href"] for a in soup.select("ol.timeline h3 a")]
    assert len(timeline) == 4 and timeline[0] == "/business/musk-xai-distillation-testimony/"
    facts = {dt.get_text(): dt.find_next("dd").get_text() for dt in soup.select(".story-facts dt")}
    assert facts["Reports"] == "4" and int(facts["Official sources"]) >= 1
    article = BeautifulSoup((output / "research/what-is-model-distillation/index.html").read_text(encoding="utf-8"), "html.parser")
    box = article.select_one("section.story-box")
    assert "3 other reports" in box.get_text() and box.select_one('a[href="/stories/musk-openai-trial/"]')


def test_a_weekly_edition_shows_a_found_story_once_with_its_reports(sample_site: Built) -> None:
    """Three of the testimony's reports fall in ISO week 18; only the first carries the story id, the others are found."""
    soup = BeautifulSoup((sample_site.out / "editions/2026/w18/index.html").read_text(encoding="utf-8"), "html.parser")
    counts = {a["href"]: a.get_text() for a in soup.select("a.count")}
    assert counts.get("/stories/musk-openai-trial/") == "3 reports"
    headlines = [a.get_text(" ", strip=True) for a in soup.select("article.card h3 a")]
    assert sum("distill" in h.lower() for h in headlines) == 1, headlines  # the story once, not each report


def test_feeds_carry_the_story_id(sample_site: Built) -> None:
    atom = feedparser.parse((sample_site.out / "feed.xml").read_bytes())
    entry = next(e for e in atom.entries if e.link.endswith("/research/what-is-model-distillation/"))
    story = [t for t in entry.tags if t.scheme == "https://example.org/stories/"]
    assert [t.term for t in story] == ["musk-openai-trial"]
    items = json.loads((sample_site.out / "feed.json").read_text(encoding="utf-8"))["items"]
    item = next(i for i in items if i["url"].endswith("/research/what-is-model-distillation/"))
    assert item["_digest"]["story"] == "musk-openai-trial" and item["_digest"]["sources"]


def test_story_note_problems_are_located_and_notes_are_not_articles(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("sample")
    notes = site / "content" / "stories"
    (notes / "broken.md").write_text("---\ntitel: x\nsummary: [1, 2]\n---\nBody with [a link](../nowhere.md).\n", encoding="utf-8")
    (notes / "orphan.md").write_text("---\ntitle: A story nobody wrote\n---\n", encoding="utf-8")
    with source_date(), pytest.raises(ContentError) as failed:
        load_site(BuildOptions(source=site, cache=False))
    found = {(p.path, p.line, p.is_error) for p in failed.value.problems}
    assert ("content/stories/broken.md", 2, False) in found  # unknown field "titel"
    assert ("content/stories/broken.md", 3, True) in found  # summary: not text
    assert ("content/stories/broken.md", 1, True) in found  # no title
    assert ("content/stories/orphan.md", 1, False) in found  # no story has this id
    assert all(not p.path.startswith("content/stories/") or "topic" not in p.message for p in failed.value.problems)


def test_an_article_links_to_a_story_by_its_note(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    site = copy_site("sample")
    story = next((site / "content" / "business").glob("*.md"))
    story.write_text(story.read_text(encoding="utf-8") + "\nThe whole [trial so far](../stories/musk-openai-trial.md#reports).\n", encoding="utf-8")
    with source_date():
        out = build_site(BuildOptions(source=site, output=tmp_path / "out")).output
    page = parse(out / "business" / story.stem / "index.html")
    [link] = [a for a in page.select(".body a") if a.get_text() == "trial so far"]
    assert link["href"] == "/stories/musk-openai-trial/#reports" and (out / "stories/musk-openai-trial/index.html").is_file()


def test_cached_rebuild_after_a_note_edit_equals_a_clean_build(copy_site: Callable[[str], Path], tmp_path: Path) -> None:
    site = copy_site("sample")
    with source_date():
        build_site(BuildOptions(source=site, output=tmp_path / "cached"))
        note = site / "content" / "stories" / "musk-openai-trial.md"
        note.write_text(note.read_text(encoding="utf-8").replace("Musk's testimony on", "Musk under oath on"), encoding="utf-8")
        build_site(BuildOptions(source=site, output=tmp_path / "cached"))
        build_site(BuildOptions(source=site, output=tmp_path / "clean", cache=False))
    assert snapshot(tmp_path / "cached") == snapshot(tmp_path / "clean")
    assert "Musk under oath on" in (tmp_path / "clean" / "stories/musk-openai-trial/index.html").read_text(encoding="utf-8")


def test_developing_stories_rank_by_recent_coverage_and_the_index_by_size() -> None:
    old = [report(n, f"Old event report {n}", "", ("a",), (f"https://o.example/{n}",), day=n * 0.1, story="old") for n in range(4)]
    new = [report(10 + n, f"New event report {n}", "", ("b",), (f"https://n.example/{n}",), day=30 + n * 0.1, story="new") for n in range(2)]
    index, _ = build_index(DEFAULTS, newest_first(old + new))
    assert [s.slug for s in developing(index)] == ["new", "old"]  # two reports this week beat four a month ago
    assert [s.slug for s in index.stories] == ["old", "new"]  # the stories index: most reports first


def test_two_unrelated_reports_that_share_tags_and_one_word_are_not_found_alike() -> None:
    """On a small site nearly every word is rare: two tags and "model" in common once made two unrelated reports one story at 1.00."""
    vision = report(1, "Vision model reads charts better than people, lab says", "", ("vision", "benchmarks", "LLMs"), ("https://a.example/v",), 0)
    summary = "A 60-page paper claims a 7B model matches far larger ones on reasoning."
    atlas = report(2, "Inside the Atlas-7 paper: benchmarks and caveats", summary, ("OpenAI", "LLMs", "benchmarks", "evaluation"), ("https://b.example/a",), 2)
    assert group(newest_first([vision, atlas])) == {}
