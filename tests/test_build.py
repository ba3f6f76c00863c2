"""Build fixture sites and check what a reader sees in the generated pages."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EPOCH, Built, build_fresh, page_file, parse
from helpers import broken_links, html_files, url_of
from sitekit import article_front, snapshot, write_article

from digest.schema import tag_key
from digest.site import BuildOptions, BuildResult, build_site, load_site

Build = Callable[..., BuildResult]


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """tests/sites/basic built once for the module's read-only tests."""
    built = build_fresh("basic", tmp_path_factory.mktemp("basic"))
    return built.source, built.result


def cards(out: Path, url: str) -> list[str]:
    """Article links listed as cards on a list page, in order."""
    soup = parse(page_file(out, url))
    return [str(a["href"]) for a in soup.select("article.card h3 a")]


def test_sample_site_builds_with_every_link_resolving(sample_site: Built) -> None:
    assert sample_site.result.articles >= 15
    assert broken_links(sample_site.out) == []
    soup = parse(page_file(sample_site.out, "/"))
    assert soup.select("article.card"), "the home page lists stories"


def test_every_page_is_reachable_from_home(basic: tuple[Path, BuildResult]) -> None:
    _, result = basic
    out = result.output
    seen: set[str] = set()
    queue = ["/"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        for a in parse(page_file(out, url)).find_all("a", href=True):
            href = str(a["href"]).split("#")[0]
            if href.startswith("/") and not href.startswith("//") and href.endswith(("/", ".html")):  # pages, and editions' email copies
                queue.append(href)
    pages = {url_of(out, p) for p in html_files(out)} - {"/404.html"}
    assert pages - seen == set()


def test_internal_links_resolve(basic: tuple[Path, BuildResult]) -> None:
    assert broken_links(basic[1].output) == []


def test_tag_page_lists_exactly_the_articles_with_that_tag(basic: tuple[Path, BuildResult]) -> None:
    site, result = basic
    loaded = load_site(BuildOptions(source=site))
    for tag in loaded.index.tags:
        expected = sorted(a.url for a in loaded.articles if tag.key in {tag_key(t) for t in a.tags})
        listed: list[str] = []
        url: str | None = tag.url
        while url:
            listed += cards(result.output, url)
            nxt = parse(page_file(result.output, url)).select_one("a[rel=next]")
            url = str(nxt["href"]) if nxt else None
        assert sorted(listed) == expected, tag.name


def test_tags_merge_regardless_of_case_and_keep_the_common_spelling(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    tag_dirs = sorted(p.name for p in (out / "tags").iterdir() if p.is_dir())
    assert "openai" in tag_dirs and "sparse-attention" in tag_dirs
    soup = parse(page_file(out, "/tags/"))
    names = {a.get_text(): a.find_next_sibling("span").get_text() for a in soup.select(".tag-cloud a")}
    assert names["OpenAI"] == "4"  # OpenAI x2, openai, OPENAI; draft and future are not counted
    assert "openai" not in names and "OPENAI" not in names
    assert names["大模型"] == "1" and names["ذكاء اصطناعي"] == "1"


def test_pagination_boundaries(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    total = 7
    pages = math.ceil(total / 2)
    assert page_file(out, f"/page/{pages}/").is_file()
    assert not page_file(out, f"/page/{pages + 1}/").exists()
    assert not page_file(out, "/page/1/").exists()
    first = parse(page_file(out, "/"))
    assert first.select_one("a[rel=prev]") is None
    assert first.select_one("a[rel=next]")["href"] == "/page/2/"
    last = parse(page_file(out, f"/page/{pages}/"))
    assert last.select_one("a[rel=next]") is None
    assert last.select_one("a[rel=prev]")["href"] == f"/page/{pages - 1}/"
    listed = [href for n in range(1, pages + 1) for href in cards(out, "/" if n == 1 else f"/page/{n}/")]
    assert len(listed) == total == len(set(listed))


def test_lists_are_newest_first(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    soup = parse(page_file(out, "/topics/research/"))
    times = [t["datetime"] for t in soup.select("article.card time")]
    assert times == sorted(times, reverse=True)


def test_drafts_and_future_articles_are_not_published(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    assert not (out / "policy" / "draft").exists()
    assert not (out / "policy" / "future").exists()
    for page in html_files(out):
        text = page.read_text(encoding="utf-8")
        assert "must not appear" not in text and "far future" not in text, page


def test_related_links_point_at_other_existing_articles(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    article_pages = [p for p in html_files(out) if parse(p).select_one("article.article")]
    assert len(article_pages) == 7
    for page in article_pages:
        soup = parse(page)
        own = url_of(out, page)
        related = soup.find(id="related-heading")
        assert related is not None, own
        links = [str(a["href"]) for a in related.find_parent("section").select("a")]
        assert 1 <= len(links) <= 3
        assert own not in links
        for href in links:
            assert parse(page_file(out, href)).select_one("article.article"), href


def test_follow_up_found_alike_is_in_the_story_box_not_in_related(basic: tuple[Path, BuildResult]) -> None:
    # Two days apart, sharing a rare tag, its words and "paper": found to be one story, so the follow-up is listed
    # in the coverage box, and related stories do not repeat it.
    soup = parse(page_file(basic[1].output, "/research/rare-tag/"))
    box = soup.select_one("section.story-box")
    assert "1 other report" in box.get_text()
    assert [a["href"] for a in box.select("li a")] == ["/research/sparse-followup/"]
    related = [a["href"] for a in soup.find(id="related-heading").find_parent("section").select("a")]
    assert "/research/sparse-followup/" not in related


def test_article_page_shows_provenance(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    soup = parse(page_file(out, "/policy/eu-code-reaction/"))
    assert soup.h1.get_text() == "Labs react to the EU code of practice"
    times = soup.select(".article-meta time")
    assert times[0]["datetime"] == "2026-03-03T09:30:00+01:00"
    assert times[1]["datetime"].startswith("2026-03-04T00:00:00+01:00")
    facts = {dt.get_text(): dt.find_next_sibling("dd").get_text(" ", strip=True) for dt in soup.select(".facts dt")}
    assert facts["Sources reviewed"] == "1"
    assert facts["Official sources"] == "0"
    assert facts["Confidence"] == "Medium"
    assert facts["Model"] == "test-model-1"
    assert "AI-assisted" in facts["Review status"]
    assert soup.select_one(".caution") is not None, "no official source: the caution line is shown"
    assert soup.select_one(".byline").get_text() == "By Fixture Desk"
    source = soup.select_one(".sources a")
    assert source["href"] == "https://www.example-news.test/reaction" and source.get_text() == "Example News"
    story = soup.find(id="story-heading").find_parent("section").a
    assert story["href"] == "/stories/eu-code/"

    official = parse(page_file(out, "/policy/eu-code/"))
    assert official.select_one(".caution") is None
    assert official.select_one(".why li").get_text() == "Providers now have a template for compliance."
    assert official.select_one(".sources .badge.official") is not None
    assert "85/100" in official.select_one(".badge.confidence").get_text()


def test_story_page_lists_every_report(basic: tuple[Path, BuildResult]) -> None:
    soup = parse(page_file(basic[1].output, "/stories/eu-code/"))
    listed = [a["href"] for a in soup.select("ol.timeline h3 a")]
    assert listed == ["/policy/eu-code/", "/policy/eu-code-reaction/"]  # oldest first


def test_article_links_between_files_are_rewritten(basic: tuple[Path, BuildResult]) -> None:
    soup = parse(page_file(basic[1].output, "/policy/eu-code-reaction/"))
    hrefs = [a["href"] for a in soup.select(".body a")]
    assert hrefs == ["/policy/eu-code/", "/policy/eu-code/#what-it-covers"]


def test_hostile_markup_is_escaped(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    for page in html_files(out):
        soup = parse(page)
        # No script but JSON-LD, and the search page's own two (the module, and the word for a page opened from disk), from /static/js/.
        scripts = soup.find_all("script", attrs={"type": lambda t: t != "application/ld+json"})
        assert [s["src"].startswith(("/static/js/search.", "/static/js/search-offline.")) and not s.string for s in scripts] == [True] * len(scripts), page
        for element in soup.find_all(True):
            assert not any(attr.startswith("on") for attr in element.attrs), (page, element)
            for attr in ("href", "src"):
                value = element.get(attr)
                assert not (isinstance(value, str) and value.strip().lower().startswith("javascript:")), (page, element)
    soup = parse(page_file(out, "/research/distillation/"))
    assert soup.h1.get_text().startswith("<script>alert('title')</script>")
    assert '<script>alert("body")</script>' in soup.select_one(".body").get_text()
    assert "[click me](javascript:alert(1))" in soup.select_one(".body").get_text()


def test_right_to_left_article_sets_lang_and_dir_on_its_own_text(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    page = next(p for p in (out / "labs").iterdir() if p.is_dir())
    soup = parse(page / "index.html")
    assert soup.html["lang"] == "en" and soup.html["dir"] == "ltr"  # the site's chrome stays in the site's language
    assert soup.select_one("article.article")["lang"] == "ar" and soup.select_one("article.article")["dir"] == "rtl"
    card = parse(page_file(out, "/topics/labs/")).select_one("article.card")
    assert card["dir"] == "rtl"


def test_topic_missing_from_site_yaml_still_works_with_a_warning(basic: tuple[Path, BuildResult]) -> None:
    _, result = basic
    assert any('topic "labs"' in w.message for w in result.warnings)
    assert parse(page_file(result.output, "/topics/labs/")).h1.get_text() == "Labs"


def test_topics_follow_site_yaml_order_and_names(basic: tuple[Path, BuildResult]) -> None:
    soup = parse(page_file(basic[1].output, "/topics/"))
    assert [a.get_text() for a in soup.select(".index-list > li > a")] == ["Policy & Law", "Research", "Labs"]


def test_archive_has_year_and_month_pages(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    soup = parse(page_file(out, "/archive/"))
    months = [a["href"] for a in soup.select(".months a")]
    assert months == ["/archive/2026/03/", "/archive/2026/02/", "/archive/2026/01/"]
    assert sorted(cards(out, "/archive/2026/01/")) == ["/research/rare-tag/", "/research/sparse-followup/"]


def test_source_pages_group_by_outlet(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    assert sorted(cards(out, "/sources/example-news-test/")) == ["/policy/eu-code-reaction/", "/policy/eu-code/"]
    soup = parse(page_file(out, "/sources/"))
    assert "Example News" in [a.get_text() for a in soup.select(".index-list a")]


def test_code_is_highlighted_and_tables_and_footnotes_render(basic: tuple[Path, BuildResult]) -> None:
    out = basic[1].output
    code = parse(page_file(out, "/research/distillation/")).select_one("pre.highlight code.language-python")
    assert code is not None and code.select("span.k"), "keywords are highlighted"
    body = parse(page_file(out, "/policy/eu-code/")).select_one(".body")
    assert [th.get_text() for th in body.select("table th")] == ["Area", "Obligation"]
    ref = body.select_one("sup.footnote-ref a")
    assert body.find(id=ref["href"][1:]) is not None
    assert body.select_one("h2#what-it-covers") is not None


def test_removed_article_disappears_from_the_next_build(copy_site: Callable[[str], Path], build: Build) -> None:
    site = copy_site("basic")
    out = build(site).output
    assert page_file(out, "/research/benchmarks/").is_file()
    (site / "content" / "research" / "benchmarks.md").unlink()
    build(site)
    assert not (out / "research" / "benchmarks").exists()
    assert not (out / "tags" / "agents").exists()


def test_home_topic_count_zero_shows_no_topic_sections(copy_site: Callable[[str], Path], build: Build) -> None:
    site = copy_site("basic")
    home = parse(page_file(build(site).output, "/"))
    assert home.select("section.topic-top ul li")  # as a new site has them
    with (site / "site.yaml").open("a", encoding="utf-8") as settings:
        settings.write("home_topic_count: 0\n")
    home = parse(page_file(build(site).output, "/"))
    assert home.select("section.topic-top") == [] and home.select("main article")


def test_an_article_without_a_summary_is_described_by_its_first_words_and_shows_them_once(copy_site: Callable[[str], Path], build: Build) -> None:
    site = copy_site("basic")
    (site / "content/research/wafer.png").write_bytes(b"\x89PNG")
    write_article(site, "research/wafer.md", article_front("Wafer-scale chips"), "![A wafer](wafer.png)\n\nThe wafer holds a whole cluster.\n\nMore detail.\n")
    out = build(site).output
    page = parse(page_file(out, "/research/wafer/"))
    assert page.select_one('meta[name="description"]')["content"] == "The wafer holds a whole cluster."  # type: ignore[index]
    assert page.select(".article-header .lede") == []  # the body's first paragraph follows: no lede repeating it
    assert next(p.get_text() for p in page.select(".body p") if p.get_text()) == "The wafer holds a whole cluster."
    [item] = [item for item in json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"] if item["url"].endswith("/research/wafer/")]
    assert item["summary"] == "The wafer holds a whole cluster."

    def card_summary() -> str:  # what the topic page's list shows of it
        [card] = [card for card in parse(page_file(out, "/topics/research/")).select(".card") if card.select_one('a[href="/research/wafer/"]')]
        return card.select_one(".card-summary").get_text()  # type: ignore[union-attr]

    assert card_summary() == "The wafer holds a whole cluster."
    write_article(site, "research/wafer.md", article_front("Wafer-scale chips"), "The wafer now holds two clusters.\n\nMore detail.\n")
    assert build(site).mode == "update"  # with the cache: the list follows the body's new first words
    assert card_summary() == "The wafer now holds two clusters."


def test_a_folder_with_an_index_md_is_one_article_named_by_the_folder_with_its_files_beside_it(copy_site: Callable[[str], Path], build: Build) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/chip-rules/index.md", article_front("Chip rules"), "![The chart](chart.png)\n\nText.\n")
    (site / "content/policy/chip-rules/chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    out = build(site).output
    image = parse(page_file(out, "/policy/chip-rules/")).select_one(".body img")
    assert image is not None and image["src"] == "/policy/chip-rules/chart.png"
    assert (out / "policy/chip-rules/chart.png").is_file()


@pytest.mark.parametrize("engine", ["python", "rust"])
def test_a_body_link_to_a_site_path_no_page_or_file_is_at_is_a_warning_at_its_line(copy_site: Callable[[str], Path], build: Build, engine: str) -> None:
    site = copy_site("minimal")
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + f"markdown: {{engine: {engine}}}\n", encoding="utf-8")
    body = "Intro.\n\nSee [tags](/tags/), [feed](/feed.xml), [search](/search/?q=x#top)\nand [old](/2026/02/gone/), ![logo](/images/logo.png).\n"
    write_article(site, "policy/links.md", article_front("Links"), body)
    warnings = [str(w) for w in build(site).warnings if "link to" in str(w)]
    line = {"python": 10, "rust": 11}[engine]  # the paragraph's first line (python), the link's own (rust)
    assert warnings == [
        f'content/policy/links.md:{line}: warning: link to "/2026/02/gone/": expected a page or file of this site, found none at /2026/02/gone/',
        f'content/policy/links.md:{line}: warning: link to "/images/logo.png": expected a page or file of this site, found none at /images/logo.png',
    ]


def test_one_tag_and_one_outlet_however_their_letters_are_encoded(copy_site: Callable[[str], Path], build: Build) -> None:
    site = copy_site("basic")
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"  # both show as "Café"
    write_article(site, "research/one.md", article_front("One", tags=f"[{composed}]", sources="[https://bücher.example/a]"))
    write_article(site, "research/two.md", article_front("Two", tags=f"[{decomposed}, {composed}]", sources="[https://xn--bcher-kva.example/b]"))
    out = build(site).output
    assert sorted(p.name for p in (out / "tags").iterdir() if p.name.startswith("caf")) == ["cafe"]
    assert [a.get_text() for a in parse(page_file(out, "/research/two/")).select(".tags a")] == [composed]
    outlets = [p.name for p in (out / "sources").iterdir() if "bcher" in p.name or "bucher" in p.name]
    assert outlets == ["bucher-example"], outlets


def test_a_date_written_with_another_offset_is_on_the_sites_calendar(copy_site: Callable[[str], Path], build: Build) -> None:
    """Archive, editions and shown dates agree on the day: the site's time zone decides it, not the offset written."""
    site = copy_site("minimal")
    (site / "site.yaml").write_text(
        (site / "site.yaml").read_text(encoding="utf-8").replace("timezone: UTC", "timezone: America/Los_Angeles"), encoding="utf-8"
    )
    write_article(site, "policy/far-east.md", article_front("From the date line", date="2026-01-01T00:15:00+14:00"))  # Dec 31, 2:15 in LA
    out = build(site).output
    assert page_file(out, "/archive/2025/12/").is_file() and not page_file(out, "/archive/2026/01/").exists()
    edition = parse(page_file(out, "/editions/2025/12/31/"))
    assert "From the date line" in edition.get_text()
    shown = parse(page_file(out, "/policy/far-east/")).select_one(".article-meta time")
    assert shown is not None and shown.get_text() == "Dec 31, 2025" and shown["datetime"] == "2026-01-01T00:15:00+14:00"


def test_a_parallel_build_gives_the_same_site(sample_site: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import digest.content
    import digest.index
    import digest.markdown
    import digest.site

    # use workers even on a small site, for reading, Markdown, related stories and pages
    monkeypatch.setattr(digest.content, "PARALLEL_MIN", 1)
    monkeypatch.setattr(digest.markdown, "PARALLEL_MIN", 1)
    monkeypatch.setattr(digest.index, "PARALLEL_RANKING", 1)
    monkeypatch.setattr(digest.site, "PARALLEL_PAGES", 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    # The shared build's own source: built with --no-cache, it is only read.
    two = build_site(BuildOptions(source=sample_site.source, output=tmp_path / "two", jobs=2, cache=False)).output
    assert snapshot(two) == snapshot(sample_site.out)


def test_the_rust_markdown_engine_builds_the_same_pages_with_working_links(
    copy_site: Callable[[str], Path], build: Build, basic: tuple[Path, BuildResult]
) -> None:
    """The engines may differ in small details of their HTML, not in what gets published or where links lead."""
    site = copy_site("basic")
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + "\nmarkdown: {engine: rust}\n", encoding="utf-8")
    out = build(site, cache=False).output
    assert sorted(snapshot(out)) == sorted(snapshot(basic[1].output))
    assert broken_links(out) == []
    soup = parse(page_file(out, "/policy/eu-code/"))
    assert [th.get_text() for th in soup.select(".body table th")] == ["Area", "Obligation"]


def test_more_from_the_topic_repeats_no_story_a_page_lists_above_it(sample_site: Built) -> None:
    checked = 0
    for page in html_files(sample_site.out):
        soup = parse(page)
        more = soup.find(id="more-heading")
        if more is None or not soup.select_one("article.article"):
            continue
        above = {a["href"] for heading in ("related-heading", "story-heading") if (h := soup.find(id=heading)) for a in h.find_parent("section").select("a")}
        below = {a["href"] for a in more.find_parent("section").select("li a")}
        assert below and not below & above, page
        checked += 1
    assert checked >= 5


def test_a_file_saved_with_decomposed_letters_is_linked_and_published_by_its_composed_name(copy_site: Callable[[str], Path], build: Build) -> None:
    """macOS may save "Ünï.pdf" as U, a diaeresis, n, i, a diaeresis: a link typed as "Ünï.pdf" leads to it."""
    import unicodedata

    site = copy_site("minimal")
    (site / "content/policy" / unicodedata.normalize("NFD", "Ünï.pdf")).write_bytes(b"%PDF-1.4\n")
    write_article(site, "policy/linked.md", article_front("Linked"), f"[the report]({unicodedata.normalize('NFC', 'Ünï.pdf')})\n")
    out = build(site).output
    href = str(parse(page_file(out, "/policy/linked/")).select_one("article .body a")["href"])  # type: ignore[index]
    assert href == "/policy/%C3%9Cn%C3%AF.pdf" and (out / "policy" / unicodedata.normalize("NFC", "Ünï.pdf")).is_file()
