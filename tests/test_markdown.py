"""The markdown stage: CommonMark plus extensions, escaping and sanitizing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup

from digest.config import SiteConfig
from digest.content import Article
from digest.markdown import BodyRenderer, first_paragraph


def article(body: str) -> Article:
    return Article(
        path="content/news/a.md", slug="a", topic="news", url="/news/a/", title="A", date=datetime(2026, 1, 1, tzinfo=UTC), updated=None,
        tags=("x",), sources=(), confidence=50, confidence_label="Medium", review="unreviewed", model="", summary="", why_it_matters=(),
        story="", author="", lang="en", draft=False, body=body, body_line=8,
    )  # fmt: skip


def render(body: str, allow_html: bool = False) -> BeautifulSoup:
    renderer = BodyRenderer(SiteConfig(root=Path("."), allow_html=allow_html), {})
    rendered, problems = renderer.render(article(body))
    assert problems == []
    return BeautifulSoup(rendered.html, "html.parser")


def test_raw_html_is_escaped_by_default() -> None:
    soup = render('<script>alert(1)</script>\n\n<b onclick="x()">bold</b>')
    assert soup.find("script") is None and soup.find("b") is None
    assert "<script>alert(1)</script>" in soup.get_text()


def test_allowed_html_is_sanitized() -> None:
    soup = render(
        '<b onclick="steal()">bold</b> <a href="javascript:alert(1)">x</a>\n\n<script>alert(1)</script>\n\n<iframe src="https://x"></iframe>', allow_html=True
    )
    assert soup.find("b").get_text() == "bold"
    assert "onclick" not in soup.find("b").attrs
    assert soup.find("script") is None and soup.find("iframe") is None
    assert not (soup.find("a").get("href") or "").startswith("javascript:")


def test_javascript_links_never_become_links() -> None:
    soup = render("[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](vbscript:x) <javascript:alert(1)>")
    assert soup.find("a") is None


def test_heading_anchors_are_unique() -> None:
    soup = render("## Results\n\ntext\n\n## Results\n")
    assert [h["id"] for h in soup.find_all("h2")] == ["results", "results-1"]
    assert soup.select_one("h2 a.header-anchor")["href"] == "#results"


def test_strikethrough_footnotes_and_tables() -> None:
    soup = render("~~gone~~ kept[^n]\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^n]: The note.\n")
    assert soup.find("s").get_text() == "gone"
    assert soup.select_one("section.footnotes li").get_text(strip=True).startswith("The note.")
    assert [td.get_text() for td in soup.select("td")] == ["1", "2"]


def test_unknown_code_language_is_escaped_not_dropped() -> None:
    soup = render("```nosuchlang\n<b>x</b>\n```\n")
    assert soup.find("b") is None
    assert soup.find("code").get_text() == "<b>x</b>\n"


def test_first_paragraph_summary_is_plain_text() -> None:
    assert first_paragraph("<p>Hello <em>world</em> &amp; more</p><p>Next</p>") == "Hello world & more"
    long = "<p>" + "word " * 200 + "</p>"
    assert first_paragraph(long).endswith("…") and len(first_paragraph(long)) <= 301
