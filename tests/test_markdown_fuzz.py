"""Fuzzing both Markdown engines with what made them crash or crawl: deep nesting and repeated headings.

Random bodies mix lines that open many quotes and list items at once, lists
nested deeper line by line, runs of identical headings, raw HTML and script
links. On either engine a body renders
quickly to safe markup with a unique id on every h2-h4, or, when a line opens
more than 100 levels, is refused with the nesting error; never a crash.

The runs are derandomized so CI is stable; ``DIGEST_FUZZ=<examples>`` explores
with fresh random input.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st
from sitekit import fuzz_settings, unsafe_markup

from digest.config import SiteConfig
from digest.markdown import TOO_DEEP, BodyRenderer
from digest.schema import Article

SETTINGS = fuzz_settings(60)
LIMIT = 100  # levels a line may open (digest.bodytext.MAX_NESTING)
NESTING_ERROR = f"expected quotes and lists nested at most {LIMIT} levels deep on one line, found more; write it flatter"
MARKERS = ["> ", "- ", "* ", "+ ", "1. ", "2) "]
WORDS = ["a", "A", "a 1", "a-1", "Results", "résumé", "日本語", "1", "-", "<script>alert(1)</script>", "[x](javascript:alert(1))", "`code`"]


def article() -> Article:
    return Article(
        path="content/news/a.md", slug="a", topic="news", url="/news/a/", title="A", date=datetime(2026, 1, 1, tzinfo=UTC), updated=None,
        tags=("x",), sources=(), confidence=50, confidence_label="Medium", review="unreviewed", model="", summary="", why_it_matters=(),
        story="", author="", lang="en", draft=False, body_line=8,
    )  # fmt: skip


nested = st.tuples(st.lists(st.sampled_from(MARKERS), max_size=140), st.sampled_from(WORDS))
ladder = st.integers(1, 150)  # a list nested one level deeper on each line, by indentation
repeated_headings = st.tuples(st.integers(2, 4), st.sampled_from(WORDS), st.integers(1, 40))
block = st.one_of(
    nested.map(lambda made: ("nest", len(made[0]), "".join(made[0]) + made[1])),
    repeated_headings.map(lambda made: ("headings", made[2], f"{'#' * made[0]} {made[1]}\n\n" * made[2])),
    ladder.map(lambda depth: ("ladder", depth, "".join(f"{'  ' * level}- x\n" for level in range(depth)))),
    st.sampled_from(WORDS).map(lambda word: ("text", 0, word)),
)


def levels(text: str) -> int:
    """How deep *text* nests at most: a level a quote, two a list item, by markers on a line or by indentation."""
    deepest = 0
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        indent = (len(line) - len(stripped)) // 2 * 2
        markers = stripped.split(" ")
        deepest = max(deepest, indent + sum(1 if marker == ">" else 2 for marker in markers if marker in (">", "-", "*", "+", "1.", "2)")))
    return deepest


@pytest.fixture(params=["python", "rust"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@SETTINGS
@given(blocks=st.lists(block, min_size=1, max_size=8), allow_html=st.booleans())
def test_nested_and_repeated_bodies_render_safely_or_are_refused(engine: str, blocks: list[tuple[str, int, str]], allow_html: bool) -> None:
    body = "\n\n".join(text for _, _, text in blocks) + "\n"
    renderer = BodyRenderer(SiteConfig(root=Path("."), allow_html=allow_html, markdown_engine=engine), {})
    started = time.perf_counter()
    rendered, problems = renderer.render(article(), body)
    assert time.perf_counter() - started < 5, "a guard far above the expected time, not a benchmark"
    too_deep = any(kind == "nest" and depth > LIMIT for kind, depth, _ in blocks)
    assert [p.message for p in problems if p.message == NESTING_ERROR] == ([NESTING_ERROR] if too_deep else [])
    if problems and not too_deep:  # markdown-it-py stops at its own depth, and says so rather than drop the rest
        assert renderer.engine == "python" or allow_html
        assert [p.message for p in problems] == [TOO_DEEP] and max(levels(text) for _, _, text in blocks) >= 40
    if problems:
        assert all(p.path == "content/news/a.md" and p.line >= 8 for p in problems)
        return
    soup = BeautifulSoup(rendered.html, "html.parser")
    ids = [heading.get("id") for heading in soup.select("h2, h3, h4")]
    assert all(ids) and len(ids) == len(set(ids)), "every h2-h4 has an id of its own"
    assert len(ids) >= sum(count for kind, count, _ in blocks if kind == "headings"), "no repeated heading is lost"
    assert len(soup.find_all("li")) >= sum(depth for kind, depth, _ in blocks if kind == "ladder"), "no nested list item is lost"
    assert unsafe_markup(rendered.html) == []
