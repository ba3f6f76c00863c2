"""Fenced code in article bodies, highlighted with Pygments (part of the markdown stage).

Imported when the first fenced block is highlighted, so that a build whose
changed bodies hold no code does not load Pygments.
"""

from __future__ import annotations

import html
import importlib
import io
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer, RegexLexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Whitespace, _TokenType
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=256)
def _lexer(lang: str) -> Lexer | None:
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


@lru_cache(maxsize=1024)
def highlight_code(code: str, lang: str, attrs: str) -> str:
    """Pygments markup for a fenced block, or '' to let markdown-it escape it.

    Cached: a lexer is looked up once per language, and a block repeated across
    articles (a shared snippet, a boilerplate command) is highlighted once.
    """
    lexer = _lexer(lang.lower()) if lang else None
    if lexer is None:
        return ""
    states = _fast_states(lexer)
    if states is None:
        spans = pygments_highlight(code, lexer, _FORMATTER)
    else:  # what pygments.highlight does, with the same tokens found faster
        out = io.StringIO()
        text = lexer._preprocess_lexer_input(code)  # type: ignore[attr-defined]  # stripnl, ensurenl, tabsize
        _FORMATTER.format(((token, value) for _, token, value in _fast_tokens(lexer, states, text)), out)
        spans = out.getvalue()
    return f'<pre class="highlight"><code class="language-{html.escape(lang)}">{spans}</code></pre>\n'


# Faster lexing, same tokens. A Pygments RegexLexer tries the rules of its
# current state one by one, one regex call each, until one matches at the
# current position: for Python ~30 calls per token, most of a build's
# highlighting time. Most of those rules cannot match because they cannot
# start with the character at that position. _FastState works out, once per
# rule, the ASCII characters its regex can start a match with (by reading the
# regex the way the re module parses it) and then tries, in their order, only
# the rules that can start with the next character: the first of them to
# match is the first rule that matches, so the tokens are the same. A rule
# that can match the empty string, or whose regex it cannot read, is tried
# wherever it stands; at a non-ASCII character every rule is tried. A lexer
# with its own tokenizer or filters is left to Pygments.

sre_parse: Any = importlib.import_module("re._parser")  # the re module's parser (Python 3.11+); no stubs
sre_constants: Any = importlib.import_module("re._constants")
_ASCII = [chr(code) for code in range(128)]
_ALL_ASCII = frozenset(_ASCII)
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: r"\d", sre_constants.CATEGORY_NOT_DIGIT: r"\D",
    sre_constants.CATEGORY_SPACE: r"\s", sre_constants.CATEGORY_NOT_SPACE: r"\S",
    sre_constants.CATEGORY_WORD: r"\w", sre_constants.CATEGORY_NOT_WORD: r"\W",
}  # fmt: skip
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT)
_Rule = tuple[Callable[[str, int], "re.Match[str] | None"], Any, Any]


def _first_chars(items: Any, flags: int) -> tuple[frozenset[str] | None, bool]:
    """The ASCII characters a parsed regex can start its match with (None: can't tell), and whether it can match empty."""
    chars: set[str] = set()
    for op, arg in items:
        found, empty = _first_chars_of(op, arg, flags)
        if found is None:
            return None, False
        chars |= found
        if not empty:
            return frozenset(chars), False
    return frozenset(chars), True


def _first_chars_of(op: Any, arg: Any, flags: int) -> tuple[frozenset[str] | None, bool]:
    folds = flags & (re.IGNORECASE | re.LOCALE)
    if op in _ZERO_WIDTH:
        return frozenset(), True
    if op is sre_constants.LITERAL:
        char = chr(arg)
        if not folds:
            return frozenset({char}) & _ALL_ASCII, False
        # Under IGNORECASE a non-ASCII letter can match an ASCII one (KELVIN SIGN, "k").
        return (frozenset({char.lower(), char.upper(), char}) & _ALL_ASCII, False) if char.isascii() and not flags & re.LOCALE else (None, False)
    if op is sre_constants.NOT_LITERAL:
        return (None, False) if folds else (_ALL_ASCII - {chr(arg)}, False)
    if op is sre_constants.ANY:
        return _ALL_ASCII, False
    if op is sre_constants.IN:
        return _class_chars(arg, flags), False
    if op is sre_constants.SUBPATTERN:
        _, add, remove, items = arg
        return _first_chars(items, (flags | add) & ~remove)
    if op is sre_constants.ATOMIC_GROUP:
        return _first_chars(arg, flags)
    if op is sre_constants.BRANCH:
        chars: set[str] = set()
        empty = False
        for branch in arg[1]:
            found, can_be_empty = _first_chars(branch, flags)
            if found is None:
                return None, False
            chars |= found
            empty = empty or can_be_empty
        return frozenset(chars), empty
    if op in _REPEATS:
        low, high, items = arg
        if high == 0:
            return frozenset(), True
        found, empty = _first_chars(items, flags)
        return found, empty or low == 0
    return None, False  # back-references, conditionals: anything


