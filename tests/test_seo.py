"""Search-engine metadata: sitemaps, robots.txt, meta tags and JSON-LD on every page."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import Built, page_file, parse
from helpers import html_pages, site_path

from digest.site import BuildOptions, LoadedSite, build_site

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture
def sample(sample_site: Built) -> tuple[Path, LoadedSite]:
    return sample_site.out, sample_site.site


@pytest.fixture
def tricky(feeds_site: Built) -> tuple[Path, LoadedSite]:
    return feeds_site.out, feeds_site.site


def page_url(out: Path, path: Path) -> str:
    """The site path a built HTML file is served at."""
    rel = path.relative_to(out).as_posix()
    return "/" + rel.removesuffix("index.html")


@pytest.mark.parametrize("name", ["sample", "tricky"])
def test_sitemap_lists_every_page_but_404_with_lastmod(name: str, request: pytest.FixtureRequest) -> None:
    out, site = request.getfixturevalue(name)
    base = site.config.base_url
    root = ET.fromstring((out / "sitemap.xml").read_bytes())
    listed = {}
    for url in root.findall(f"{SM}url"):
        lastmod = url.findtext(f"{SM}lastmod")
        assert lastmod and datetime.fromisoformat(lastmod).tzinfo is not None
        listed[site_path(url.findtext(f"{SM}loc") or "", base)] = lastmod
    pages = {page_url(out, p) for p in html_pages(out)} - {"/404.html"}
    assert set(listed) == pages
    for article in site.index.articles:
        assert listed[article.url] == article.last_modified.isoformat()


def test_a_site_with_more_pages_than_one_sitemap_holds_gets_a_sitemap_index(
    copy_site: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past 50,000 URLs a search engine refuses a sitemap: /sitemap.xml is then an index of parts, every page in one."""
    from digest import seo

    monkeypatch.setattr(seo, "SITEMAP_LIMIT", 10)  # the sample's 170-odd pages as a site of 900,000 would be
    out = build_site(BuildOptions(source=copy_site("sample"), output=tmp_path / "out")).output
    index = ET.fromstring((out / "sitemap.xml").read_bytes())
    assert index.tag == f"{SM}sitemapindex"
    parts = [site_path(loc.text or "", "https://example.org/") for loc in index.iter(f"{SM}loc")]
    listed: list[str] = []
    for part in parts:
        urls = ET.fromstring(page_file(out, part).read_bytes()).findall(f"{SM}url")
        assert 0 < len(urls) <= 10
        listed += [site_path(url.findtext(f"{SM}loc") or "", "https://example.org/") for url in urls]
    assert sorted(listed) == listed and set(listed) == {page_url(out, p) for p in html_pages(out)} - {"/404.html"} and len(set(listed)) == len(listed)
    assert parts == [f"/sitemaps/{n}.xml" for n in range(1, len(parts) + 1)]


def test_news_sitemap_has_the_two_days_before_the_newest_article(tricky: tuple[Path, LoadedSite]) -> None:
    out, site = tricky
    root = ET.fromstring((out / "news-sitemap.xml").read_bytes())
    entries = {
        site_path(u.findtext(f"{SM}loc") or "", site.config.base_url): (
            u.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}name"),
            u.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}language"),
            u.findtext(f"{NEWS}news/{NEWS}title"),
        )
        for u in root.findall(f"{SM}url")
    }
    # Newest: 2026-05-10 07:00 UTC. The Arabic story (05-09 09:00 UTC) is inside the
    # window; the Chinese one (05-08 00:00 UTC) and the older ones are not.
    assert set(entries) == {"/world/quote-title/", "/world/arabic/"}
    assert entries["/world/arabic/"][:2] == (site.config.title, "ar")
    assert entries["/world/quote-title/"] == (site.config.title, "en", 'He said "stop" </script><script>alert(1)</script> & left')


