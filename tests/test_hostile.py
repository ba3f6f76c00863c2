"""Hostile input: markup in every field, raw HTML, and names that try to leave the output folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, page_file, parse
from sitekit import MARKER_TAG, article_front, html_pages, snapshot, tree, unsafe_markup, write_article

from digest.errors import ContentError
from digest.output import url_to_relpath
from digest.site import BuildResult


def test_markup_in_every_field_is_escaped(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("hostile")
    build(site)
    out = tmp_path / "out"
    pages = html_pages(out)
    assert len(pages) > 10
    for page in pages:
        assert unsafe_markup(page.read_text(encoding="utf-8")) == [], page

    article = parse(page_file(out, "/policy/payloads/"))
    # The markup is still there, as text the reader can see.
    assert article.h1 is not None
    assert article.h1.get_text() == '<hyp-x onmouseover="alert(1)">Title</hyp-x> "quoted" & <script>alert(1)</script>'
    assert article.title is not None and "<hyp-x" in article.title.get_text()
    description = article.find("meta", attrs={"name": "description"})
    assert description is not None and str(description["content"]).startswith('<hyp-x onfocus="alert(1)">Summary')
    byline = article.select_one(".byline")
    assert byline is not None and 'href="javascript:alert(1)"' in byline.get_text()
    assert article.select_one(".why li") is not None and "<img src=x onerror=alert(1)>" in article.select_one(".why li").get_text()  # type: ignore[union-attr]
    source_link = article.select_one("ol.sources a")
    assert source_link is not None and source_link.get_text() == '<hyp-x onclick="alert(1)">Wire</hyp-x>'
    assert source_link["href"] == 'https://example.com/x?q="><hyp-x/onclick=alert(1)>'
    # Input is data, never template source.
    model = [dd.get_text() for dt, dd in zip(article.select(".facts dt"), article.select(".facts dd"), strict=True) if dt.get_text() == "Model"]
    assert model == ["<hyp-x>model</hyp-x><script>alert(1)</script> {{ 7*7 }} {% raw %}"]
    # Tags and story ids became safe URL names.
    tag_urls = sorted(a["href"] for a in article.select(".tag-list a"))
    assert tag_urls == ["/tags/hyp-x-tag-hyp-x/", "/tags/javascript-alert-1/", "/tags/script-alert-1-script/"]
    assert page_file(out, "/stories/hyp-x-story-hyp-x/").is_file()


def test_raw_html_in_bodies_is_escaped_by_default(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    build(copy_site("hostile"))
    body = parse(page_file(tmp_path / "out", "/policy/payloads/")).select_one(".body")
    assert body is not None
    text = body.get_text()
    assert '<hyp-x onclick="alert(1)">inline</hyp-x>' in text
    assert "<img src=https://evil.example/x.png onerror=alert(1)>" in text
    assert body.find("img") is None and body.find("div") is None
    # markdown-it refuses script links; they stay text.
    assert [a["href"] for a in body.find_all("a") if not str(a["href"]).startswith("#")] == []
    assert "[js link](javascript:alert(1))" in text
    # Code blocks show the script as code.
    code = body.find("code")
    assert code is not None and '<script>alert("in code")</script>' in code.get_text()


def test_allowed_html_is_sanitized(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("hostile")
    (site / "site.yaml").write_text((site / "site.yaml").read_text(encoding="utf-8") + "allow_html: true\n", encoding="utf-8")
    write_article(
        site,
        "policy/raw.md",
        article_front("Raw HTML"),
        "<details><summary>More</summary><mark>kept</mark></details>\n\n"
        '<p><a href="https://example.com/ok" onclick="steal()">fine link</a> <a href=" JaVaScRiPt:alert(1)">bad</a>'
        '<a href="&#106;avascript:alert(1)">entity</a></p>\n\n'
        '<iframe src="https://evil.example/"></iframe><svg onload=alert(1)></svg><style>body{display:none}</style>\n\n'
        '<table><tr><td style="background:url(javascript:alert(1));text-align:right">cell</td></tr></table>\n\n'
        "<object data=x></object><form action=javascript:alert(1)><input onfocus=alert(1) autofocus></form>\n",
    )
    build(site)
    out = tmp_path / "out"
    for page in html_pages(out):
        assert unsafe_markup(page.read_text(encoding="utf-8")) == [], page
    body = parse(page_file(out, "/policy/raw/")).select_one(".body")
    assert body is not None
    assert body.find("details") is not None and body.find("mark") is not None
    links = {a.get_text(): a.get("href") for a in body.find_all("a")}
    assert links["fine link"] == "https://example.com/ok"
    assert links["bad"] is None and links["entity"] is None
    for name in ("iframe", "svg", "style", "object", "form", "input", "script"):
        assert body.find(name) is None, name
    cell = body.find("td")
    assert cell is not None and cell.get("style") == "text-align:right"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", '"../../../../escaped"'),
        ("slug", '"/etc/passwd"'),
        ("slug", '".."'),
        ("slug", '"..."'),
        ("slug", '"a\\0b"'),
        ("slug", '"CON"'),
        ("slug", '"C:\\\\Windows\\\\x"'),
        ("topic", '"../../escaped"'),
        ("topic", '"nul"'),
        ("story", '"../../../escaped"'),
        ("story", '"/tmp/escaped"'),
        ("story", '"."'),
        ("tags", '["../../escaped", "/abs", "..", ".", "aux", "\\\\\\\\server\\\\share"]'),  # a control character in a tag is an error (below)
    ],
)
def test_names_never_escape_the_output_folder(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path, field: str, value: str
) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/escape.md", article_front("Escape attempt", **{field: value}))
    before = tree(tmp_path)
    result = build(site)
    out = tmp_path / "out"
    cache = f"{site.name}/.digest-cache"  # the site's own build cache is the one other place written
    added = {p for p in tree(tmp_path) - before if p != cache and not p.startswith(cache + "/")}
    assert added == {"out"} | {f"out/{rel}" for rel in tree(out)}
    assert not any("escaped" in p for p in tree(tmp_path) if not p.startswith("out/"))
    for rel in tree(out):
        for part in rel.split("/"):
            assert part not in ("", ".", "..") and "\\" not in part and ":" not in part and "\0" not in part, rel
            assert part.split(".")[0].lower() not in ("con", "nul", "aux", "prn"), rel
    assert result.articles == 3


@pytest.mark.parametrize("url", ["/../x/", "/a/../../x", "/a/./b", "//etc/passwd", "/a\\b/", "/c:/x", "/a\0b/", "/con/", "/x/NUL.txt", "/a\nb/", "relative/"])
def test_the_writer_refuses_unsafe_urls(url: str) -> None:
    with pytest.raises(ValueError):
        url_to_relpath(url)


def test_two_articles_on_one_url_name_both_files(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/other.md", article_front("Same URL", slug="first-story"))
    with pytest.raises(ContentError) as caught:
        build(site)
    messages = [str(p) for p in caught.value.problems if p.is_error]
    assert len(messages) == 1
    assert messages[0].startswith("content/policy/other.md:1: error:") or messages[0].startswith("content/policy/first-story.md:1: error:")
    assert "content/policy/first-story.md" in messages[0] and "content/policy/other.md" in messages[0]
    assert not (tmp_path / "out").exists()


def test_tags_that_slug_alike_get_distinct_urls_with_a_warning(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    write_article(
        site, "policy/langs.md", article_front("Languages", tags='["C++", "C#", "AI safety", "AI-safety", "ai  safety", "AI/safety"]')
    )  # the first three are one tag
    result = build(site)
    out = tmp_path / "out"
    tags = parse(page_file(out, "/tags/"))
    listed = {a.get_text(" ", strip=True).split(" ")[0]: a["href"] for a in tags.select("main a[href^='/tags/']")}
    hrefs = [a["href"] for a in tags.select("main a[href^='/tags/']")]
    assert len(hrefs) == len(set(hrefs))
    assert "/tags/cpp/" in hrefs and "/tags/csharp/" in hrefs
    assert "/tags/ai-safety/" in hrefs and "/tags/ai-safety-2/" in hrefs and "/tags/ai-safety-3/" not in hrefs
    assert listed
    warned = [str(p) for p in result.warnings if "would share the URL /tags/ai-safety/" in p.message]
    assert len(warned) == 1 and warned[0].startswith("content/policy/langs.md:4: warning:")  # at its tags: line
    for href in hrefs:
        assert page_file(out, str(href)).is_file()


def test_an_article_and_a_generated_page_on_one_url_is_an_error(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    write_article(site, "tags/regulation.md", article_front("I am a tag page"))
    with pytest.raises(ContentError) as caught:
        build(site)
    errors = [str(p) for p in caught.value.problems if p.is_error]
    assert len(errors) == 1
    assert errors[0].startswith("content/tags/regulation.md:1: error:")
    assert "page “Tag: regulation”" in errors[0] and "/tags/regulation/" in errors[0]


def test_a_content_file_on_a_generated_url_is_an_error(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    (site / "content/feed.json").write_text('{"items": ["forged"]}', encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    errors = [str(p) for p in caught.value.problems if p.is_error]
    assert errors == ["content/feed.json: error: expected no file at /feed.json, found one: the build writes /feed.json itself; rename or move the file"]


def test_previous_output_is_kept_when_hostile_input_fails(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    build(site)
    before = snapshot(tmp_path / "out")
    write_article(site, "policy/bad.md", article_front("Bad", confidence="400"))
    with pytest.raises(ContentError):
        build(site)
    assert snapshot(tmp_path / "out") == before
    assert MARKER_TAG not in repr(before)


def test_topics_that_slug_alike_are_an_error_in_site_yaml(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    (site / "site.yaml").write_text("title: x\ntopics:\n  policy: Policy\n  Policy!: Also policy\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site)
    assert [str(p) for p in caught.value.problems if p.is_error] == [
        'site.yaml:4: error: topics: "Policy!" makes the same topic slug "policy" as the topic on line 3; give each topic its own slug'
    ]


def test_outlets_that_slug_alike_get_distinct_pages(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/hosts.md", article_front("Hosts", sources="[https://a-b.example/x, https://a.b.example/y]"))
    build(site)
    sources = parse(page_file(tmp_path / "out", "/sources/"))
    hrefs = sorted(str(a["href"]) for a in sources.select("main a[href^='/sources/']"))
    assert "/sources/a-b-example/" in hrefs and "/sources/a-b-example-2/" in hrefs
    assert len(hrefs) == len(set(hrefs))
    for href in hrefs:
        assert page_file(tmp_path / "out", href).is_file()


def test_an_outlet_cited_only_by_an_expired_article_gets_a_slug_of_its_own(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], tmp_path: Path
) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/live.md", article_front("Live", sources="[https://a-b.example/x]"))
    write_article(site, "policy/old.md", article_front("Old", date="2026-02-01", expires="2026-02-10", sources="[https://a.b.example/y]"))
    build(site)  # was an error: both outlets claimed /sources/a-b-example/
    old = parse(page_file(tmp_path / "out", "/policy/old/"))
    link = old.select_one("a[href^='/sources/a-b-example']")
    assert link is not None and link["href"] == "/sources/a-b-example-2/"
    assert page_file(tmp_path / "out", "/sources/a-b-example-2/").is_file() and page_file(tmp_path / "out", "/sources/a-b-example/").is_file()


def test_a_malformed_url_is_a_located_error_not_an_internal_one(copy_site: Callable[[str], Path], build: Callable[..., BuildResult]) -> None:
    site = copy_site("minimal")
    write_article(site, "policy/ipv6.md", article_front("Broken host", sources='["https://[::1/x"]', image='"https://[::1/card.png"'))
    with pytest.raises(ContentError) as failure:
        build(site)
    found = [(p.path, p.line, p.message) for p in failure.value.problems if p.is_error]
    assert ("content/policy/ipv6.md", 5, 'sources: expected a well-formed URL, found "https://[::1/x" (Invalid IPv6 URL)') in found
    assert ("content/policy/ipv6.md", 7, 'image: expected a well-formed URL, found "https://[::1/card.png" (Invalid IPv6 URL)') in found


def test_control_characters_in_front_matter_are_errors_and_never_reach_the_terminal(tmp_path: Path) -> None:
    import subprocess
    import sys

    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "site.yaml").write_text("title: T\n", encoding="utf-8")
    # YAML escapes make a title that would retitle the terminal window and ring its bell, a tag with NUL and a source name with ESC.
    front = article_front("A \\e]0;pwned\\a title", tags='["ok", "bad\\0tag"]', sources='[{url: "https://example.com/a", name: "Wire\\e[2J"}]')
    write_article(site, "policy/controls.md", front)
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "-s", str(site), "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 1
    assert "content/policy/controls.md:2: error: title: expected text without control characters, found \\x1b" in run.stderr
    assert "content/policy/controls.md:4: error: tags: expected text without control characters, found \\x00" in run.stderr
    assert "content/policy/controls.md:5: error: sources: expected a name without control characters" in run.stderr
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in run.stderr), "a control character reached the terminal"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("marker", ["> ", "- ", "1. > "])
def test_deep_nesting_is_a_located_error_not_a_crash(copy_site: Callable[[str], Path], build: Callable[..., BuildResult], marker: str) -> None:
    site = copy_site("minimal")
    # 100,000 levels on one line overflowed markdown-it-pyrs's stack: the process died (exit 139) with no message.
    write_article(site, "policy/deep.md", article_front("Deep"), "A first line.\n\n" + marker * 100_000 + "x\n")
    with pytest.raises(ContentError) as caught:
        build(site)
    found = [(p.path, p.line, p.message) for p in caught.value.problems if p.is_error]
    assert found == [("content/policy/deep.md", 10, "expected quotes and lists nested at most 100 levels deep on one line, found more; write it flatter")]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("## a\n\n" * 20_000, 2008, "expected at most 1000 headings in one article, found more; split it"),
        (
            "".join(f"[r{n}]: https://example.com/{n}\n" for n in range(20_000)),
            2008,
            "expected at most 2000 link reference definitions in one article, found more; split it",
        ),
    ],
    ids=["20,000 identical headings", "20,000 link reference definitions"],
)
def test_bodies_that_would_render_in_quadratic_time_are_located_errors(
    copy_site: Callable[[str], Path], build: Callable[..., BuildResult], body: str, line: int, message: str
) -> None:
    import time

    site = copy_site("minimal")
    write_article(site, "policy/many.md", article_front("Many"), body)
    started = time.perf_counter()
    with pytest.raises(ContentError) as caught:
        build(site)
    assert time.perf_counter() - started < 10, "a guard far above the expected time, not a benchmark (the engines took 24 to 71 s)"
    assert [(p.path, p.line, p.message) for p in caught.value.problems if p.is_error] == [("content/policy/many.md", line, message)]
