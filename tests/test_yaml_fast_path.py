"""load_mapping's fast path (libyaml composes at once) against its careful path.

The fast path is taken only when the text provably cannot reach a safety limit;
on any front matter it must give the same values, lines and problems as the
careful path (prescan, then check every node), which these tests force by
turning the fast path off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import yamlmap
from digest.content import split_front_matter

ROOT = Path(__file__).resolve().parent.parent

TRICKY = [
    "",
    "# only a comment\n",
    "title: plain\n",
    "- a list\n- at the top\n",
    "just text",
    "title: a\ntitle: b\n",
    "sources:\n  - url: x\n    url: y\n",
    "a: &x [1, 2]\nb: *x\n",
    "a: &x {k: v}\nb: *x\nc: *x\n",
    "a: *nowhere\n",
    "a: &a [*a]\n",
    "base: &b {x: 1}\nmore:\n  <<: *b\n  y: 2\n",
    "more:\n  <<: {x: 1}\n  y: 2\n",
    "a: " + "[" * 40 + "]" * 40 + "\n",
    "a: " + "[" * 31 + "]" * 31 + "\n",
    "a: " + "[" * 2000 + "\n",
    "a: " + "- " * 40 + "x\n",
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 40)),
    "date: 2026-13-45\n",
    "date: !!timestamp nope\n",
    "n: !!int x\n",
    "f: .nan\ng: -.inf\nh: 0x1F\ni: 1_000\nj: 0o17\nk: 190:20:30\n",
    "t: yes\nu: No\nv: ~\nw: null\nx: 2026-01-02\ny: 2026-01-02 03:04:05 +02:00\n",
    "s: !!str 12\nb: !!binary aGVsbG8=\nset: !!set {a, b}\nomap: !!omap [a: 1]\n",
    "? [complex, key]\n: value\n",
    "{flow: mapping, at: top}\n",
    "a: 1\n---\nb: 2\n",
    "a: b: c\n",
    "a:\n\t- tab\n",
    "a: 'unclosed\n",
    "\"quoted key\": 1\n'other': 2\n3: three\nnull: x\n",
    "tags: [a, b, a]\n",
    "title: x\n%YAML 1.1\n",
    "list:\n- a\n-\n- [b, {c: d}]\n",
    "title: 5 * 3 & 4\n",
    "title: x\n...\nmore: y\n",
    "a: |\n  block\n  text\nb: >\n  folded\n  text\n",
    "a: \u00e9t\u00e9 \u2014 \u0645\u0631\u062d\u0628\u0627\n",
    "a: \x07bell\n",
    "k" * 2000 + ": long key\n",
]


def careful(text: str, first_line: int) -> str:
    simple, plain = yamlmap._read_simple, yamlmap._compose_plain
    yamlmap._read_simple = lambda text, offset: None
    yamlmap._compose_plain = lambda text: None
    try:
        return repr(yamlmap.load_mapping(text, "content/x.md", first_line))
    finally:
        yamlmap._read_simple, yamlmap._compose_plain = simple, plain


def both(text: str, first_line: int = 2) -> tuple[str, str]:
    return repr(yamlmap.load_mapping(text, "content/x.md", first_line)), careful(text, first_line)


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_yaml_reads_the_same_both_ways(text: str) -> None:
    fast, slow = both(text)
    assert fast == slow


def front_matters() -> list[str]:
    found = []
    for path in sorted([*ROOT.glob("content/**/*.md"), *ROOT.glob("tests/**/*.md")]):
        parts = split_front_matter(path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n"), "x")
        if not isinstance(parts, tuple):
            continue
        found.append(parts[0])
    return found


def test_every_front_matter_in_the_repository_reads_the_same_both_ways() -> None:
    texts = front_matters()
    assert len(texts) > 20
    for text in texts:
        fast, slow = both(text)
        assert fast == slow, text


def test_the_fast_path_is_taken_for_ordinary_front_matter() -> None:
    text = 'title: "A story"\ndate: 2026-04-30\ntags: [a, b]\nsources:\n  - url: https://example.com/x\n    name: Ex\n    official: true\nconfidence: 80\n'
    assert yamlmap._compose_plain(text) is not None
    assert yamlmap._compose_plain("a: &x 1\nb: *x\n") is None


PIECES = st.sampled_from(
    [
        "title", "tags", "sources", "url", ":", ": ", "- ", "  ", "    ", "\n", "\n  - ", "\n    ", "[", "]", "{", "}", ",", "'", '"',
        "&a ", "*a", "!!str ", "!!int ", "? ", "#", "|", "2026-01-02", "12", "true", "null", "~", "x", "é", "\t", "<<", "---", "...",
    ]
)  # fmt: skip


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(st.lists(PIECES, max_size=40), st.integers(min_value=1, max_value=5))
def test_random_yaml_reads_the_same_both_ways(pieces: list[str], first_line: int) -> None:
    fast, slow = both("".join(pieces), first_line)
    assert fast == slow


def test_the_url_space_pattern_is_exactly_isspace_or_control() -> None:
    from digest.content import _SPACE_OR_CONTROL

    for code in range(0x110000):
        ch = chr(code)
        assert bool(_SPACE_OR_CONTROL.match(ch)) == (ch.isspace() or code < 32), hex(code)


# Words that probe the simple reader: types PyYAML resolves, indicators, spaces
# and characters around the edges of what libyaml accepts.
WORDS = st.sampled_from(
    [
        "a", "Tag 1", "x y", "12", "-3", "+4", "0x1F", "1_0", "0o7", "1:30", "3.5", ".5", ".inf", ".nan", "1e3", "yes", "No", "on", "OFF", "y",
        "true", "null", "~", "Null", "2026-01-02", "2026-1-2", "2026-01-02T03:04:05Z", "2026-01-02 03:04:05 +02:00", "2026-13-45", "=", "<<",
        "https://x.test/a?b=1&c=2", "a:b", "a: b", "a:", "a #b", "a#b", "#c", "-", "- x", "? x", "'q'", '"q"', "it's", 'say "hi"', "a\\b",
        "[", "]", "{", "}", ",", "&a", "*a", "!x", "|", ">", "%", "@", "`", "(p)", "é", "\u00a0x", "\u2028", "\u0085", "\ufeff", "\x7f",
        "\t", " ", "  ", "", "مرحبا", "漢字", "😀",
    ]
)  # fmt: skip
GOOD_WORDS = st.sampled_from(
    ["a", "Tag 1", "x y, z", "12", "+4", "0x1F", "1_0", "1:30", "3.5", ".5", ".inf", "yes", "No", "null", "Null", "2026-01-02", "2026-01-02T03:04:05Z",
     "2026-01-02 03:04:05 +02:00", "2026-13-45", "https://x.test/a?b=1&c=2", "a:b", "a#b", "(p)", "é", "\u00a0x", "مرحبا", "漢字", "😀", "5 * 3 & 4"]
)  # fmt: skip
WORDS = st.one_of(GOOD_WORDS, GOOD_WORDS, GOOD_WORDS, WORDS)
KEYS = st.sampled_from(["title", "tags", "sources", "url", "name", "official", "date", "summary", "yes", "null", "1", "a-b", "_k", "K2", "x" * 101])


@st.composite
def simple_front_matter(draw: st.DrawFn) -> str:
    lines = []
    for key in draw(st.lists(KEYS, max_size=6, unique=True)) + draw(st.lists(KEYS, max_size=1)):
        shape = min(draw(st.integers(0, 5)), draw(st.integers(0, 5)))  # an odd line now and then
        if shape == 0:
            lines.append(f"{key}: {draw(WORDS)}")
        elif shape == 1:
            lines.append(f'{key}: "{draw(WORDS)}"')
        elif shape == 2:
            lines.append(f"{key}: [{', '.join(draw(st.lists(WORDS, max_size=4)))}]")
        elif shape == 3:
            indent = " " * draw(st.integers(0, 3))
            lines.append(f"{key}:")
            lines += [f"{indent}- {draw(WORDS)}" for _ in range(draw(st.integers(0, 3)))]
        elif shape == 4:
            indent = " " * draw(st.integers(0, 3))
            lines.append(f"{key}:")
            for _ in range(draw(st.integers(1, 3))):
                lines.append(f"{indent}- {draw(KEYS)}: {draw(WORDS)}")
                lines += [f"{indent}  {draw(KEYS)}: {draw(WORDS)}" for _ in range(draw(st.integers(0, 2)))]
        else:
            lines.append(draw(st.sampled_from(["", " ", "# note", "  more", "---", f"{key}:{draw(WORDS)}", f"{key} : x"])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n", "\n", "\n\n", " "]))


@settings(max_examples=1500, derandomize=True, deadline=None, database=None)
@given(simple_front_matter(), st.integers(min_value=1, max_value=5))
def test_simple_front_matter_reads_the_same_both_ways(text: str, first_line: int) -> None:
    fast, slow = both(text, first_line)
    assert fast == slow, text


@pytest.mark.parametrize(
    ("pattern", "meant"),
    [
        (yamlmap._SIMPLE_TEXT.pattern[:-1], "[\x20-\x7e\n\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"),
        (yamlmap._PLAIN_FIRST, r"[A-Za-z0-9_./(+\xa0-\U0010ffff]"),
    ],
)
def test_the_character_classes_written_as_what_they_leave_out_take_the_same_characters(pattern: str, meant: str) -> None:
    import re

    ours, theirs = re.compile(pattern), re.compile(meant)
    differ = [hex(c) for c in range(0x110000) if bool(ours.fullmatch(chr(c))) != bool(theirs.fullmatch(chr(c)))]
    assert differ == []
