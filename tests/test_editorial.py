"""Editorial trust (issue 18): standalone pages, corrections, provenance in feeds and JSON-LD, authors, languages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import Built, page_file, parse, source_date
from sitekit import article_front, write_article

from digest.errors import ContentError, Problem
from digest.site import BuildOptions, load_site


def problems_of(site: Path) -> list[Problem]:
    """Every problem a load of *site* reports (errors raise ContentError, which lists warnings too)."""
    with source_date():
        try:
            return load_site(BuildOptions(source=site)).warnings
        except ContentError as caught:
            return caught.problems


def messages(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def jsonld(soup: object, kind: str) -> dict[str, object]:
    for script in soup.select('script[type="application/ld+json"]'):  # type: ignore[attr-defined]
        data = json.loads(script.string)
        if data.get("@type") == kind:
            return data  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind} JSON-LD")


# --- standalone pages --------------------------------------------------------------


def test_sample_pages_render_in_the_site_look_and_are_linked_from_the_footer(sample_site: Built) -> None:
    for url, title in (("/about/", "About this digest"), ("/editorial-standards/", "Editorial standards"), ("/corrections-policy/", "Corrections policy")):
        soup = parse(page_file(sample_site.out, url))
        assert soup.select_one("main h1").get_text() == title  # type: ignore[union-attr]
        assert soup.select_one("header.site-header") is not None
        assert soup.select_one('link[rel="canonical"]')["href"] == f"https://example.org{url}"  # type: ignore[index]
    footer = parse(page_file(sample_site.out, "/")).select(".site-footer .site-info a")
    assert [a.get_text() for a in footer] == ["About this digest", "Editorial standards", "Corrections policy"]
    about = parse(page_file(sample_site.out, "/about/"))
    assert {a["href"] for a in about.select("main .body a")} >= {"/editorial-standards/", "/corrections-policy/"}
    # not articles: in no feed, no topic
    feed = (sample_site.out / "feed.xml").read_text(encoding="utf-8")
    assert "/about/" not in feed
    assert "https://example.org/about/" in (sample_site.out / "sitemap.xml").read_text(encoding="utf-8")


def test_a_page_colliding_with_an_index_or_missing_its_title_is_an_error_at_its_file(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    pages = site / "content" / "pages"
    pages.mkdir()
    (pages / "tags.md").write_text("---\ntitle: My tags\n---\nText.\n", encoding="utf-8")
    (pages / "untitled.md").write_text("---\ndescription: no title\nnav: first\n---\nText.\n", encoding="utf-8")
    found = messages(problems_of(site))
    assert any(m.startswith("content/pages/tags.md:1: error:") and "/tags/" in m for m in found), found
    assert any(m.startswith("content/pages/untitled.md:1: error:") and 'missing required field "title"' in m for m in found), found
    assert any(m.startswith("content/pages/untitled.md:3: error:") and "nav: expected a whole number" in m for m in found), found


def test_pages_is_no_topic(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/x.md", article_front(topic="pages"))
    found = messages(problems_of(site))
    assert any(m.startswith("content/policy/x.md:7: error: topic:") and '"pages"' in m for m in found), found
