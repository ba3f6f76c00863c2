"""Fenced code: Pygments markup for known languages, nothing for unknown ones, and the stylesheet that colours it."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from digest.highlight import highlight_block, highlight_code, pygments_css

REPO = Path(__file__).resolve().parent.parent


def parse(markup: str) -> BeautifulSoup:
    return BeautifulSoup(markup, "html.parser")


def test_known_language_gets_pygments_spans_inside_our_wrapper() -> None:
    code = 'def f(x):\n    return "<b>" if x else None  # done\n'
    markup = highlight_code(code, "python", "")
    assert markup.startswith('<pre class="highlight"><code class="language-python">') and markup.endswith("</code></pre>\n")
    block = parse(markup).select_one("pre.highlight > code.language-python")
    assert block is not None and block.get_text() == code
    assert [span.get_text() for span in block.select("span.k")] == ["def", "return", "if", "else"]
    assert block.select_one("span.nf").get_text() == "f"
    assert block.select_one("span.c1").get_text() == "# done"
    assert parse(markup).find("b") is None, "the code's own markup is escaped"


@pytest.mark.parametrize(("lang", "code", "css_class"), [("bash", "echo $HOME\n", "nv"), ("json", '{"a": 1}\n', "nt"), ("Rust", "fn main() {}\n", "k")])
def test_other_languages_and_aliases_are_highlighted(lang: str, code: str, css_class: str) -> None:
    block = parse(highlight_code(code, lang, "")).select_one(f"code.language-{lang}")
    assert block is not None and block.get_text() == code and block.select(f"span.{css_class}")


@pytest.mark.parametrize("lang", ["", "nosuchlang", "<b>"])
def test_unknown_or_missing_language_is_left_to_markdown_it(lang: str) -> None:
    assert highlight_code("<b>x</b>\n", lang, "") == ""


def test_a_repeated_block_is_highlighted_once() -> None:
    code = "x = 1  # test_a_repeated_block_is_highlighted_once\n"
    first = highlight_code(code, "python", "")
    hits = highlight_block.cache_info().hits
    assert highlight_code(code, "python", "{.attrs}") == first
    assert highlight_block.cache_info().hits == hits + 1


def test_the_stylesheet_covers_the_classes_pygments_writes() -> None:
    css = pygments_css()
    assert ".highlight .k {" in css and ".highlight .nf {" in css and "@media (prefers-color-scheme: dark)" in css
    # static/css/pygments.css is this function's output (python -m digest.markdown > static/css/pygments.css)
    assert (REPO / "static" / "css" / "pygments.css").read_text(encoding="utf-8") == css
