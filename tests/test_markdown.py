"""The markdown stage: what a reader sees in an article body, on each engine.

Every behaviour test runs on both engines (the ``engine`` fixture). The engines
give the same features, not the same bytes, so the tests read the HTML's
structure (BeautifulSoup) rather than its text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.config import SiteConfig, load_config, options_table
from digest.content import Article
from digest.errors import Problem
from digest.markdown import HELD_BACK, BodyRenderer, RenderedBody, first_paragraph, pick_engine

B_URLS = {"content/news/b.md": "/news/b/"}


def article(path: str = "content/news/a.md") -> Article:
    return Article(
        path=path, slug="a", topic="news", url="/news/a/", title="A", date=datetime(2026, 1, 1, tzinfo=UTC), updated=None,
        tags=("x",), sources=(), confidence=50, confidence_label="Medium", review="unreviewed", model="", summary="", why_it_matters=(),
        story="", author="", lang="en", draft=False, body_line=8,
    )  # fmt: skip


@pytest.fixture(params=["python", "rust"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def render_body(
    body: str, engine: str, allow_html: bool = False, root: Path = Path("."), urls: dict[str, str] | None = None
) -> tuple[RenderedBody, list[Problem]]:
    config = SiteConfig(root=root, allow_html=allow_html, markdown_engine=engine)
    renderer = BodyRenderer(config, urls or {})
    assert renderer.engine == engine
    return renderer.render(article(), body)


def render(body: str, engine: str, allow_html: bool = False) -> BeautifulSoup:
    rendered, problems = render_body(body, engine, allow_html)
    assert problems == []
    return BeautifulSoup(rendered.html, "html.parser")


# Safety.


def test_raw_html_is_escaped_by_default(engine: str) -> None:
    soup = render('<script>alert(1)</script>\n\n<b onclick="x()">bold</b>', engine)
    assert soup.find("script") is None and soup.find("b") is None
    assert "<script>alert(1)</script>" in soup.get_text()


@pytest.mark.parametrize("allow_html", [False, True])
def test_html_comments_are_dropped_but_in_code_and_lines_stay_true(engine: str, allow_html: bool) -> None:
    body = (
        "<!-- embargo until 9am;\nsource: Jane at the ministry -->\nThe ministry spoke. <!-- check the day -->Then [a](gone.md).\n\n"
        "<!--more-->\n\n```html\n<!-- shown -->\n```\n\nWrite `<!-- this -->` to hide a note.\n\n"
        "<div>Editors only <!-- secret A --></div>\n\n<script>x()</script> <!-- secret C\n-->\n"  # comments in HTML blocks
    )
    rendered, problems = render_body(body, engine, allow_html)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert "embargo" not in rendered.html and "check the day" not in rendered.html and "more" not in soup.get_text()
    assert "secret" not in rendered.html and "Editors only" in soup.get_text()
    assert soup.select_one("pre").get_text() == "<!-- shown -->\n"  # type: ignore[union-attr]
    assert soup.select_one("p code").get_text() == "<!-- this -->"  # type: ignore[union-attr]
    assert rendered.summary == "The ministry spoke. Then a."
    assert [p.line for p in problems if "left out" not in p.message] == [8 + 2]  # the link's own line, as before the comments went


def test_raw_html_the_sanitizer_leaves_out_is_a_warning_at_its_line_and_video_stays(engine: str) -> None:
    body = '<video src="https://cdn.example/clip.mp4" controls autoplay></video>\n\n<iframe src="https://x.example"></iframe>\n\nA <marquee>b</marquee>.\n\n```\n<iframe>code</iframe>\n```\n'
    rendered, problems = render_body(body, engine, allow_html=True)
    soup = BeautifulSoup(rendered.html, "html.parser")
    video = soup.find("video")
    assert video is not None and video["src"] == "https://cdn.example/clip.mp4" and not video.has_attr("autoplay")
    assert soup.find("iframe") is None and soup.find("marquee") is None
    left_out = "expected HTML a story may hold, found <{}>, which is left out of the page"
    assert [str(p) for p in problems] == [
        f"content/news/a.md:{8 + 2}: warning: {left_out.format('iframe')}",
        f"content/news/a.md:{8 + 4}: warning: {left_out.format('marquee')}",
    ]


def test_allowed_html_is_sanitized(engine: str) -> None:
    body = '<b onclick="steal()">bold</b> <a href="javascript:alert(1)">x</a>\n\n<script>alert(1)</script>\n\n<iframe src="https://x"></iframe>'
    rendered, problems = render_body(body, engine, allow_html=True)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert [p.message.split("<")[1].split(">")[0] for p in problems] == ["script", "iframe"]  # each left out with a warning
    assert soup.find("b").get_text() == "bold"
    assert "onclick" not in soup.find("b").attrs
    assert soup.find("script") is None and soup.find("iframe") is None
    assert not (soup.find("a").get("href") or "").startswith("javascript:")
    quoted = render('<blockquote cite="javascript:alert(1)">quote</blockquote> <q cite="data:text/html,x">q</q>', engine, allow_html=True)
    assert [tag.attrs for tag in quoted.find_all(["blockquote", "q"])] == [{}, {}]  # no URL outside http, https and mailto


@pytest.mark.parametrize("allow_html", [False, True])
def test_javascript_links_never_become_links(engine: str, allow_html: bool) -> None:
    soup = render("[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](vbscript:x) <javascript:alert(1)>", engine, allow_html)
    assert soup.find("a") is None


def test_raw_html_links_are_resolved_and_checked_as_markdown_links_are(engine: str) -> None:
    body = '<div><h2>Raw</h2><a href="b.md">raw</a>\n<img src="nope.png" alt="x"></div>\n\n<p style="text-align: center">Mid</p>\n\n## Made\n'
    rendered, problems = render_body(body, engine, allow_html=True, urls=B_URLS)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert soup.select_one("div a")["href"] == "/news/b/" and rendered.links == ("content/news/b.md", "content/news/nope.png")  # type: ignore[index]
    assert [str(p) for p in problems] == ['content/news/a.md:9: error: link to "nope.png": expected a file at content/news/nope.png, found none']
    assert soup.select_one("p")["style"] == "text-align:center"  # type: ignore[index]
    assert "<h2>Raw</h2>" in rendered.html and soup.select_one("h2#made a.header-anchor") is not None


def test_allowed_html_leaves_bodies_without_raw_html_to_the_rust_engine() -> None:
    renderer = BodyRenderer(SiteConfig(root=Path("."), allow_html=True, markdown_engine="rust"), {})
    assert renderer.render_rust(article(), "## Title\n\n`a < b` <https://example.org>\n", [], set(), []) is not None
    assert renderer.render_rust(article(), "## Title\n\n<b>raw</b>\n", [], set(), []) is None, "raw HTML: the python engine renders it"


# The only tags a body can hold with raw HTML off: the renderers' own.
RENDERED_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img", "em", "strong", "code", "pre", "span", "blockquote", "ul", "ol", "li", "hr", "br"}
RENDERED_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "s", "sup", "section"}
PIECES = [
    "## Results & *more*", "# Top", "Setext\n---", "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "[js](javascript:alert(1))",
    "![i](javascript:alert(1))", "[x](b.md) [y](gone.md) ![z](../img/none.png)", "text[^1]\n\n[^1]: note [l](nope.md)", "inline^[foot *note*] end",
    "```python\nx = '<a>'\n```", "```<b>\nq\n```", "| a | b |\n|:--|--:|\n| `c\\|d` | ~~e~~ |", "> quote\n> > deeper", "- item\n  lazy\n- two",
    "&lt;h2&gt; &amp; &#35;", "## heading </h2> inside", "line  \nbreak\\\nhere", "nul \x00 and\r\ncrlf", "Ünïcödé ✓ 日本語 🎉", "^[\xa0]",
]  # fmt: skip


@settings(max_examples=120, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=6))
def test_any_body_renders_to_safe_markup(engine: str, parts: list[str]) -> None:
    rendered, _ = render_body("\n\n".join(parts) + "\n", engine, urls=B_URLS)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert {tag.name for tag in soup.find_all(True)} <= RENDERED_TAGS
    for tag in soup.find_all(True):
        assert not any(name.startswith("on") for name in tag.attrs)
        for name in ("href", "src"):
            assert not "".join(str(tag.get(name, "")).split()).lower().startswith(("javascript:", "vbscript:", "data:text"))


# Extensions.


def test_headings_h2_to_h4_get_unique_ids_and_a_permalink(engine: str) -> None:
    rendered, problems = render_body("# Top\n\n## Results\n\ntext\n\n## Results\n\n### Résumé & `code`\n\n#### Four\n\n##### Five\n", engine)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert [str(p) for p in problems] == [  # the page's title is its h1
        "content/news/a.md:8: warning: expected headings from ## down in a body (the title is the page's one # heading), found a # heading, shown as a second title"
    ]
    assert soup.find("h1").attrs == {} and soup.find("h5").attrs == {}
    headings = soup.select("h2, h3, h4")
    ids = [h["id"] for h in headings]
    assert len(set(ids)) == 4 and ids[0] == "results" and all(ids)
    for heading in headings:
        permalink = heading.select_one("a.header-anchor")
        assert permalink["href"] == "#" + heading["id"] and permalink.get_text() == "#"
        assert heading.contents[-1] is permalink, "the permalink follows the title"
    assert headings[2].get_text() == "Résumé & code #" and headings[2].find("code") is not None


def test_heading_ids_keep_combining_marks_and_are_never_empty(engine: str) -> None:
    soup = render("## भारत में एआई सहायक\n\n## ???\n\n## ???\n", engine)
    headings = soup.select("h2")
    assert headings[0]["id"] == "भारत-में-एआई-सहायक"  # the vowel signs are part of the words
    for heading in headings[1:]:  # no letter to make an id of: a valid one, or none
        assert heading.get("id") != "" and (heading.get("id") is None or heading.select_one("a")["href"] == "#" + heading["id"])


@pytest.mark.parametrize("allow_html", [False, True])
def test_a_heading_never_takes_an_id_of_the_pages_own_parts(engine: str, allow_html: bool) -> None:
    rendered, _ = render_body('## Tags heading\n\n## Main\n\n<h2 id="why-heading">Raw</h2>\n', engine, allow_html)
    ids = [str(h.get("id")) for h in BeautifulSoup(rendered.html, "html.parser").find_all(["h2", "p"]) if h.get("id")]
    assert ids == ["tags-heading-1", "main-1"]  # the page's own "Tags" section and <main> keep theirs


def test_a_link_to_a_fragment_the_article_does_not_have_is_a_warning_at_its_line(engine: str) -> None:
    body = "See [a](#nowhere), [b](#results), [t](#top), [m](#main) and a note[^1].\n\n## Results\n\nText [c](#résumé).\n\n### Résumé\n\n[^1]: The note.\n"
    _, problems = render_body(body, engine)
    assert [str(p) for p in problems] == [
        'content/news/a.md:8: warning: link to "#nowhere": expected a heading or note of this article with that id, found none'
    ]


def test_footnotes_link_both_ways(engine: str) -> None:
    soup = render("a[^b] c[^a] d[^b] e^[inline *note*]\n\n[^a]: Note A.\n[^b]: Note B.\n", engine)
    refs = soup.select("sup.footnote-ref a")
    assert len(refs) == 4
    for ref, text in zip(refs, ["Note B.", "Note A.", "Note B.", "inline note"], strict=True):
        note = soup.find(id=ref["href"].removeprefix("#"))
        assert note is not None and note.name == "li" and "footnote-item" in note["class"]
        assert note.get_text().strip().startswith(text)
        assert "#" + ref["id"] in [back["href"] for back in note.select("a.footnote-backref")], "the note links back to each reference"
    assert soup.select_one("section.footnotes ol") is not None


def test_tables_and_strikethrough(engine: str) -> None:
    soup = render("~~gone~~ kept\n\n| a | b |\n|:--|--:|\n| 1 | `2\\|3` |\n", engine)
    assert soup.find("s").get_text() == "gone"
    assert [th.get_text() for th in soup.select("table thead th")] == ["a", "b"]
    assert [td.get_text() for td in soup.select("table tbody td")] == ["1", "2|3"]
    assert [td["style"] for td in soup.select("td")] == ["text-align:left", "text-align:right"]


def test_code_is_highlighted_by_pygments(engine: str) -> None:
    soup = render('Intro\n\n```python\ndef f():\n    return "<a>"\n```\n', engine)
    code = soup.select_one("pre.highlight > code.language-python")
    assert code is not None and code.get_text() == 'def f():\n    return "<a>"\n'
    assert [span.get_text() for span in code.select("span.k")] == ["def", "return"]
    assert code.find("a") is None


@pytest.mark.parametrize("info", ["nosuchlang", "<b>", ""])
def test_unknown_or_no_code_language_is_escaped_not_dropped(engine: str, info: str) -> None:
    soup = render(f"```{info}\n<b>x</b>\n```\n", engine)
    code = soup.select_one("pre > code")
    assert soup.find("b") is None and code.get_text() == "<b>x</b>\n" and code.find("span") is None
    assert code.get("class") == ([f"language-{info}"] if info else None)


def test_void_tags_are_html_not_xhtml(engine: str) -> None:
    rendered, _ = render_body("line  \nbreak ![i](https://x.example/i.png)\n\n***\n", engine)
    assert "<br>" in rendered.html and "<hr>" in rendered.html and '<img src="https://x.example/i.png" alt="i">' in rendered.html
    assert "/>" not in rendered.html


def test_a_body_markdown_it_pyrs_panics_on_still_renders(engine: str) -> None:
    soup = render("Before ^[\xa0] after\n", engine)  # markdown-it-pyrs 0.4.0 panics here: the python engine takes over
    assert soup.find("p").get_text().startswith("Before")


# Links.


def test_article_and_file_links_are_rewritten_and_listed(engine: str, tmp_path: Path) -> None:
    (tmp_path / "content" / "img").mkdir(parents=True)
    (tmp_path / "content" / "img" / "a.png").write_bytes(b"png")
    body = (
        "See [b](b.md#part) and [b again](./b.md).\n\n"  # line 8
        "[gone](gone.md) ![chart](../img/a.png)\n\n"  # line 10
        "| [x](https://example.com/x.md) |\n|---|\n| [missing](../img/none.png) |\n"  # lines 12-14
    )
    rendered, problems = render_body(body, engine, root=tmp_path, urls=B_URLS)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == ["/news/b/#part", "/news/b/", "gone.md", "https://example.com/x.md", "../img/none.png"]
    assert soup.find("img")["src"] == "/img/a.png"
    assert rendered.links == ("content/img/a.png", "content/img/none.png", "content/news/b.md", "content/news/gone.md")
    assert sorted(str(p) for p in problems) == [
        'content/news/a.md:10: error: link to "gone.md": expected an article file, found no published article at content/news/gone.md',
        'content/news/a.md:14: error: link to "../img/none.png": expected a file at content/img/none.png, found none',
    ]


def test_a_broken_link_is_located_in_its_paragraph(engine: str) -> None:
    body = "Intro.\n\nFirst line\nsecond [gone](gone.md) and [gone](gone.md)\n\n[^n]: A note\n    with [lost](lost.md).\n\nx[^n]\n"
    _, problems = render_body(body, engine)
    # python gives the line where the paragraph starts, rust the link's own line
    expected = {"python": [10, 10, 13], "rust": [11, 11, 14]}[engine]
    assert sorted(p.line for p in problems) == expected
    assert sorted(p.message.split(":")[0] for p in problems) == ['link to "gone.md"', 'link to "gone.md"', 'link to "lost.md"']


def test_web_fragment_and_site_links_are_left_alone(engine: str) -> None:
    body = (
        "[a](https://example.com/b.md) [b](http://example.com/c.md) [c](HTTPS://example.com/d.md) [d](/news/e.md)\n"
        "[e](#part) [f](&#35;g.md) [g](mailto:x@example.com) ![h](https://example.com/i.png) [i](&#104;ttps://x/j.md) [j](b.md)\n"
    )
    rendered, problems = render_body(body, engine, urls=B_URLS)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == [
        "https://example.com/b.md", "http://example.com/c.md", "HTTPS://example.com/d.md", "/news/e.md",
        "#part", "#g.md", "mailto:x@example.com", "https://x/j.md", "/news/b/",
    ]  # fmt: skip
    assert soup.find("img")["src"] == "https://example.com/i.png"
    assert sorted(p.message.split('"')[1] for p in problems) == ["#g.md", "#part"]  # left alone, but the body has no such ids
    assert rendered.links == ("content/news/b.md",)


def test_links_outside_content_are_reported_but_not_listed(engine: str) -> None:
    rendered, problems = render_body("[x](../../static/x.css)\n", engine)
    assert rendered.links == ()
    assert [str(p) for p in problems] == [
        'content/news/a.md:8: error: link to "../../static/x.css": expected a file in content/, found static/x.css, outside it; link /static/... by its URL'
    ]


def test_a_link_to_a_held_back_article_or_a_folder_says_so(engine: str, tmp_path: Path) -> None:
    (tmp_path / "content/news/bundle").mkdir(parents=True)
    urls = {"content/news/draft.md": HELD_BACK}
    _, problems = render_body("[d](draft.md) and [f](bundle/)\n", engine, root=tmp_path, urls=urls)
    assert [str(p) for p in problems] == [
        'content/news/a.md:8: error: link to "draft.md": expected a published article, '
        "found content/news/draft.md, a draft or an article dated in the future, which this build leaves out",
        'content/news/a.md:8: error: link to "bundle/": expected a file at content/news/bundle, found a folder; link a file in it (its index.md)',
    ]


def test_hugo_shortcodes_and_liquid_tags_in_prose_are_warnings_at_their_lines(engine: str) -> None:
    body = 'Intro {{< figure src="a.jpg" >}} here.\n\n{% include signup.html %}\n\nIn code: `{{< kept >}}`.\n\n```\n{% raw %}\n```\n'
    rendered, problems = render_body(body, engine)
    assert [(p.line, p.severity.value, p.message) for p in problems] == [
        (8, "warning", 'expected Markdown, found {{< figure src="a.jpg" >}}: a Hugo shortcode or Liquid tag, shown as written'),
        (10, "warning", "expected Markdown, found {% include signup.html %}: a Hugo shortcode or Liquid tag, shown as written"),
    ]
    assert "{{&lt; figure" in rendered.html or "{{< figure" in BeautifulSoup(rendered.html, "html.parser").get_text()


def test_links_get_the_sites_base_path(engine: str) -> None:
    config = SiteConfig(root=Path("."), markdown_engine=engine, base_url="https://example.org/sub/")
    rendered, _ = BodyRenderer(config, B_URLS).render(article(), '[b](b.md "B & co")\n')
    assert BeautifulSoup(rendered.html, "html.parser").find("a").attrs == {"href": "/sub/news/b/", "title": "B & co"}
    # A site path is under the base path, as site.yaml's are; one written with it, and any other address, is left as it is.
    body = "[about](/about/) ![chart](/news/chart.png) [written whole](/sub/about/) [the base](/sub) [cdn](//cdn.example.com/x.js) [web](https://x.test/)\n"
    rendered, problems = BodyRenderer(config, B_URLS).render(article(), body)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == ["/sub/about/", "/sub/about/", "/sub", "//cdn.example.com/x.js", "https://x.test/"]
    assert soup.find("img")["src"] == "/sub/news/chart.png" and problems == []


# Summary and reading time.


def test_first_paragraph_summary_is_plain_text() -> None:
    assert first_paragraph("<p>Hello <em>world</em> &amp; more</p><p>Next</p>") == "Hello world & more"
    long = "<p>" + "word " * 200 + "</p>"
    assert first_paragraph(long).endswith("…") and len(first_paragraph(long)) <= 301
    # A body that opens with a picture is summed up by its first words, not by nothing.
    assert first_paragraph('<p><img src="wafer.png" alt="A wafer"></p>\n<p>The <a href="/x/">wafer</a> is big.</p>') == "The wafer is big."
    assert first_paragraph('<p><img src="a.png" alt="only a picture"></p>') == ""


def test_summary_and_minutes(engine: str) -> None:
    rendered, _ = render_body("## Title\n\nFirst *para*graph.\n\n" + "word " * 700 + "\n", engine)
    assert rendered.summary == "First paragraph." and rendered.minutes == 3


# The engine setting.


RUST_RENDER_SCRIPT = """
import sys
from pathlib import Path
from digest.config import SiteConfig
from digest.markdown import BodyRenderer
from test_markdown import article
renderer = BodyRenderer(SiteConfig(root=Path("."), markdown_engine="rust"), {})
body, problems = renderer.render(article(), "## A heading\\n\\nText with [a link](https://example.org/) and `code`.\\n")
assert 'id="a-heading"' in body.html and not problems, body.html
print(sorted(name for name in ("markdown_it", "mdit_py_plugins") if name in sys.modules))
"""


def test_the_rust_engine_renders_without_importing_the_python_engine() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent), str(Path(__file__).parent)])}
    done = subprocess.run([sys.executable, "-c", RUST_RENDER_SCRIPT], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def write_site_yaml(root: Path, text: str) -> SiteConfig:
    (root / "site.yaml").write_text(text, encoding="utf-8")
    config, problems = load_config(root)
    assert problems == []
    return config


def test_engine_setting_defaults_to_auto_and_auto_takes_rust(tmp_path: Path) -> None:
    assert write_site_yaml(tmp_path, "title: x\n").markdown_engine == "auto"
    assert pick_engine("auto") == "rust" and pick_engine("python") == "python"
    assert write_site_yaml(tmp_path, "markdown: {engine: python}\n").markdown_engine == "python"
    assert "| `markdown` | `{engine: auto}` |" in options_table()


@pytest.mark.parametrize(
    ("text", "severity", "message"),
    [
        ("markdown: {engine: perl}\n", "error", 'markdown.engine: expected one of auto, python, rust, found the text "perl"'),
        ("markdown: rust\n", "error", 'markdown: expected a mapping such as {engine: rust}, found the text "rust"'),
        ("markdown: {engin: rust}\n", "warning", 'markdown: unknown key "engin" (did you mean "engine"?); it is ignored'),
        ("markdown:\n  other: 1\n  engine: perl\n", "error", 'markdown.engine: expected one of auto, python, rust, found the text "perl"'),  # at its line
        ("markdown:\n  engin: rust\n", "warning", 'markdown: unknown key "engin" (did you mean "engine"?); it is ignored'),
    ],
)
def test_bad_engine_setting_is_reported(tmp_path: Path, text: str, severity: str, message: str) -> None:
    (tmp_path / "site.yaml").write_text("title: x\n" + text, encoding="utf-8")
    config, problems = load_config(tmp_path)
    line = 2 + text.count("\n") - 1  # the key's own line: the last written
    assert [(p.line, p.severity.value, p.message) for p in problems if p.severity.value == severity] == [(line, severity, message)]
    assert config.markdown_engine == "auto"


def test_allowed_html_cannot_borrow_the_pages_own_classes(engine: str) -> None:
    body = '<div class="reporting caution badge official">Forged reporting notes</div>\n\n## Made here[^1]\n\n```python\ndef f(): pass\n```\n\n[^1]: A note.\n'
    rendered, _ = render_body(body, engine, allow_html=True)
    soup = BeautifulSoup(rendered.html, "html.parser")
    forged = soup.find("div")
    assert forged is not None and forged.get("class") is None and forged.get_text() == "Forged reporting notes"
    # The renderer's own classes survive the sanitizer: permalinks, footnotes, highlighted code.
    assert soup.select("h2 a.header-anchor") and soup.select("sup.footnote-ref") and soup.select("pre.highlight span.k")


def test_links_to_files_with_odd_names_are_percent_encoded(engine: str, tmp_path: Path) -> None:
    (tmp_path / "content" / "news").mkdir(parents=True)
    (tmp_path / "content" / "news" / "x%23y.png").write_bytes(b"png")  # a "%23" in the name, not a "#"
    (tmp_path / "content" / "news" / "my chart.png").write_bytes(b"png")
    rendered, problems = render_body("![a](x%2523y.png) ![b](<my chart.png>)\n", engine, root=tmp_path)
    assert problems == []
    sources = [img["src"] for img in BeautifulSoup(rendered.html, "html.parser").find_all("img")]
    assert sources == ["/news/x%2523y.png", "/news/my%20chart.png"]  # what a server maps back to the files' names


def test_allowed_html_keeps_only_the_ids_the_renderer_gives(engine: str) -> None:
    body = '<div id="main"><p id="reporting-heading">forged</p></div>\n\n## Real heading\n\nA note[^1].\n\n[^1]: The note.\n'
    soup = render(body, engine, allow_html=True)
    ids = sorted(str(tag["id"]) for tag in soup.find_all(id=True))
    assert ids == ["fn1", "fnref1", "real-heading"], "an author's HTML takes no id the page's own links lead to"
    assert soup.find("p").get_text() == "forged"


def test_the_python_engine_refuses_what_it_would_cut_short() -> None:
    ladder = "".join(f"{'  ' * level}- item {level}\n" for level in range(60))
    rendered, problems = render_body("Intro.\n\n" + ladder + "\n## After the list\n", "python")
    assert rendered.html == ""
    assert [(p.line, p.message) for p in problems] == [
        (8 + 2 + 48, "expected lists nested at most 48 levels deep, or quotes 98 (the python engine's limit), found more; write it flatter")
    ]
    rendered, problems = render_body("Intro.\n\n" + ladder[: ladder.index("- item 40")] + "\n## After the list\n", "python")
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert problems == [] and len(soup.find_all("li")) == 40 and soup.find("h2").get_text().startswith("After the list")
