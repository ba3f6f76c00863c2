"""Feeds: every Atom feed parses cleanly in feedparser, every JSON Feed has the 1.1 fields."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import EPOCH, Built, copy_site_to, page_file, parse
from helpers import html_pages, site_path
from sitekit import article_front, write_article

from digest.site import BuildOptions, LoadedSite, build_site


@pytest.fixture
def sample(sample_site: Built) -> tuple[Path, LoadedSite]:
    return sample_site.out, sample_site.site


@pytest.fixture
def tricky(feeds_site: Built) -> tuple[Path, LoadedSite]:
    return feeds_site.out, feeds_site.site


def expected_feeds(site: LoadedSite) -> dict[str, list[str]]:
    """Feed folder -> article URLs it should carry, newest first."""
    count = site.config.feed_items
    feeds = {"/": [a.url for a in site.index.articles[:count]]}
    feeds |= {t.url: [a.url for a in t.articles[:count]] for t in site.index.topics}
    feeds |= {t.url: [a.url for a in t.articles[:count]] for t in site.index.tags}
    corrected = sorted((a for a in site.index.articles if a.corrections), key=lambda a: a.corrections[-1].date, reverse=True)
    feeds["/corrections/"] = [a.url for a in corrected[:count]]
    return feeds


@pytest.mark.parametrize("name", ["sample", "tricky"])
def test_every_atom_feed_parses_without_bozo_and_has_the_expected_entries(name: str, request: pytest.FixtureRequest) -> None:
    out, site = request.getfixturevalue(name)
    base = site.config.base_url
    feeds = expected_feeds(site)
    assert len(list(out.rglob("feed.xml"))) == len(feeds)
    for folder, urls in feeds.items():
        parsed = feedparser.parse((page_file(out, folder) / ".." / "feed.xml").resolve().read_bytes())
        assert not parsed.bozo, f"{folder}feed.xml: {parsed.get('bozo_exception')}"
        assert parsed.version == "atom10"
        assert parsed.feed.title
        assert [site_path(e.link, base) for e in parsed.entries] == urls, folder
        stamps = [e.published_parsed for e in parsed.entries]
        assert stamps == sorted(stamps, reverse=True)
        for entry in parsed.entries:
            assert entry.id.startswith("tag:")
            assert entry.published[-6] in "+-" or entry.published.endswith("Z")
            assert entry.updated_parsed >= entry.published_parsed
            assert entry.author
            assert entry.summary
            assert entry.content[0].value
            assert page_file(out, site_path(entry.link, base)).is_file()
        ids = [e.id for e in parsed.entries]
        assert len(set(ids)) == len(ids)


def test_entries_carry_categories_sources_and_absolute_links(tricky: tuple[Path, LoadedSite]) -> None:
    out, _site = tricky
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    entry = next(e for e in parsed.entries if "stop" in e.title)
    assert entry.title == 'He said "stop" </script><script>alert(1)</script> & left'
    assert entry.author == 'Ana "AJ" Jones'
    terms = {(t.term, t.label) for t in entry.tags}
    assert ("world", "World & Region") in terms
    assert ("quotes", "quotes") in terms
    related = [link for link in entry.links if link.rel == "related"]
    assert [(link.href, link.title) for link in related] == [("https://example.com/a?x=1&y=2", 'Example "Wire"')]
    body = entry.content[0].value
    assert 'href="https://example.org/digest/world/arabic/"' in body
    assert "Example &quot;Wire&quot;" in body or 'Example "Wire"' in body


def check_json_feed(document: dict[str, object], feed_url: str) -> list[dict[str, object]]:
    """The JSON Feed 1.1 required fields and the types of the ones we use."""
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert document["feed_url"] == feed_url
    assert isinstance(document["home_page_url"], str)
    items = document["items"]
    assert isinstance(items, list)
    for item in items:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html"), str) or isinstance(item.get("content_text"), str)
        assert isinstance(item["url"], str) and item["url"].startswith("https://")
        for key in ("date_published", "date_modified"):
            assert datetime.fromisoformat(item[key]).tzinfo is not None
        assert all(isinstance(a["name"], str) for a in item["authors"])
        assert all(isinstance(t, str) for t in item["tags"])
        assert all(s["url"].startswith("http") for s in item["_digest"]["sources"])
    return items


@pytest.mark.parametrize("name", ["sample", "tricky"])
def test_every_json_feed_has_the_required_fields_and_matches_its_atom_twin(name: str, request: pytest.FixtureRequest) -> None:
    out, site = request.getfixturevalue(name)
    for folder, urls in expected_feeds(site).items():
        path = (page_file(out, folder) / ".." / "feed.json").resolve()
        items = check_json_feed(json.loads(path.read_text(encoding="utf-8")), site.config.base_url + folder.lstrip("/") + "feed.json")
        assert [site_path(str(i["url"]), site.config.base_url) for i in items] == urls
        atom = feedparser.parse(path.with_name("feed.xml").read_bytes())
        assert [i["id"] for i in items] == [e.id for e in atom.entries]


def test_feed_items_limits_entries_and_ids_stay_stable(tricky: tuple[Path, LoadedSite], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, site = tricky
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert site.config.feed_items == 3
    assert len(feedparser.parse((out / "feed.xml").read_bytes()).entries) == 3
    again = tmp_path / "again"
    build_site(BuildOptions(source=site.config.root, output=again, relative=True, cache=False))
    assert (again / "feed.xml").read_bytes() == (out / "feed.xml").read_bytes()


def test_a_body_in_a_feed_has_no_heading_permalinks_its_footnotes_lead_to_its_page_and_its_tags_are_unique(tmp_path: Path) -> None:
    source = copy_site_to("feeds", tmp_path / "src")
    body = "Intro with a note.[^1]\n\n## What changes\n\nDetail.\n\n[^1]: The filing, page 4.\n"
    write_article(source, "lab/notes.md", article_front("A story with a note", date="2026-05-20", tags="[Lab, notes]"), body)
    build_site(BuildOptions(source=source, output=tmp_path / "out"))
    [item] = [i for i in json.loads((tmp_path / "out" / "feed.json").read_text(encoding="utf-8"))["items"] if i["title"] == "A story with a note"]
    content = BeautifulSoup(item["content_html"], "html.parser")
    assert content.select(".header-anchor") == [] and content.select_one("h2").get_text() == "What changes"  # type: ignore[union-attr]
    hrefs = [str(a["href"]) for a in content.select("a[href]")]
    assert f"{item['url']}#fn1" in hrefs and f"{item['url']}#fnref1" in hrefs
    assert all(href.startswith(("https://", "http://", "mailto:")) for href in hrefs), hrefs
    assert item["tags"] == ["Lab", "notes"]  # the topic "Lab" and the tag "Lab": one name


def test_summary_only_feeds(tmp_path: Path) -> None:
    source = copy_site_to("feeds", tmp_path / "src")
    yaml = source / "site.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + "feed_full_content: false\n", encoding="utf-8")
    build_site(BuildOptions(source=source, output=tmp_path / "out"))
    parsed = feedparser.parse((tmp_path / "out" / "feed.xml").read_bytes())
    assert not parsed.bozo
    assert all("content" not in e and e.summary for e in parsed.entries)
    items = json.loads((tmp_path / "out" / "feed.json").read_text(encoding="utf-8"))["items"]
    assert all("content_html" not in i and i["content_text"] for i in items)


@pytest.mark.parametrize("name", ["sample", "tricky"])
def test_every_page_advertises_its_feeds(name: str, request: pytest.FixtureRequest) -> None:
    out, site = request.getfixturevalue(name)
    base = site.config.base_url
    for path in html_pages(out):
        soup = parse(path)
        atom = [link["href"] for link in soup.select('link[rel="alternate"][type="application/atom+xml"]')]
        json_links = [link["href"] for link in soup.select('link[rel="alternate"][type="application/feed+json"]')]
        assert base + "feed.xml" in atom, path
        assert base + "feed.json" in json_links, path
        for href in atom + json_links:
            assert (out / site_path(href, base).lstrip("/")).is_file(), href


def test_topic_and_tag_pages_offer_their_own_feed_to_follow(sample: tuple[Path, LoadedSite]) -> None:
    out, site = sample
    for listing in (*site.index.topics, *site.index.tags):
        soup = parse(page_file(out, listing.url))
        links = [a["href"] for a in soup.select(".follow a")]
        assert links == [listing.url + "feed.xml", listing.url + "feed.json"], listing.url
        assert soup.select_one(".follow .feed-url").get_text() == "https://example.org" + listing.url + "feed.xml"


def test_dates_before_time_zones_are_written_in_rfc_3339(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "site.yaml").write_text("title: T\ntimezone: America/Los_Angeles\n", encoding="utf-8")
    # Before 1883 Los Angeles kept local mean time, -07:52:58, which RFC 3339 cannot write.
    write_article(site, "policy/old.md", article_front("An old story", date="1850-01-01"))
    build_site(BuildOptions(source=site, output=tmp_path / "out"))
    atom = (tmp_path / "out/feed.xml").read_text(encoding="utf-8")
    stamps = re.findall(r"<(?:published|updated)>([^<]+)<", atom)
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)", s) for s in stamps), stamps
    assert "1850-01-01T07:52:58+00:00" in stamps
