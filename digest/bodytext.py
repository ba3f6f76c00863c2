"""Stage 3's first look at a body, before it is rendered: what Markdown does not say.

In: an article body's text. Out: the first line that would stall or crash a Markdown engine (:func:`beyond_limits`), the text
without its HTML comments (:func:`without_comments`), and the Hugo and Liquid tags in its prose (:func:`template_tags`); all
linear in the text. markdown-it-py's own parse (CommonMark, raw HTML on) tells prose, code and HTML apart.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported with the first body that needs it
    from markdown_it import MarkdownIt

MAX_NESTING = 100  # quotes and list items opened on one line; no story needs more, and 100,000 crash markdown-it-pyrs
_LEVEL = r"(?>[ \t]{0,3}(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]?)"  # atomic, so matching stays linear in the line
_TOO_DEEP = re.compile(_LEVEL + "{" + str(MAX_NESTING + 1) + "}")
MAX_HEADINGS = 1_000  # both engines number duplicate heading anchors in quadratic time
MAX_REFERENCES = 2_000  # markdown-it-pyrs resolves link reference definitions in quadratic time
MAX_BRACKETS = 10_000  # markdown-it-py tries each "[" as a link, up to PYTHON_NESTING deep: a megabyte of them took a minute
_HEADING = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)")
_REFERENCE = re.compile(r" {0,3}\[[^\]\n]{1,999}\]:")


def beyond_limits(text: str) -> tuple[int, str] | None:
    """(0-based line, message) of the first thing in *text* that would make rendering crash or take minutes, or None; linear in the text."""
    headings = references = brackets = 0
    for number, line in enumerate(text.split("\n")):
        headings += _HEADING.match(line) is not None
        references += _REFERENCE.match(line) is not None
        brackets += line.count("[")
        if brackets > MAX_BRACKETS:
            return number, f'expected at most {MAX_BRACKETS} "[" in one article (each may open a link), found more; split it'
        if headings > MAX_HEADINGS:
            return number, f"expected at most {MAX_HEADINGS} headings in one article, found more; split it"
        if references > MAX_REFERENCES:
            return number, f"expected at most {MAX_REFERENCES} link reference definitions in one article, found more; split it"
        if len(line) > MAX_NESTING and _TOO_DEEP.match(line):  # a shorter line cannot open that many
            return number, f"expected quotes and lists nested at most {MAX_NESTING} levels deep on one line, found more; write it flatter"
    return None


@cache
def commonmark() -> MarkdownIt:
    """markdown-it-py as CommonMark writes it (raw HTML on), to tell prose, code and HTML apart in a body; made once."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def without_comments(text: str) -> str:
    """*text* less its HTML comments (editors' notes, ``<!--more-->``), which with raw HTML off would show as text; those in code
    stay. markdown-it-py's own parse (with HTML on) finds them; each line stays where it was, for the lines errors name."""
    lines = text.split("\n")
    for token in commonmark().parse(text):
        inline = token.type == "inline" and any(c.type == "html_inline" and c.content.startswith("<!--") for c in token.children or ())
        block = token.type == "html_block" and "<!--" in token.content  # a comment inside <div>...</div> too: escaped, it would show
        if token.map and (inline or block):
            start, end = token.map
            lines[start:end] = _drop_comments("\n".join(lines[start:end]), unclosed=block).split("\n")
    return "\n".join(lines)


def _drop_comments(text: str, unclosed: bool) -> str:
    """*text* with each ``<!-- ... -->`` made its newlines alone, in one pass (a regex rescans an unclosed ``<!--`` to the
    end: quadratic); with *unclosed*, one never closed runs to the end, as it does in HTML."""
    kept, at = [], 0
    while (start := text.find("<!--", at)) != -1:
        end = text.find("-->", start + 4)
        if end == -1 and not unclosed:
            break
        end = len(text) if end == -1 else end + 3
        kept += [text[at:start], "\n" * text.count("\n", start, end)]
        at = end
    return "".join(kept) + text[at:]


# Hugo's {{< x >}} and {{% x %}}, Liquid's {% x %}: on one line and short, so that an unclosed one costs little to pass over
_TEMPLATE_TAG = re.compile(r"\{\{[<%][^\n]{0,200}?[>%]\}\}|\{%[^\n]{0,200}?%\}")


def template_tags(text: str) -> list[tuple[int, str]]:
    """(0-based line, tag) of each Hugo shortcode or Liquid tag in *text*'s prose, which no engine here runs; code is left out."""
    found = []
    for token in commonmark().parse(text):
        if token.type == "inline" and token.map:
            prose = "".join(child.content for child in token.children or () if child.type == "text")
            found += [(token.map[0], tag) for tag in _TEMPLATE_TAG.findall(prose)]
    return found