def test_robots_txt_points_to_both_sitemaps(tricky: tuple[Path, LoadedSite]) -> None:
    out, _ = tricky
    lines = (out / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert "User-agent: *" in lines
    assert "Sitemap: https://example.org/digest/sitemap.xml" in lines
    assert "Sitemap: https://example.org/digest/news-sitemap.xml" in lines


def meta(soup: BeautifulSoup, key: str) -> str:
    tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
    assert tag is not None, key
    return str(tag["content"])


def jsonld(soup: BeautifulSoup) -> dict[str, dict[str, object]]:
    """Every JSON-LD block of a page, by @type; each must be valid JSON."""
    found = {}
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        data = json.loads(script.string)
        found[data["@type"]] = data
    return found


@pytest.mark.parametrize("name", ["sample", "tricky"])
def test_every_page_has_title_description_canonical_and_social_tags(name: str, request: pytest.FixtureRequest) -> None:
    out, site = request.getfixturevalue(name)
    base = site.config.base_url
    for path in html_pages(out):
        soup = parse(path)
        assert soup.title and soup.title.string, path
        assert meta(soup, "description"), path
        canonical = soup.find("link", rel="canonical")["href"]
        assert canonical.startswith(base)
        if path.name != "404.html":
            assert canonical == base + page_url(out, path).lstrip("/")
        assert meta(soup, "og:url") == canonical
        assert meta(soup, "og:title") and meta(soup, "og:description") and meta(soup, "og:site_name") == site.config.title
        assert re.fullmatch(r"[a-z]{2,3}_[A-Z]{2}", meta(soup, "og:locale")), path  # language_TERRITORY, as OpenGraph reads it
        assert meta(soup, "twitter:card") in ("summary", "summary_large_image")
        jsonld(soup)  # parses


@pytest.mark.parametrize("name", ["sample", "tricky"])
def test_articles_carry_news_article_and_breadcrumbs(name: str, request: pytest.FixtureRequest) -> None:
    out, site = request.getfixturevalue(name)
    base = site.config.base_url
    for article in site.index.articles:
        soup = parse(page_file(out, article.url))
        data = jsonld(soup)
        news = data["NewsArticle"]
        assert news["headline"] == article.title
        assert news["datePublished"] == article.date.isoformat()
        assert news["dateModified"] == article.last_modified.isoformat()
        assert news["mainEntityOfPage"] == {"@type": "WebPage", "@id": base + article.url.lstrip("/")}
        assert news["publisher"]["name"] == site.config.title  # type: ignore[index]
        author = site.config.author(article.author)
        assert news["author"]["name"] == (author.name if author else article.author or site.config.title)  # type: ignore[index]
        assert news["keywords"] == [t.name for t in site.index.tags_of[article.path]]
        assert [s["url"] for s in news["isBasedOn"]] == [s.url for s in article.sources]  # type: ignore[union-attr]
        crumbs = data["BreadcrumbList"]["itemListElement"]
        assert [c["position"] for c in crumbs] == [1, 2, 3]  # type: ignore[union-attr]
        assert crumbs[-1]["item"] == news["url"]  # type: ignore[index]
        assert meta(soup, "og:type") == "article"
        assert meta(soup, "article:published_time") == article.date.isoformat()
        assert meta(soup, "twitter:card") == "summary_large_image"
        image = meta(soup, "og:image")
        assert news["image"] == [image]
        assert (out / site_path(image, base).lstrip("/")).is_file()
    home = jsonld(parse(out / "index.html"))
    assert home["WebSite"]["url"] == base and home["WebSite"]["name"] == site.config.title


def test_json_ld_survives_quotes_script_tags_and_non_latin_text(tricky: tuple[Path, LoadedSite]) -> None:
    out, _ = tricky
    html = (out / "world" / "quote-title" / "index.html").read_text(encoding="utf-8")
    head = html.split("</head>")[0]
    assert "<script>alert(1)" not in head  # nothing in the metadata can open a script
    soup = BeautifulSoup(html, "html.parser")
    assert len(soup.find_all("script")) == 2  # NewsArticle and BreadcrumbList, nothing smuggled in
    data = jsonld(soup)
    assert data["NewsArticle"]["headline"] == 'He said "stop" </script><script>alert(1)</script> & left'
    assert data["NewsArticle"]["publisher"]["name"] == 'Tricky "Digest" </script>'  # type: ignore[index]
    arabic = jsonld(parse(out / "world" / "arabic" / "index.html"))
    assert arabic["NewsArticle"]["headline"] == "دول الخليج تسرّع بناء مراكز بيانات الذكاء الاصطناعي"
    assert arabic["NewsArticle"]["inLanguage"] == "ar"


def test_an_article_with_its_own_image_uses_it_and_gets_no_generated_card(tricky: tuple[Path, LoadedSite]) -> None:
    out, _ = tricky
    soup = parse(out / "lab" / "own-image" / "index.html")
    assert meta(soup, "og:image") == "https://example.org/digest/lab/cover.png"
    assert (out / "lab" / "cover.png").is_file()
    assert not (out / "lab" / "own-image" / "share.png").exists()


def test_static_assets_carry_a_content_hash(sample: tuple[Path, LoadedSite]) -> None:
    out, _site = sample
    soup = parse(out / "index.html")
    for link in soup.select('link[rel="stylesheet"]'):
        href = link["href"]
        name = href.removeprefix("/static/")
        stem, digest, suffix = name.rsplit(".", 2)
        assert len(digest) == 10 and suffix == "css", href
        served = out / href.lstrip("/")
        assert served.read_bytes() == (Path(__file__).resolve().parent.parent / "static" / f"{stem}.{suffix}").read_bytes()
