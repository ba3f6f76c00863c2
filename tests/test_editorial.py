"""Editorial trust (issue 18): standalone pages, corrections, provenance in feeds and JSON-LD, authors, languages."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from conftest import Built, copy_site_to, page_file, parse, source_date
from sitekit import article_front, write_article

from digest.errors import ContentError, Problem
from digest.site import BuildOptions, build_site, load_site


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
    assert any(m.startswith("content/pages/tags.md:1: error:") and m.endswith("rename the file (a page's URL is its file's name)") for m in found), found
    assert any(m.startswith("content/pages/untitled.md:1: error:") and 'missing required field "title"' in m for m in found), found
    assert any(m.startswith("content/pages/untitled.md:3: error:") and "nav: expected a whole number" in m for m in found), found
    (pages / "tags.md").rename(pages / "about.md")  # an article's slug: takes a page's URL: the article is told to change
    write_article(site, "policy/about-us.md", article_front("About us", slug="about"))
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + 'permalink: "/{slug}/"\n', encoding="utf-8")
    found = messages(problems_of(site))
    assert any(m.startswith("content/policy/about-us.md:1: error:") and m.endswith('content/pages/about.md; set a different "slug:"') for m in found), found


def test_pages_is_no_topic(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/x.md", article_front(topic="pages"))
    found = messages(problems_of(site))
    assert any(m.startswith("content/policy/x.md:7: error: topic:") and '"pages"' in m for m in found), found


# --- corrections ---------------------------------------------------------------------

QWEN = "/research/chinese-open-weight-models-qwen/"
EU = "/policy/eu-ai-act-gpai-code-enforcement/"


def test_a_correction_shows_above_the_body_counts_as_update_and_marks_lists(sample_site: Built) -> None:
    soup = parse(page_file(sample_site.out, QWEN))
    notice = soup.select_one("aside.corrections")
    assert notice is not None and notice.find_next_sibling("div", class_="body") is not None  # above the body
    assert notice.select_one("time")["datetime"].startswith("2026-05-07")  # type: ignore[index]
    assert "Apache 2.0" in notice.get_text()
    assert soup.select_one(".article-meta .updated time")["datetime"].startswith("2026-05-07")  # type: ignore[index]
    card = next(c for c in parse(page_file(sample_site.out, "/topics/research/")).select("article.card") if c.select_one(f'a[href="{QWEN}"]'))
    assert card.select_one(".badge.corrected") is not None
    assert "<lastmod>2026-05-07" in next(part for part in (sample_site.out / "sitemap.xml").read_text().split("<url>") if QWEN in part)


def test_the_corrections_page_lists_them_newest_first_with_a_feed(sample_site: Built) -> None:
    import feedparser

    soup = parse(page_file(sample_site.out, "/corrections/"))
    links = [li.select_one("a")["href"] for li in soup.select("ol.corrections-list > li")]  # type: ignore[index]
    assert links == [QWEN, EU]
    assert soup.select_one('link[rel="alternate"][href="https://example.org/corrections/feed.xml"]') is not None
    feed = feedparser.parse((sample_site.out / "corrections" / "feed.xml").read_bytes())
    assert not feed.bozo and [e.link for e in feed.entries] == [f"https://example.org{QWEN}", f"https://example.org{EU}"]
    assert feed.entries[0].updated.startswith("2026-05-07")


def test_a_correction_without_a_date_or_before_publication_is_an_error_at_its_line(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    fixes = 'corrections:\n  - text: "No date."\n  - date: 2026-01-01\n    text: "Too early."'
    write_article(site, "policy/x.md", article_front() + "\n" + fixes)
    found = messages(problems_of(site))
    assert any(m.startswith("content/policy/x.md:8: error: corrections:") and "found none" in m for m in found), found
    assert any(m.startswith("content/policy/x.md:7: error: corrections:") and "on or after the publication date" in m for m in found), found


# --- provenance ----------------------------------------------------------------------


def test_feeds_carry_the_provenance_and_corrections(sample_site: Built) -> None:
    import feedparser

    feed = feedparser.parse((sample_site.out / "feed.xml").read_bytes())
    assert not feed.bozo
    entry = next(e for e in feed.entries if e.link.endswith(QWEN))
    assert entry.digest_review["status"] == "ai-assisted" and entry.digest_model == "gpt-oss-120b"
    root = ElementTree.parse(sample_site.out / "feed.xml").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom", "d": "tag:ai-news-digest.example,2026:provenance"}
    atom = next(e for e in root.findall("a:entry", ns) if e.find("a:link", ns).get("href").endswith(QWEN))  # type: ignore[union-attr]
    assert atom.find("d:review", ns).get("status") == "ai-assisted"  # type: ignore[union-attr]
    assert atom.find("d:confidence", ns).get("score") == "68"  # type: ignore[union-attr]
    assert len(atom.findall("d:why-it-matters", ns)) == 2 and len(atom.findall("d:source", ns)) == 3
    assert atom.find("d:correction", ns).get("date").startswith("2026-05-07")  # type: ignore[union-attr]
    content = entry.content[0].value
    assert "Correction, 2026-05-07" in content and "Reporting notes" in content and "https://example.org/editorial-standards/" in content
    item = next(i for i in json.loads((sample_site.out / "feed.json").read_text())["items"] if i["url"].endswith(QWEN))
    facts = item["_digest"]
    assert (facts["review"], facts["confidence"], facts["model"]) == ("ai-assisted", 68, "gpt-oss-120b")
    assert len(facts["why_it_matters"]) == 2 and facts["sources"][0]["official"] is True
    assert facts["corrections"][0]["date"].startswith("2026-05-07")


def test_article_pages_state_the_disclosure_and_policies_for_machines(sample_site: Built) -> None:
    soup = parse(page_file(sample_site.out, QWEN))
    meta = soup.select_one('meta[name="ai-disclosure"]')
    assert meta is not None and meta["data-review"] == "ai-assisted" and "gpt-oss-120b" in meta["content"]  # type: ignore[operator]
    data = jsonld(soup, "NewsArticle")
    assert "AI-assisted" in data["backstory"] and "68/100" in data["backstory"]  # type: ignore[operator]
    assert data["correction"][0]["@type"] == "CorrectionComment"  # type: ignore[index]
    assert data["isBasedOn"][0]["url"] == "https://qwen.ai/blog/open-weight-release-notes"  # type: ignore[index]
    assert data["publisher"]["publishingPrinciples"] == "https://example.org/editorial-standards/"  # type: ignore[index]
    assert data["publisher"]["correctionsPolicy"] == "https://example.org/corrections-policy/"  # type: ignore[index]
    notes = soup.select_one("section.reporting .standards")
    assert notes is not None and notes.select_one('a[href="/editorial-standards/"]') and notes.select_one('a[href="mailto:corrections@example.org"]')


# --- authors -------------------------------------------------------------------------


def test_an_author_page_lists_their_articles_with_the_bio_and_bylines_link_to_it(sample_site: Built) -> None:
    soup = parse(page_file(sample_site.out, "/authors/policy-desk/"))
    assert soup.select_one("main h1").get_text() == "Policy Desk"  # type: ignore[union-attr]
    assert "legislatures" in soup.select_one("main .lede").get_text()  # type: ignore[union-attr]
    listed = {a["href"] for a in soup.select("article.card h3 a")}
    expected = {a.url for a in sample_site.site.index.articles if a.author == "policy-desk"}
    assert listed == expected and EU in listed
    article = parse(page_file(sample_site.out, EU))
    assert article.select_one('.byline a[rel="author"]')["href"] == "/authors/policy-desk/"  # type: ignore[index]
    data = jsonld(article, "NewsArticle")
    assert data["author"] == {"@type": "Person", "name": "Policy Desk", "url": "https://example.org/authors/policy-desk/"}
    assert "/authors/policy-desk/" in {a["href"] for a in parse(page_file(sample_site.out, "/authors/")).select("main a")}
    entry = next(i for i in json.loads((sample_site.out / "feed.json").read_text())["items"] if i["url"].endswith(EU))
    assert entry["authors"] == [{"name": "Policy Desk"}]


def test_a_byline_that_looks_like_an_unknown_author_key_is_a_warning_naming_the_closest(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    with (site / "site.yaml").open("a", encoding="utf-8") as yaml:
        yaml.write("authors:\n  jane-doe: {name: Jane Doe, bio: Writes.}\n")
    write_article(site, "policy/x.md", article_front(author="jane-do"))
    write_article(site, "policy/y.md", article_front(title="Other", author='"Someone Else"'))
    found = messages(problems_of(site))
    assert any(m.startswith("content/policy/x.md:7: warning: author:") and '"jane-doe"' in m for m in found), found
    assert not any("policy/y.md" in m for m in found), found


# --- languages -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def arabic_site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """tests/sites/minimal in Arabic, one label overridden by site.yaml and a correction; built once."""
    folder = tmp_path_factory.mktemp("arabic")
    source = copy_site_to("minimal", folder / "src")
    text = (source / "site.yaml").read_text(encoding="utf-8").replace("base_url:", "language: ar\nbase_url:")
    (source / "site.yaml").write_text(text + 'labels:\n  "Tags": "كلمات مفتاحية"\n', encoding="utf-8")
    fix = "corrections:\n  - date: 2026-03-04\n    text: تصحيح تجريبي.\n"
    write_article(source, "policy/third.md", article_front("القصة الثالثة", date="2026-03-03") + "\n" + fix)
    with source_date():
        result = build_site(BuildOptions(source=source, output=folder / "out", cache=False))
        site = load_site(BuildOptions(source=source))
    return Built(source, folder / "out", site, result)


def test_the_direction_follows_the_script_when_the_tag_names_one() -> None:
    from digest.schema import text_direction

    assert [text_direction(tag) for tag in ("ar", "he", "ku", "ku-Latn", "ku-Arab", "pa", "pa-Arab", "az-Arab-IR", "syr", "en", "zh-Hans", "fa-IR")] == [
        "rtl", "rtl", "rtl", "ltr", "rtl", "ltr", "rtl", "rtl", "rtl", "ltr", "ltr", "rtl",
    ]  # fmt: skip


def test_an_arabic_site_is_right_to_left_with_arabic_labels_and_dates(arabic_site: Built) -> None:
    out = arabic_site.out
    for url in ("/", "/policy/first-story/", "/tags/", "/archive/", "/corrections/", "/404.html"):
        html = parse(page_file(out, url)).html
        assert html is not None and (html["lang"], html["dir"]) == ("ar", "rtl"), url
    article = parse(page_file(out, "/policy/first-story/"))
    assert article.select_one("#reporting-heading").get_text() == "ملاحظات التغطية"  # type: ignore[union-attr]
    assert article.select_one(".reporting")["dir"] == "rtl"  # type: ignore[index]
    assert article.select_one(".article-meta time").get_text() == "1 مارس 2026"  # type: ignore[union-attr]
    assert "راجعه محرر" in article.select_one(".reporting").get_text()  # type: ignore[union-attr]
    assert article.select_one("#tags-heading").get_text() == "كلمات مفتاحية"  # site.yaml's labels win  # type: ignore[union-attr]
    assert parse(page_file(out, "/archive/2026/03/")).select_one("main h1").get_text() == "الأرشيف: مارس 2026"  # type: ignore[union-attr]
    third = parse(page_file(out, "/policy/third/"))
    assert third.select_one("#corrections-heading").get_text() == "التصحيحات"  # type: ignore[union-attr]
    edition = parse(page_file(out, "/editions/2026/03/01/"))
    assert [a.get_text() for a in edition.select("nav.breadcrumbs a")] == ["العناوين", "الإصدارات"]  # as every other page's crumbs
    assert edition.select_one("main h1").get_text() == "الإصدار اليومي: 1 مارس 2026"  # type: ignore[union-attr]
    assert edition.select_one("main .lede").get_text() == "قصة واحدة من تقرير واحد، حسب الموضوع."  # type: ignore[union-attr]
    from digest.editions import Names, edition_key

    assert edition_key("weekly", date(2026, 3, 4), Names(arabic_site.site.config))[1] == "الأسبوع 10، 2026 (2 مارس – 8 مارس)"
    assert edition_key("weekly", date(2026, 3, 4), Names(replace(arabic_site.site.config, language="fr")))[1] == "Week 10, 2026 (2 mars – 8 mars)"
    email = parse(page_file(out, "/editions/2026/03/01/email.html")).html
    assert email is not None and (email["lang"], email["dir"]) == ("ar", "rtl")
    atom = "{http://www.w3.org/2005/Atom}"
    tag_feed = ElementTree.parse(out / "tags/courts/feed.xml").getroot()
    assert tag_feed.findtext(f"{atom}subtitle") == "قصص موسومة بـ courts."  # the feeds speak the site's language too
    corrections = ElementTree.parse(out / "corrections/feed.xml").getroot()
    assert corrections.findtext(f"{atom}title") == "Minimal Digest: التصحيحات"
    assert corrections.findtext(f"{atom}subtitle") == "قصص صحّحناها، الأحدث تصحيحًا أولًا."
    assert not [p for p in arabic_site.site.warnings if "translation" in p.message]
    # No English left where a reader sees it: the email's marks, the editions feed, the AI disclosure.
    assert "ثقة عالية" in (out / "editions/2026/03/01/email.txt").read_text(encoding="utf-8")
    daily = ElementTree.parse(out / "editions/daily.xml").getroot()
    assert daily.findtext(f"{atom}title") == "Minimal Digest: الإصدارات اليومية"
    assert "كما يُرسل بالبريد الإلكتروني" in (daily.findtext(f"{atom}subtitle") or "")
    disclosure = article.select_one('meta[name="ai-disclosure"]')
    assert disclosure is not None and str(disclosure["content"]).startswith("راجعه محرر")


def test_a_missing_translation_is_a_warning_at_the_template_line(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + "language: ar\n", encoding="utf-8")
    (site / "templates").mkdir()
    (site / "templates" / "page.html").write_text('{% extends "base.html" %}\n{% block main %}\n<p>{{ _("A label nobody translated") }}</p>\n{% endblock %}\n')
    (site / "templates/parts").mkdir()
    (site / "templates/parts/note.html").write_text('<p>{{ _("A note in a subfolder") }}</p>\n')
    found = messages(problems_of(site))
    assert any(m.startswith("templates/page.html:3: warning:") and "A label nobody translated" in m for m in found), found
    assert any(m.startswith("templates/parts/note.html:1: warning:") and "A note in a subfolder" in m for m in found), found
    # A template that does not parse is its own error at its line, on a site in another language too (not an internal error).
    (site / "templates/topics.html").write_text("<p>\n{{ t.name }</p>\n")
    with pytest.raises(ContentError) as caught:
        build_site(BuildOptions(source=site, output=site.parent / "out"))
    assert [str(p) for p in caught.value.problems if p.is_error] == [f"{site}/templates/topics.html:2: error: template error: unexpected '}}'"]


@pytest.mark.parametrize("setting", ["language: fr\n", '"language": fr\n', "# the site's language\nlanguage:\n  fr\n"])
def test_a_language_without_a_table_is_one_warning_at_its_line(copy_site: Callable[[str], Path], setting: str) -> None:
    site = copy_site("minimal")
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + setting, encoding="utf-8")
    line = 11 + setting.startswith("#")
    found = [m for m in messages(problems_of(site)) if "translation" in m]
    assert len(found) == 1 and found[0].startswith(f"site.yaml:{line}: warning: language:"), found


def test_a_partial_labels_table_is_one_warning_for_the_bundled_templates_at_its_line(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    settings = "language: fr\nlabels:\n  Tags: Mots-clés\n"
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + settings, encoding="utf-8")
    (site / "templates").mkdir()
    (site / "templates/page.html").write_text('{% extends "base.html" %}{% block main %}{{ _("Our own label") }}{% endblock %}\n')
    found = [m for m in messages(problems_of(site)) if "translation" in m]
    assert len(found) == 2, found  # the site's own label at its line; the bundled templates' in one
    assert found[0].startswith("site.yaml:12: warning: labels: ") and 'labels of the bundled templates have no "fr" translation' in found[0]
    assert found[1].startswith("templates/page.html:1: warning:") and "Our own label" in found[1]


def test_a_bundled_table_short_of_labels_is_one_warning_at_the_language_line(copy_site: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A language whose bundled table lacks labels (as a new one may) and no labels: in site.yaml: said at the language's line."""
    monkeypatch.setattr("digest.i18n.bundled_table", lambda language: {"Tags": "وسوم"})
    site = copy_site("minimal")
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + "language: ar\n", encoding="utf-8")
    found = [m for m in messages(problems_of(site)) if "translation" in m]
    assert len(found) == 1 and found[0].startswith("site.yaml:11: warning: labels: "), found


