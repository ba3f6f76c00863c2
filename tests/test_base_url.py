"""Base URL and sub-paths: the site works at a domain's root, under /digest/, and from disk."""

from __future__ import annotations

import posixpath
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import urlopen

import pytest
from bs4 import BeautifulSoup
from conftest import REPO, parse
from conftest import copy_site_to as copy_site
from helpers import html_pages

from digest.cli import main
from digest.site import BuildOptions, build_site

LINKING = (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("source", "src"), ("iframe", "src"))


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(folder: Path) -> Iterator[int]:
    """Serve *folder* on 127.0.0.1 from a thread; yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except HTTPError as exc:
        return exc.code, "", b""


def crawl(start: str) -> tuple[dict[str, int], list[str]]:
    """Follow every link and asset inside the site from *start*; return statuses and problems."""
    origin = urlsplit(start)
    statuses: dict[str, int] = {}
    problems: list[str] = []
    queue = [start]
    while queue:
        url = queue.pop()
        if url in statuses:
            continue
        status, kind, body = fetch(url)
        statuses[url] = status
        if status != 200:
            continue
        found: list[str] = []
        if kind == "text/html":
            soup = BeautifulSoup(body.decode("utf-8"), "html.parser")
            found = [str(tag[attr]) for name, attr in LINKING for tag in soup.find_all(name) if tag.has_attr(attr)]
        elif url.endswith(("sitemap.xml", "feed.xml")):
            root = ET.fromstring(body)
            found = [e.text or "" for e in root.iter() if e.tag.endswith("}loc")]
            found += [e.get("href", "") for e in root.iter() if e.tag.endswith("}link")]
        for link in found:
            target = urldefrag(urljoin(url, link)).url
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or parts.netloc != origin.netloc:
                continue
            if not parts.path.startswith(origin.path):
                problems.append(f"{url} links outside the site folder: {link}")
                continue
            queue.append(target)
    return statuses, problems


@pytest.mark.parametrize("prefix", ["/", "/digest/"])
def test_the_site_works_served_at_a_root_and_under_a_sub_path(prefix: str, tmp_path: Path) -> None:
    source = copy_site("sample", tmp_path / "src")
    story = next((source / "content").glob("*/*.md"))
    story.write_text(story.read_text(encoding="utf-8") + "\nHow we check: [our standards](/editorial-standards/).\n", encoding="utf-8")  # a site path
    served = tmp_path / "www"
    out = served / prefix.strip("/") if prefix != "/" else served
    with serving(served) as port:
        base = f"http://127.0.0.1:{port}{prefix}"
        build_site(BuildOptions(source=source, output=out, base_url=base))
        statuses, problems = crawl(base)
        for extra in ("sitemap.xml", "news-sitemap.xml", "robots.txt", "feed.json"):
            statuses[base + extra] = fetch(base + extra)[0]
    broken = sorted(url for url, status in statuses.items() if status != 200)
    assert broken == [] and problems == []
    reached = {urlsplit(url).path for url in statuses}
    pages = {prefix + p.relative_to(out).as_posix().removesuffix("index.html") for p in html_pages(out)} - {prefix + "404.html"}
    assert pages <= reached, sorted(pages - reached)[:5]
    assert any(path.endswith("/share.png") for path in reached)
    assert any(path.startswith(prefix + "static/css/site.") for path in reached)


def test_the_404_page_works_at_any_depth(tmp_path: Path) -> None:
    source = copy_site("sample", tmp_path / "src")
    build_site(BuildOptions(source=source, output=tmp_path / "out", base_url="https://example.org/digest/", relative=True))
    for tag in parse(tmp_path / "out" / "404.html").find_all(["a", "link"]):
        href = str(tag.get("href", ""))
        assert href.startswith(("/digest/", "https://", "#")), href


def test_relative_links_work_opened_from_disk(tmp_path: Path) -> None:
    source = copy_site("feeds", tmp_path / "src")
    out = tmp_path / "out"
    build_site(BuildOptions(source=source, output=out, relative=True))
    checked = 0
    for path in html_pages(out):
        if path.name == "404.html":
            continue
        for name, attr in LINKING:
            for tag in parse(path).find_all(name):
                value = str(tag.get(attr, ""))
                if not value or value.startswith(("#", "https://", "http://", "mailto:")):
                    continue
                assert not value.startswith("/"), f"{path}: {value}"
                target = urldefrag(value).url.split("?")[0]
                resolved = Path(posixpath.normpath((path.parent / target).as_posix()))
                assert resolved.is_file() and resolved.is_relative_to(out), f"{path}: {value}"
                checked += 1
    assert checked > 100
    # Absolute metadata is untouched.
    home = parse(out / "index.html")
    assert home.find("link", rel="canonical")["href"] == "https://example.org/digest/"


def test_base_url_option_overrides_site_yaml_for_one_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = copy_site("feeds", tmp_path / "src")
    before = (source / "site.yaml").read_bytes()
    code = main(["build", "-s", str(source), "-o", str(tmp_path / "out"), "--base-url", "https://preview.example.net/pr-7/"])
    assert code == 0
    home = parse(tmp_path / "out" / "index.html")
    assert home.find("link", rel="canonical")["href"] == "https://preview.example.net/pr-7/"
    assert home.find("a", class_="site-title")["href"] == "/pr-7/"
    assert b"https://preview.example.net/pr-7/sitemap.xml" in (tmp_path / "out" / "robots.txt").read_bytes()
    assert b"https://preview.example.net/pr-7/world/arabic/" in (tmp_path / "out" / "feed.xml").read_bytes()
    assert (source / "site.yaml").read_bytes() == before

    code = main(["build", "-s", str(source), "-o", str(tmp_path / "bad"), "--base-url", "preview.example.net"])
    assert code == 2
    assert '--base-url: expected an absolute http(s) URL such as "https://example.org/", found "preview.example.net"' in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def chrome_links(out: Path) -> dict[str, list[str]]:
    """The header and footer links of every page, by page."""
    return {
        path.relative_to(out).as_posix(): [str(a["href"]) for a in parse(path).select(".site-header a[href], .site-footer a[href]")] for path in html_pages(out)
    }


def assert_all_under_news(out: Path) -> None:
    pages = chrome_links(out)
    assert len(pages) > 10
    wrong = {page: [href for href in links if not href.startswith("/news/")] for page, links in pages.items()}
    assert {page: hrefs for page, hrefs in wrong.items() if hrefs} == {}, out.name
    assert all(len(links) >= 10 for links in pages.values())


def test_a_base_url_build_after_a_plain_one_links_every_header_and_footer_under_it(tmp_path: Path) -> None:
    """The regression that started the one-pipeline work: header and footer kept the previous build's base path."""
    source = copy_site("minimal", tmp_path / "src")
    plain = tmp_path / "plain"
    build_site(BuildOptions(source=source, output=plain))
    assert all(href.startswith("/") and not href.startswith("/news/") for links in chrome_links(plain).values() for href in links)
    for out in (tmp_path / "other", plain):  # another folder, then the same folder (a cached update)
        build_site(BuildOptions(source=source, output=out, base_url="https://example.org/news/"))
        assert_all_under_news(out)
    # The same again from the command line, in new processes with the cache on disk: back to the plain URL, then --base-url.
    command = [sys.executable, str(REPO / "build.py"), "build", "-s", str(source), "-o", str(plain)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert all(not href.startswith("/news/") for links in chrome_links(plain).values() for href in links)
    done = subprocess.run([*command, "--base-url", "https://example.org/news/"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert_all_under_news(plain)