def _class_chars(items: Any, flags: int) -> frozenset[str] | None:
    """The ASCII characters in a parsed character class (None: can't tell)."""
    if flags & (re.IGNORECASE | re.LOCALE):
        # Case-blind: exact for a class of ASCII characters only, each standing for itself in either case.
        if flags & re.LOCALE or any(op is not sre_constants.LITERAL and op is not sre_constants.RANGE for op, _ in items):
            return None
        chars: set[str] = set()
        for op, arg in items:
            low, high = (arg, arg) if op is sre_constants.LITERAL else arg
            if high > 127:
                return None
            chars.update(variant for code in range(low, high + 1) for variant in (chr(code).lower(), chr(code).upper()))
        return frozenset(chars) & _ALL_ASCII
    negate = False
    chars = set()
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chars.add(chr(arg))
        elif op is sre_constants.RANGE:
            chars.update(char for char in _ASCII if arg[0] <= ord(char) <= arg[1])
        elif op is sre_constants.CATEGORY and arg in _CATEGORIES:
            category = re.compile(_CATEGORIES[arg], flags & re.ASCII)
            chars.update(char for char in _ASCII if category.match(char))
        else:
            return None
    return _ALL_ASCII - chars if negate else frozenset(chars) & _ALL_ASCII


class _FastState:
    """One state of a RegexLexer: its rules, and for each next character the rules that can match there."""

    def __init__(self, rules: list[_Rule]) -> None:
        self.rules = rules
        self.firsts: list[frozenset[str] | None] | None = None  # per rule, once needed; None: anything
        self.by_char: dict[str, list[_Rule]] = {}

    def candidates(self, char: str) -> list[_Rule]:
        """The rules, in order, that can match at a position holding *char* ('' at the end)."""
        found = self.by_char.get(char)
        if found is None:
            if self.firsts is None:
                self.firsts = [_rule_first_chars(rexmatch) for rexmatch, _, _ in self.rules]
            every = not char or not char.isascii()
            found = [rule for rule, first in zip(self.rules, self.firsts, strict=True) if every or first is None or char in first]
            self.by_char[char] = found
        return found


def _rule_first_chars(rexmatch: Any) -> frozenset[str] | None:
    """The ASCII characters a rule's match can start with, or None: it may match empty, or can't tell."""
    pattern = getattr(rexmatch, "__self__", None)
    if not isinstance(pattern, re.Pattern) or not isinstance(pattern.pattern, str):
        return None
    try:
        first, empty = _first_chars(sre_parse.parse(pattern.pattern, pattern.flags), pattern.flags)
    except (re.error, RecursionError):
        return None
    return None if empty else first


@lru_cache(maxsize=256)
def _fast_states(lexer: Lexer) -> dict[str, _FastState] | None:
    """*lexer*'s states ready for _fast_tokens, or None when its tokens are only Pygments' own to find."""
    cls = type(lexer)
    if not isinstance(lexer, RegexLexer) or lexer.filters:
        return None
    if cls.get_tokens_unprocessed is not RegexLexer.get_tokens_unprocessed or cls.get_tokens is not Lexer.get_tokens:
        return None
    return {name: _FastState(rules) for name, rules in lexer._tokens.items()}  # type: ignore[attr-defined]


def _fast_tokens(lexer: Lexer, states: dict[str, _FastState], text: str) -> Iterator[tuple[int, Any, str]]:
    """The same as ``RegexLexer.get_tokens_unprocessed(text)`` (pygments/lexer.py, 2.21), trying fewer rules."""
    pos = 0
    end = len(text)
    stack = ["root"]
    state = states["root"]
    while True:
        char = text[pos] if pos < end else ""
        for rexmatch, action, new_state in state.by_char.get(char) or state.candidates(char):
            found = rexmatch(text, pos)
            if found is None:
                continue
            if action is not None:
                if type(action) is _TokenType:
                    yield pos, action, found.group()
                else:
                    yield from action(lexer, found)
            pos = found.end()
            if new_state is not None:
                if isinstance(new_state, tuple):
                    for name in new_state:
                        if name == "#pop":
                            if len(stack) > 1:
                                stack.pop()
                        elif name == "#push":
                            stack.append(stack[-1])
                        else:
                            stack.append(name)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(stack):
                        del stack[1:]
                    else:
                        del stack[new_state:]
                elif new_state == "#push":
                    stack.append(stack[-1])
                else:
                    raise AssertionError(f"wrong state def: {new_state!r}")
                state = states[stack[-1]]
            break
        else:  # no rule matched
            if pos >= end:
                break
            if char == "\n":  # at the end of a line, back to "root"
                stack = ["root"]
                state = states["root"]
                yield pos, Whitespace, "\n"
            else:
                yield pos, Error, char
            pos += 1


def pygments_css() -> str:
    """The stylesheet for highlighted code, light and dark (static/css/pygments.css)."""
    light = HtmlFormatter(style="friendly").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    dark = HtmlFormatter(style="monokai").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    indented = "\n".join("  " + line for line in dark.splitlines())
    return f"/* Generated by: python -m digest.markdown > static/css/pygments.css */\n{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n"