@pytest.mark.parametrize("key", ["standards_url", '"standards_url"'])
def test_a_site_yaml_link_to_a_page_that_does_not_exist_is_a_warning_at_its_line(copy_site: Callable[[str], Path], key: str) -> None:
    site = copy_site("minimal")
    text = (site / "site.yaml").read_text(encoding="utf-8")
    links = (
        "footer_links:\n  Tags: /tags/\n  RSS: /feed.xml\n  Map: /sitemap.xml\n  Daily: /editions/daily.xml\n  Gone: /gone/\n"  # generated files are there too
        "  Mail: mailto:desk@example.org\n"  # an address is a link too
    )
    authors = "authors:\n  desk:\n    name: Desk\n    image: /static/img/desk.png\n"  # a photo not there
    (site / "site.yaml").write_text(text + f"{key}: /standards/\n{links}{authors}", encoding="utf-8")
    found = messages(problems_of(site))
    assert any(m.startswith("site.yaml:11: warning: standards_url:") and "/standards/" in m for m in found), found
    assert [m for m in found if "authors" in m] == [
        "site.yaml:19: warning: authors: desk.image: expected a page or file of the site at /static/img/desk.png, found none; the link leads nowhere"
    ]
    assert [m for m in found if "footer_links" in m] == [
        'site.yaml:12: warning: footer_links: "Gone": expected a page or file of the site at /gone/, found none; the link leads nowhere'
    ]


