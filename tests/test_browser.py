"""The built sample site in a real browser: Debian's Chromium driven by Playwright, served on 127.0.0.1.

Navigation, search (Pagefind's bundle, run by static/js/search.js), axe-core's accessibility rules in both
colour schemes at 360 and 1280 px, no sideways scrolling on a phone, and no console error or failed request.
Screenshots go to tests/screenshots/ (git-ignored) for a person to look at. One browser for the session.

scripts/test.sh installs what this needs (chromium with apt, axe-core with npm); without it these tests skip,
except in CI (the CI variable set), where they fail instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import REPO, TESTS, Built, build_fresh, page_file, parse

from digest import search

CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = TESTS / "screenshots"
HOW = "sudo apt-get install chromium, pip install -r requirements-dev.txt and npm install axe-core (scripts/test.sh does all three)"


def _browser_missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not CHROMIUM.is_file():
        return f"Chromium is not installed at {CHROMIUM}"
    if not AXE.is_file():
        return f"axe-core is not installed at {AXE.relative_to(REPO)}"
    return ""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(sample_site: Built, feeds_site: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample site at http://127.0.0.1:PORT/, the feeds site (base_url .../digest/) under /digest/, the sample built with --relative
    under /rel/, and the sample and the feeds site with their search index in shards under /shards/ and /digest-shards/."""
    relative = build_fresh("sample", tmp_path_factory.mktemp("relative"), relative=True, base_url="https://example.org/rel/")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "SHARD_SIZE", 2)  # the sample's articles in 8 shards, as a site of 4,000 would be
        sharded = build_fresh("sample", tmp_path_factory.mktemp("sharded"), base_url="https://example.org/shards/")
        patch.setattr(search, "SHARD_SIZE", 1)  # Arabic, Chinese and English in 2 shards, one without Chinese
        sharded_languages = build_fresh("feeds", tmp_path_factory.mktemp("sharded-feeds"), base_url="https://example.org/digest-shards/")
    with tempfile.TemporaryDirectory() as root:
        Path(root, "digest").symlink_to(feeds_site.out)
        Path(root, "rel").symlink_to(relative.out)
        Path(root, "shards").symlink_to(sharded.out)
        Path(root, "digest-shards").symlink_to(sharded_languages.out)
        for entry in sample_site.out.iterdir():
            Path(root, entry.name).symlink_to(entry)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}; {HOW}")
        pytest.skip(f"{missing}: {HOW}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield launched
        launched.close()


class Watched:
    """A page that records console errors and failed requests."""

    def __init__(self, browser: Any, width: int = 1280, scheme: str = "light") -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # A request the page's own navigation cancels (a click while images still load) fails as net::ERR_ABORTED: not a fault.
        self.page.on("requestfailed", lambda r: None if r.failure == "net::ERR_ABORTED" else self.problems.append(f"failed request: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    made = Watched(browser)
    yield made
    made.close()


def test_a_reader_follows_headline_related_tag_and_pagination(served: str, watched: Watched) -> None:
    page = watched.page
    page.goto(served + "/")
    headline = page.locator(".latest .card-title a").first
    title = headline.inner_text()
    headline.click()
    assert page.locator("h1").inner_text() == title
    related = page.locator("section[aria-labelledby=related-heading] a").first
    related_title = related.inner_text()
    related.click()
    assert page.locator("h1").inner_text() == related_title
    tag = page.locator("a[rel=tag]").first
    tag_name = tag.inner_text()
    tag.click()
    assert page.locator("h1").inner_text() == f"Tag: {tag_name}"
    page.goto(served + "/")
    page.locator(".pagination a[rel=next]").click()
    assert page.url == served + "/page/2/"
    assert page.locator("h1").inner_text() == "Headlines, page 2"


def _word_in_one_article(built: Built) -> tuple[str, str]:
    """A long word found in the text of exactly one listed article, and that article's title."""
    seen: dict[str, set[str]] = {}
    titles = {}
    for article in built.site.index.articles:
        soup = parse(page_file(built.out, article.url))
        titles[article.url] = article.title
        body = soup.select_one(".body")
        text = (article.title + " " + (body.get_text(" ") if body else "")).lower()
        for word in set(re.findall(r"\b[a-z]{9,}\b", text)):
            seen.setdefault(word, set()).add(article.url)
    word = min(w for w, urls in seen.items() if len(urls) == 1)
    return word, titles[next(iter(seen[word]))]


def _search(page: Any, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_function(
        "document.querySelector('.search-status').textContent.includes('found') || document.querySelector('.search-status').textContent.includes('No story')"
    )
    assert page.locator(".search-offline").is_hidden()  # served over HTTP: no word of opening from disk
    return [str(t) for t in page.locator(".search-result h2").all_inner_texts()]


def test_search_for_a_word_in_one_article_returns_it_first(served: str, watched: Watched, sample_site: Built) -> None:
    word, title = _word_in_one_article(sample_site)
    assert _search(watched.page, f"{served}/search/?q={word}")[0] == title


def test_a_topic_filter_narrows_the_results_and_the_date_sort_puts_the_newest_first(served: str, watched: Watched) -> None:
    page = watched.page
    everything = _search(page, f"{served}/search/?q=distillation")
    assert len(everything) > 2
    options = page.locator("select[name=topic] option").all_inner_texts()
    topic = options[1].rsplit(" (", 1)[0]
    page.select_option("select[name=topic]", label=options[1])
    page.wait_for_function(f"!location.search.includes('topic=') ? false : document.querySelectorAll('.search-result').length < {len(everything)}")
    metas = page.locator(".search-result .card-meta").all_inner_texts()
    assert metas and all(meta.startswith(topic) for meta in metas)
    assert "topic=" in page.url
    page.goto(f"{served}/search/?q=distillation&sort=date")
    page.wait_for_selector(".search-result")
    dates = [datetime.strptime(meta.split(" · ")[1], "%b %d, %Y") for meta in page.locator(".search-result .card-meta").all_inner_texts()]
    assert len(dates) == len(everything) and dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("query", ["q=distillation&sort=date", "topic=Policy&sort=date", "q=model&sort=date", "q=model", "q=مراكز"])
def test_an_index_in_shards_finds_what_one_index_finds_and_keeps_the_date_order(served: str, watched: Watched, query: str) -> None:
    whole = _search(watched.page, f"{served}/search/?{query}")
    topics = watched.page.locator("select[name=topic] option").all_inner_texts()
    sharded = _search(watched.page, f"{served}/shards/search/?{query}")
    assert whole and watched.page.locator("select[name=topic] option").all_inner_texts() == topics
    # A date sort gives the same list; by relevance each shard weighs words by its own pages, so only the set is the same.
    assert sharded == whole if "sort=date" in query else sorted(sharded) == sorted(whole)


@pytest.mark.parametrize("folder", ["digest", "digest-shards"])
def test_search_under_a_sub_path_in_english_and_chinese(served: str, watched: Watched, folder: str) -> None:
    found = _search(watched.page, f"{served}/{folder}/search/?q=开源")
    assert found == ["中国开源大模型在基准测试中接近闭源模型"]
    href = watched.page.locator(".search-result a").first.get_attribute("href")
    assert href is not None and urlsplit(href).path == f"/{folder}/world/chinese/"
    watched.page.locator(".search-result a").first.click()
    assert watched.page.locator("h1").inner_text() == found[0]


def test_search_opened_from_disk_says_it_cannot_run_and_leads_to_the_archive(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A --relative site opened from disk: the browser runs no module script from file://, so the page says search cannot load."""
    built = build_fresh("minimal", tmp_path_factory.mktemp("offline"), relative=True)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto((built.out / "search" / "index.html").as_uri() + "?q=story")
        page.wait_for_selector(".search-offline a", state="visible")
        page.click(".search-offline a")
        page.wait_for_load_state()
        assert page.url == (built.out / "archive" / "index.html").as_uri() and page.locator("h1").first.inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("prefix", ["/", "/rel/"])
def test_the_header_search_box_leads_to_results_with_and_without_relative_links(served: str, watched: Watched, prefix: str) -> None:
    page = watched.page
    page.goto(served + prefix + ("topics/research/index.html" if prefix == "/rel/" else ""))
    page.fill("#site-search-q", "distillation")
    page.press("#site-search-q", "Enter")
    page.wait_for_selector(".search-result")
    assert urlsplit(page.url).path in (prefix + "search/", prefix + "search/index.html") and "q=distillation" in page.url
    page.locator(".search-result a").first.click()
    assert urlsplit(page.url).path.startswith(prefix) and "distillation" in page.locator("h1").inner_text().lower()


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching *selector* has the keyboard focus (as a reader without a mouse does)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_on_a_phone_by_keyboard_a_reader_finds_the_distillation_story_narrows_it_and_follows_its_related_stories(served: str, browser: Any) -> None:
    """The issue's journey: 360 px wide, keyboard only, from the home page's search box to a related story."""
    reader = Watched(browser, width=360)
    page = reader.page
    page.goto(served + "/")
    _tab_to(page, "#site-search-q")  # the search box is reachable from the top of the page
    page.keyboard.type("distillation")
    page.keyboard.press("Enter")
    page.wait_for_selector(".search-result")
    everything = page.locator(".search-result h2").all_inner_texts()
    assert any("distill" in title.lower() for title in everything)
    _tab_to(page, "select[name=topic]")
    page.keyboard.press("ArrowDown")  # the first topic that has results
    page.wait_for_function(f"location.search.includes('topic=') && document.querySelectorAll('.search-result').length < {len(everything)}")
    narrowed = page.locator(".search-result h2").all_inner_texts()
    assert 0 < len(narrowed) < len(everything)
    _tab_to(page, ".search-result h2 a")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == narrowed[0]
    _tab_to(page, "section[aria-labelledby=related-heading] a, section.story-box a")
    target = page.evaluate("document.activeElement.textContent.trim()")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert target and target in page.locator("h1").inner_text() + " " + page.title()
    reader.close()


PAGES = ("home", "article", "tag", "search", "story", "404")


def _url(sample_site: Built, name: str) -> str:
    index = sample_site.site.index
    if name == "article":
        return next(a.url for a in index.articles if index.related[a.path])
    if name == "story":
        return next(s.url for s in index.stories if len(s.articles) > 1)
    return {"home": "/", "tag": index.tags[0].url, "search": "/search/?q=distillation", "404": "/404.html"}[name]


@pytest.fixture(scope="module")
def sized(browser: Any) -> Iterator[dict[int, Watched]]:
    """One page for each width, reused by every page's check at that width."""
    made: dict[int, Watched] = {}
    yield made
    for watched in made.values():
        watched.close()


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("name", PAGES)
def test_pages_pass_axe_in_both_schemes_and_fit_the_screen(
    served: str, sized: dict[int, Watched], browser: Any, sample_site: Built, name: str, width: int
) -> None:
    """axe-core finds no serious or critical violation, light and dark; at 360 px nothing scrolls sideways; screenshots for a person."""
    watched = sized.setdefault(width, Watched(browser, width))
    page = watched.page
    page.goto(served + _url(sample_site, name))
    if name == "search":
        page.wait_for_selector(".search-result")
    page.add_script_tag(path=str(AXE))
    SCREENSHOTS.mkdir(exist_ok=True)
    failures = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        failures += [
            f"{scheme}: {v['id']} ({v['impact']}) {v['help']}: {[n['target'] for n in v['nodes']][:3]}" for v in found if v["impact"] in ("serious", "critical")
        ]
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}-{width}.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if width == 360 and wide > 0:
        failures.append(f"the page scrolls sideways by {wide} px at 360 px")
    problems, watched.problems[:] = list(watched.problems), []
    assert failures + problems == []
