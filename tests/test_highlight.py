"""Fenced code: digest.highlight's faster lexing gives exactly Pygments' tokens and markup."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from digest.highlight import _fast_states, _fast_tokens, _first_chars, highlight_code, sre_parse

SNIPPETS = [
    "",
    "\n",
    "x = 1\n",
    "evaluation_0 = call(0, 'coding')\ngrid_1 = call(1, 'chip')\n",
    "RB\"raw\" Rf\"{x!r:>{width}}\" rb'''b''' u\"u\" F'{a}' T\"t{b}\"\n",
    'def f(a: int = 0x1F, *args, **kw) -> "str":\n    """Doc."""\n    return f"{a=}" % (1,)\n',
    "class A(B, metaclass=M):\n\tmatch x:\n\t\tcase [1, *rest]: pass\n",
    "@decorator\nasync def g():\n    await h() ; lambda: ...\n",
    "'''unterminated\nstill going",
    "from . import (a as b,\n    c)\nimport os.path as p\n",
    "naïve = 'ſ' + \u212a + \u0131 # non-ASCII names and folds\r\n",
    "x = 1_000.5e-3j if y else None  \\\n  + z[::2]\n",
    "\x00\x1c\x7f ` $ ? !\n",
    "#!/usr/bin/env python\n# comment\nprint(*map(str, range(3)), sep='\\n')\n",
]
LANGUAGES = [
    "python",
    "bash",
    "rust",
    "perl",
    "toml",
    "markdown",
    "javascript",
    "go",
    "java",
    "css",
    "sql",
    "kotlin",
    "scala",
    "haskell",
    "powershell",
    "ini",
    "xml",
]


def pygments_markup(code: str, lang: str) -> str:
    spans = highlight(code, get_lexer_by_name(lang), HtmlFormatter(nowrap=True))
    return f'<pre class="highlight"><code class="language-{lang}">{spans}</code></pre>\n'


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("code", SNIPPETS)
def test_highlighted_markup_is_pygments_own(code: str, lang: str) -> None:
    assert highlight_code(code, lang, "") == pygments_markup(code, lang)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abfrtuBFRTU_09 \t\n\\'\"#{}()[]:.,=+-*/%@!<>$`;éſ\u212a\u3000")), max_size=80), st.sampled_from(LANGUAGES))
def test_tokens_are_pygments_own(text: str, lang: str) -> None:
    lexer = get_lexer_by_name(lang)
    states = _fast_states(lexer)
    assert states is not None
    assert list(_fast_tokens(lexer, states, text)) == list(lexer.get_tokens_unprocessed(text))


def test_lexers_with_their_own_tokenizer_are_left_to_pygments() -> None:
    assert _fast_states(get_lexer_by_name("python")) is not None
    assert _fast_states(get_lexer_by_name("json")) is None  # not a RegexLexer
    assert _fast_states(get_lexer_by_name("c")) is None  # a RegexLexer with its own get_tokens_unprocessed
    assert _fast_states(get_lexer_by_name("console")) is None
    for code, lang in [('{"a": [1, 2.5]}\n', "json"), ("int main(void) { return 0; }\n", "c"), ("$ ls -l\ntotal 0\n", "console")]:
        assert highlight_code(code, lang, "") == pygments_markup(code, lang)


PATTERNS = [
    r"(?i)(r[ft]|[ft]r)(')",
    r"(?i)k",
    r"(?i)[a-c\u212a]x",
    r"[^\S\n]+",
    r"(?<!\.)(abs|all|any)\b",
    r"(^[ \t]*)(match|case)\b",
    r"x*y",
    r"(?:ab)?c",
    r"(?=a)\w+",
    r"[\W\d]",
    r"(?a:\s)",
    r"\s",
    r"(?s:.)",
    r"[^a]",
    r"a{0}b",
    r"(?>a|bc)d",
    r"(a)\1",
    r"(?:|x)",
    r"\d(?:_?\d)*\.",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATTERNS), st.text(alphabet=st.sampled_from(list("abcdkxyKRFT' \t\n.\x1c1_\u212aé")), min_size=1, max_size=6))
def test_first_characters_cover_every_match(pattern: str, text: str) -> None:
    compiled = re.compile(pattern, re.MULTILINE)
    first, empty = _first_chars(sre_parse.parse(pattern, compiled.flags), compiled.flags)
    found = compiled.match(text)
    if found is None or not text[0].isascii():
        return
    assert first is None or empty or found.end() == 0 or text[0] in first