def test_a_translation_with_a_placeholder_its_label_lacks_is_an_error_at_its_line(copy_site: Callable[[str], Path]) -> None:
    site = copy_site("minimal")
    text = (site / "site.yaml").read_text(encoding="utf-8")
    (site / "site.yaml").write_text(text + 'labels:\n  "{count} stories": "{n} articles"\n', encoding="utf-8")
    found = messages(problems_of(site))
    assert any(m.startswith("site.yaml:12: error: labels.") and "{n}" in m for m in found), found


def test_an_article_links_to_a_standalone_page_by_its_file(copy_site: Callable[[str], Path], build: Callable[..., object], tmp_path: Path) -> None:
    site = copy_site("minimal")
    (site / "content" / "pages").mkdir()
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: About us\n---\nWho we are.\n", encoding="utf-8")
    write_article(site, "policy/x.md", article_front(), "Read [about us](../pages/about.md).\n")
    build(site)
    assert parse(page_file(tmp_path / "out", "/policy/x/")).select_one('.body a[href="/about/"]') is not None


def test_literal_labels_are_translated_as_templates_compile_and_others_at_render() -> None:
    from dataclasses import replace

    from digest.config import SiteConfig
    from digest.render import make_environment

    config = replace(SiteConfig(root=Path(".")), language="ar", labels=(("{n} of them", "{n} منها"),))
    env = make_environment(config)
    source = '{{ _("Tags") }}|{{ _("{n} of them", n=3) }}|{{ _(word) }}|{{ _("Not in the table") }}'
    assert env.from_string(source).render(word="Sources") == "الوسوم|3 منها|المصادر|Not in the table"
    assert "الوسوم" in env.compile(source, raw=True)  # a constant in the compiled code, not a call


def test_labels_and_dates_inside_an_article_in_another_language_are_marked_in_the_sites(sample_site: Built) -> None:
    """A screen reader reads "Mar 4, 2026" and "High confidence" in English on the Arabic report of an English site, not as Arabic."""
    page = parse(page_file(sample_site.out, "/infrastructure/gulf-ai-data-centers/"))
    assert page.select_one("article.article")["lang"] == "ar"  # type: ignore[index]
    for part in ("p.article-meta", "p.article-badges"):
        assert (page.select_one(part)["lang"], page.select_one(part)["dir"]) == ("en", "ltr"), part  # type: ignore[index]
    assert page.select_one("h1").find_parent(attrs={"lang": True})["lang"] == "ar"  # type: ignore[union-attr,index]
    topic = parse(page_file(sample_site.out, "/topics/infrastructure/"))
    card = next(c for c in topic.select("article.card") if c["lang"] == "ar")
    assert card.select_one("p.card-meta")["lang"] == "en" and card.select_one("p.card-badges")["lang"] == "en"  # type: ignore[index]
