"""The markdown stage: CommonMark plus extensions, escaping and sanitizing, on each engine.

Every behaviour test runs on both engines (the ``engine`` fixture); the tests
at the end check that the two give the same HTML, links and problems.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.config import SiteConfig, load_config, options_table
from digest.content import Article, Source
from digest.errors import Problem
from digest.markdown import BODY_FIELDS, BodyRenderer, RenderedBody, anchor_slug, body_inputs, escape_html, first_paragraph, pick_engine, unique_slug


def article(body: str, path: str = "content/news/a.md") -> Article:
    return Article(
        path=path, slug="a", topic="news", url="/news/a/", title="A", date=datetime(2026, 1, 1, tzinfo=UTC), updated=None,
        tags=("x",), sources=(), confidence=50, confidence_label="Medium", review="unreviewed", model="", summary="", why_it_matters=(),
        story="", author="", lang="en", draft=False, body=body, body_line=8,
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
    return renderer.render(article(body))


def render(body: str, engine: str, allow_html: bool = False) -> BeautifulSoup:
    rendered, problems = render_body(body, engine, allow_html)
    assert problems == []
    return BeautifulSoup(rendered.html, "html.parser")


def test_raw_html_is_escaped_by_default(engine: str) -> None:
    soup = render('<script>alert(1)</script>\n\n<b onclick="x()">bold</b>', engine)
    assert soup.find("script") is None and soup.find("b") is None
    assert "<script>alert(1)</script>" in soup.get_text()


def test_allowed_html_is_sanitized(engine: str) -> None:
    soup = render(
        '<b onclick="steal()">bold</b> <a href="javascript:alert(1)">x</a>\n\n<script>alert(1)</script>\n\n<iframe src="https://x"></iframe>',
        engine,
        allow_html=True,
    )
    assert soup.find("b").get_text() == "bold"
    assert "onclick" not in soup.find("b").attrs
    assert soup.find("script") is None and soup.find("iframe") is None
    assert not (soup.find("a").get("href") or "").startswith("javascript:")


def test_javascript_links_never_become_links(engine: str) -> None:
    soup = render("[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](vbscript:x) <javascript:alert(1)>", engine)
    assert soup.find("a") is None


def test_heading_anchors_are_unique(engine: str) -> None:
    soup = render("## Results\n\ntext\n\n## Results\n", engine)
    assert [h["id"] for h in soup.find_all("h2")] == ["results", "results-1"]
    assert soup.select_one("h2 a.header-anchor")["href"] == "#results"


def test_heading_anchor_markup_for_h2_to_h4_only(engine: str) -> None:
    rendered, _ = render_body("# Top\n\n## Results & `more`[^n]\n\n#### Été\n\n##### Small\n\n[^n]: Note.\n", engine)
    assert "<h1>Top</h1>" in rendered.html and "<h5>Small</h5>" in rendered.html
    assert '<h2 id="results--more">Results &amp; <code>more</code><sup class="footnote-ref">' in rendered.html
    assert '</sup> <a class="header-anchor" href="#results--more">#</a></h2>' in rendered.html
    assert '<h4 id="été">Été <a class="header-anchor" href="#été">#</a></h4>' in rendered.html


def test_strikethrough_footnotes_and_tables(engine: str) -> None:
    soup = render("~~gone~~ kept[^n]\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^n]: The note.\n", engine)
    assert soup.find("s").get_text() == "gone"
    assert soup.select_one("section.footnotes li").get_text(strip=True).startswith("The note.")
    assert [td.get_text() for td in soup.select("td")] == ["1", "2"]


def test_footnotes_are_numbered_by_first_reference(engine: str) -> None:
    soup = render("a[^b] c[^a] d[^b]\n\n[^a]: Note A.\n[^b]: Note B.\n", engine)
    assert [a["id"] for a in soup.select("sup.footnote-ref a")] == ["fnref1", "fnref2", "fnref1:1"]
    assert [a.get_text() for a in soup.select("sup.footnote-ref a")] == ["[1]", "[2]", "[1:1]"]
    assert [li["id"] for li in soup.select("li.footnote-item")] == ["fn1", "fn2"]
    assert soup.select_one("#fn1").get_text().startswith("Note B.")
    assert [a["href"] for a in soup.select("#fn1 a.footnote-backref")] == ["#fnref1", "#fnref1:1"]


def test_code_is_highlighted_with_the_same_markup(engine: str) -> None:
    rendered, _ = render_body('```python\nx = "<a>"\n```\n', engine)
    assert rendered.html.startswith('<pre class="highlight"><code class="language-python"><span class="n">x</span>')
    assert rendered.html.endswith("</code></pre>\n\n")
    assert "&lt;a&gt;" in rendered.html


def test_unknown_code_language_is_escaped_not_dropped(engine: str) -> None:
    soup = render("```nosuchlang\n<b>x</b>\n```\n", engine)
    assert soup.find("b") is None
    assert soup.find("code").get_text() == "<b>x</b>\n"
    assert soup.find("code")["class"] == ["language-nosuchlang"]


def test_void_tags_are_html_not_xhtml(engine: str) -> None:
    rendered, _ = render_body("line  \nbreak ![i](https://x.example/i.png)\n\n***\n", engine)
    assert "<br>" in rendered.html and "<hr>" in rendered.html and '<img src="https://x.example/i.png" alt="i">' in rendered.html
    assert "/>" not in rendered.html


def test_article_and_file_links_are_rewritten_and_listed(engine: str, tmp_path: Path) -> None:
    (tmp_path / "content" / "img").mkdir(parents=True)
    (tmp_path / "content" / "img" / "a.png").write_bytes(b"png")
    body = (
        "See [b](b.md#part) and [b again](./b.md).\n\n"  # line 8
        "![chart](../img/a.png) [gone](gone.md)\n\n"  # line 10
        "| [x](https://example.com/x.md) |\n|---|\n| [missing](../img/none.png) |\n"  # lines 12-14
    )
    rendered, problems = render_body(body, engine, root=tmp_path, urls={"content/news/b.md": "/news/b/"})
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == ["/news/b/#part", "/news/b/", "gone.md", "https://example.com/x.md", "../img/none.png"]
    assert soup.find("img")["src"] == "/img/a.png"
    assert rendered.links == ("content/img/a.png", "content/img/none.png", "content/news/b.md", "content/news/gone.md")
    assert sorted((p.line, p.message) for p in problems) == [
        (10, 'link to "gone.md": expected an article file, found no published article at content/news/gone.md'),
        (14, 'link to "../img/none.png": expected a file at content/img/none.png, found none'),
    ]


def test_web_fragment_and_site_links_are_left_alone(engine: str) -> None:
    body = (
        "[a](https://example.com/b.md) [b](http://example.com/c.md) [c](HTTPS://example.com/d.md) [d](/news/e.md)\n"
        "[e](#part) [f](&#35;g.md) [g](mailto:x@example.com) ![h](https://example.com/i.png) [i](&#104;ttps://x/j.md) [j](b.md)\n"
    )
    rendered, problems = render_body(body, engine, urls={"content/news/b.md": "/news/b/"})
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == [
        "https://example.com/b.md", "http://example.com/c.md", "HTTPS://example.com/d.md", "/news/e.md",
        "#part", "#g.md", "mailto:x@example.com", "https://x/j.md", "/news/b/",
    ]  # fmt: skip
    assert soup.find("img")["src"] == "https://example.com/i.png"
    assert problems == [] and rendered.links == ("content/news/b.md",)


def test_links_outside_content_are_reported_but_not_listed(engine: str) -> None:
    rendered, problems = render_body("[x](../../static/x.css)\n", engine)
    assert rendered.links == ()
    assert [p.line for p in problems] == [8]


def test_raw_html_is_never_rewritten_when_allowed(engine: str) -> None:
    rendered, problems = render_body('<div><h2>Raw</h2><a href="nope.md">raw</a></div>\n\n## Made\n', engine, allow_html=True)
    assert problems == [] and rendered.links == ()
    assert "<h2>Raw</h2>" in rendered.html and '<a href="nope.md" rel="noopener noreferrer">raw</a>' in rendered.html
    assert '<h2 id="made">' in rendered.html


def test_first_paragraph_summary_is_plain_text() -> None:
    assert first_paragraph("<p>Hello <em>world</em> &amp; more</p><p>Next</p>") == "Hello world & more"
    long = "<p>" + "word " * 200 + "</p>"
    assert first_paragraph(long).endswith("…") and len(first_paragraph(long)) <= 301


# The engines agree.

TRICKY = [
    "## Results & more", "## `code` *em* **strong**", "### Résumé — été", "##", "## Title[^1]", "## Title^[inline]",
    "## ![img](x.png) text", "## a &amp; &copy; &#35; \\* \\<b>", "Setext *two*\nline two\n---", "###### h6 ~~del~~",
    "para [ok](../img/a.png) [missing](nope.md) ![i](../img/a.png \"t\")", "[ref][r]\n\n[r]: nope.md \"title\"",
    "<http://example.org/a?b=c&d> <mailto:a@b.c>", "[js](javascript:alert(1)) ![d](data:image/png;base64,xx)",
    "<script>alert(1)</script>", '<b onclick="x()">bold</b>', "<div>\n<h2>raw</h2>\n</div>", "<!-- comment -->",
    "```python\nx = \"<a>\" & 'b'\n```", "```nosuchlang\n<b>x</b>\n```", "```c++ {x}\nint a;\n```", "```&lt;b&gt;\nq\n```",
    "    indented code", "| a | b |\n|:--|--:|\n| [x](nope.md) | `c\\|d` |", "- item [l](b.md)\n  lazy\n- item 2\n\n  para",
    "> quote [q](nope.md)\n> > deeper", "text[^1] and[^n] again[^1]\n\n[^1]: First [f](nope.md).\n[^n]: Second\n\n    with para",
    "inline^[foot *note*] end", "[^unused]: never used", "line  \nhard\\\nbreak", "Ünïcödé ✓ 日本語 🎉", "[x](<b c.md>) [y](%E2%9C%93.md)",
    "![a [b](b.md)](../img/a.png)", "&lt;h2&gt;not&lt;/h2&gt;", "## heading </h2> inside", "nul \x00 and\r\ncrlf",
]  # fmt: skip
# Known differences, so the random text leaves these characters out:
# markdown-it-py trims any Unicode space (str.strip) from the ends of paragraphs,
# headings and cells, markdown-it-pyrs only ASCII ones, as CommonMark says; and
# markdown-it-py follows CommonMark 0.31, where a Unicode symbol (¢, €, an emoji)
# counts as punctuation next to "_" or "*", markdown-it-pyrs 0.30, where it does not.
UNICODE_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in " \t\n\r")
SETTINGS = settings(
    max_examples=int(os.environ.get("DIGEST_FUZZ", "") or 150),
    derandomize=not os.environ.get("DIGEST_FUZZ"),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def render_both(body: str, allow_html: bool, root: Path) -> tuple[tuple[RenderedBody, list[Problem]], tuple[RenderedBody, list[Problem]]]:
    urls = {"content/news/b.md": "/news/b/"}
    base = SiteConfig(root=root, allow_html=allow_html, base_url="https://example.org/sub/")
    python, rust = (BodyRenderer(replace(base, markdown_engine=name), urls).render(article(body)) for name in ("python", "rust"))
    return python, rust


def same_result(python: tuple[RenderedBody, list[Problem]], rust: tuple[RenderedBody, list[Problem]], body: str) -> None:
    assert rust[0] == python[0]
    if "^[" in body:  # python reports links in inline footnotes at the body's first line; rust at theirs
        assert sorted(p.message for p in rust[1]) == sorted(p.message for p in python[1])
    else:
        assert sorted(rust[1]) == sorted(python[1])


@pytest.mark.parametrize("allow_html", [False, True])
@pytest.mark.parametrize("snippet", TRICKY)
def test_engines_give_the_same_result(snippet: str, allow_html: bool) -> None:
    body = snippet + "\n"
    same_result(*render_both(body, allow_html, Path(".")), body)


@SETTINGS
@given(
    # unique: a footnote defined twice may have its broken link located at the other definition
    parts=st.lists(
        st.one_of(
            st.sampled_from(TRICKY), st.text(st.characters(exclude_characters=UNICODE_SPACES, exclude_categories=["Cs", "Sc", "Sk", "Sm", "So"]), max_size=8)
        ),
        max_size=8,
        unique=True,
    ),
    allow_html=st.booleans(),
)
def test_engines_agree_on_any_mix(parts: list[str], allow_html: bool) -> None:
    body = "\n\n".join(parts) + "\n"
    same_result(*render_both(body, allow_html, Path(".")), body)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(alphabet=st.sampled_from(list("aZ 09-_&<>\"'é中ß.#\u00a0\u4e00\u9fff")) | st.characters(), max_size=30), max_size=6))
def test_the_rust_finishers_helpers_equal_the_python_engines(texts: list[str]) -> None:
    # The rust engine repeats these three so that it need not import markdown-it-py.
    from markdown_it.common.utils import escapeHtml
    from mdit_py_plugins.anchors.index import slugify
    from mdit_py_plugins.anchors.index import unique_slug as mdit_unique_slug

    ours: set[str] = set()
    theirs: set[str] = set()
    for text in texts:
        assert escape_html(text) == escapeHtml(text)
        assert anchor_slug(text) == slugify(text)
        assert unique_slug(anchor_slug(text), ours) == mdit_unique_slug(slugify(text), theirs)


RUST_RENDER_SCRIPT = """
import sys
from dataclasses import replace
from pathlib import Path
from digest.config import SiteConfig
from digest.markdown import BodyRenderer
from test_markdown import article
renderer = BodyRenderer(SiteConfig(root=Path("."), markdown_engine="rust"), {})
body, problems = renderer.render(article("## A heading\\n\\nText with [a link](https://example.org/) and `code`.\\n"))
assert 'id="a-heading"' in body.html and not problems, body.html
print(sorted(name for name in ("markdown_it", "mdit_py_plugins") if name in sys.modules))
"""


def test_the_rust_engine_renders_without_importing_the_python_engine() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent), str(Path(__file__).parent)])}
    done = subprocess.run([sys.executable, "-c", RUST_RENDER_SCRIPT], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# The setting.


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
    ],
)
def test_bad_engine_setting_is_reported(tmp_path: Path, text: str, severity: str, message: str) -> None:
    (tmp_path / "site.yaml").write_text("title: x\n" + text, encoding="utf-8")
    config, problems = load_config(tmp_path)
    assert [(p.line, p.severity.value, p.message) for p in problems] == [(2, severity, message)]
    assert config.markdown_engine == "auto"


def test_a_body_depends_only_on_the_fields_the_cache_keys_it_by(engine: str, tmp_path: Path) -> None:
    # The build cache renders a body again only when body_inputs changes (markdown.BODY_FIELDS),
    # so every other field of an article must leave the rendered body and its problems alone.
    (tmp_path / "content" / "news").mkdir(parents=True)
    (tmp_path / "content" / "news" / "chart.png").write_bytes(b"png")
    body = "Intro with [a story](other.md), [a chart](chart.png) and [nothing](gone.md).\n\n```python\nx = 1\n```\n\nMore text.\n"
    renderer = BodyRenderer(SiteConfig(root=tmp_path, markdown_engine=engine), {"content/news/other.md": "/news/other/"})
    base = article(body)
    others = {
        "slug": "b", "topic": "other", "url": "/other/b/", "title": "Another title", "date": datetime(2027, 5, 6, tzinfo=UTC),
        "updated": datetime(2027, 5, 7, tzinfo=UTC), "tags": ("y", "z"), "sources": (Source("https://a.test/x", "A", True, "a.test"),),
        "confidence": 90, "confidence_label": "High", "review": "human-reviewed", "model": "m", "why_it_matters": ("w",), "story": "s",
        "author": "Someone", "lang": "ar", "draft": True, "image": "x.png", "expires": datetime(2028, 1, 1, tzinfo=UTC), "expired": True,
    }  # fmt: skip
    assert set(others) | set(BODY_FIELDS) == {f.name for f in fields(Article)}, "a new Article field: add it to BODY_FIELDS if render() reads it"
    changed = replace(base, **others)
    assert renderer.render(changed) == renderer.render(base)
    assert body_inputs(changed) == body_inputs(base)
    for name, value in (("path", "content/news/b.md"), ("body", body + "x"), ("body_line", 9), ("summary", "S")):
        assert body_inputs(replace(base, **{name: value})) != body_inputs(base)
