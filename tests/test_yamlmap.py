"""load_mapping: values and file lines, duplicate keys, limits, syntax errors placed on the line to fix."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest

from digest.yamlmap import MAX_CHARS, MAX_DEPTH, MAX_NODES, Entry, describe, load_mapping

PATH = "content/x.md"


def read(text: str, first_line: int = 2) -> dict[str, Entry]:
    entries, problems = load_mapping(text, PATH, first_line)
    assert problems == [] and entries is not None, problems
    return entries


def problems_of(text: str, first_line: int = 2) -> list[str]:
    """Every problem as "line: message"; the entries must be None unless only values were unreadable."""
    _, problems = load_mapping(text, PATH, first_line)
    assert all(p.path == PATH and p.is_error for p in problems)
    return [f"{p.line}: {p.message}" for p in problems]


def only_problem(text: str, first_line: int = 2) -> tuple[int, str]:
    entries, problems = load_mapping(text, PATH, first_line)
    assert entries is None
    assert len(problems) == 1, problems
    return problems[0].line, problems[0].message


# (text, first_line, {key: (value, line, item_lines)})
VALID = [
    ("", 2, {}),
    ("# only a comment\n", 2, {}),
    ("title: plain\n", 1, {"title": ("plain", 1, ())}),
    ("title: plain\n", 2, {"title": ("plain", 2, ())}),
    ("\n\n# note\ntitle: x\n", 5, {"title": ("x", 8, ())}),
    (
        'title: "A story"\ndate: 2026-04-30\ntags: [a, b]\nconfidence: 80\ndraft: false\n',
        2,
        {
            "title": ("A story", 2, ()),
            "date": (dt.date(2026, 4, 30), 3, ()),
            "tags": (["a", "b"], 4, (4, 4)),
            "confidence": (80, 5, ()),
            "draft": (False, 6, ()),
        },
    ),
    (
        "sources:\n  - url: https://example.com/x\n    name: Ex\n    official: true\n  - https://example.com/y\n",
        2,
        {"sources": ([{"url": "https://example.com/x", "name": "Ex", "official": True}, "https://example.com/y"], 2, (3, 6))},
    ),
    ("topics:\n  news: {name: News}\n  policy:\n    name: Policy\n", 1, {"topics": ({"news": {"name": "News"}, "policy": {"name": "Policy"}}, 1, (2, 3))}),
    ("when: 2026-01-02 03:04:05+02:00\n", 2, {"when": (dt.datetime(2026, 1, 2, 1, 4, 5, tzinfo=dt.UTC), 2, ())}),
    ("a: |\n  block\n  text\nb: >\n  folded\n  text\nc: ~\n", 2, {"a": ("block\ntext\n", 2, ()), "b": ("folded text\n", 5, ()), "c": (None, 8, ())}),
    ("a: &x [1, 2]\nb: *x\n", 2, {"a": ([1, 2], 2, (2, 2)), "b": ([1, 2], 3, (2, 2))}),
    ("base: &b {x: 1}\nmore:\n  <<: *b\n  y: 2\n", 2, {"base": ({"x": 1}, 2, (2,)), "more": ({"x": 1, "y": 2}, 3, (2, 5))}),
    ("{flow: mapping, at: top}\n", 2, {"flow": ("mapping", 2, ()), "at": ("top", 2, ())}),
    (
        "title: \u00e9t\u00e9 \u2014 \u0645\u0631\u062d\u0628\u0627 \U0001f600\nnext: 1\n",
        2,
        {"title": ("\u00e9t\u00e9 \u2014 \u0645\u0631\u062d\u0628\u0627 \U0001f600", 2, ()), "next": (1, 3, ())},
    ),
    # libyaml also breaks lines at NEL, LS and PS (and folds a quoted NEL); files are numbered by "\n" alone
    (
        'title: "a\u2028b\x85c"\ntags:\n  - x\n  - "\u2029"\nnext: 1\n',
        2,
        {"title": ("a\u2028b c", 2, ()), "tags": (["x", "\u2029"], 3, (4, 5)), "next": (1, 6, ())},
    ),
    ("title: x\r\ntags:\r\n  - a\r\nnext: 1\r\n", 1, {"title": ("x", 1, ()), "tags": (["a"], 2, (3,)), "next": (1, 4, ())}),
]


@pytest.mark.parametrize(("text", "first_line", "expected"), VALID)
def test_valid_mappings_give_values_and_file_lines(text: str, first_line: int, expected: dict[str, tuple[object, int, tuple[int, ...]]]) -> None:
    entries = read(text, first_line)
    assert {key: (e.value, e.line, e.item_lines) for key, e in entries.items()} == expected
    assert not any(e.broken for e in entries.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: a\ndate: 2026-01-01\ntitle: b\n", ['4: duplicate key "title" (first given on line 2)']),
        ("a: 1\na: 2\na: 3\n", ['3: duplicate key "a" (first given on line 2)', '4: duplicate key "a" (first given on line 2)']),
        ("sources:\n  - url: x\n    name: n\n    url: y\n", ['5: duplicate key "url" (first given on line 3)']),
        ("t:\n  a: 1\n  a: 2\nt: 3\n", ['4: duplicate key "a" (first given on line 3)', '5: duplicate key "t" (first given on line 2)']),
        ("m: {k: 1, k: 2}\n", ['2: duplicate key "k" (first given on line 2)']),
    ],
)
def test_duplicate_keys_are_errors_at_the_repeated_key(text: str, expected: list[str]) -> None:
    entries, _ = load_mapping(text, PATH, 2)
    assert entries is not None  # read all the same (the last value counts), so the other values are checked in the same run
    assert problems_of(text) == expected


def nested_flow(levels: int) -> str:
    return "[" * levels + "]" * levels


def nested_block(levels: int) -> str:
    """A mapping nested *levels* deep under key "extra" on line 2: level n opens on line n + 1."""
    return "extra:\n" + "".join("  " * n + f"k{n}:\n" for n in range(1, levels))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: " + nested_flow(MAX_DEPTH - 1) + "\n", None),  # with the top-level mapping, 32 collections
        ("a: " + nested_flow(MAX_DEPTH) + "\n", 2),
        ("title: x\na: " + nested_flow(40) + "\n", 3),
        ("title: x\na: " + nested_flow(2000) + "\n", 3),  # many indicators: the limits are checked on the events before composing
        ("title: x\na: " + "[" * 2000 + "\n", 3),  # unclosed as well: too deep comes first
        (nested_block(MAX_DEPTH), None),
        (nested_block(MAX_DEPTH + 1), 2 + MAX_DEPTH),
        (nested_block(60), 2 + MAX_DEPTH),
        (nested_block(60) + "pad: [" + ", ".join(["x"] * 300) + "]\n", 2 + MAX_DEPTH),  # the same line on the event road
    ],
)
def test_nesting_is_limited_and_reported_where_it_passes_the_limit(text: str, line: int | None) -> None:
    if line is None:
        read(text)
    else:
        assert only_problem(text) == (line, f"YAML is nested too deeply (more than {MAX_DEPTH} levels)")


def test_nesting_through_aliases_counts_the_expanded_depth() -> None:
    text = "deep: &d " + nested_flow(20) + "\nfine: *d\nwrapped:\n  - " + nested_flow(11)[:11] + "*d" + nested_flow(11)[11:] + "\n"
    line, message = only_problem(text)
    assert message == f"YAML is nested too deeply (more than {MAX_DEPTH} levels, counting aliases)"
    assert line == 2  # the first collection past the limit is inside the anchored value on line 2


def test_an_alias_to_its_own_value_is_refused() -> None:
    assert only_problem("title: x\nloop: &a [1, *a]\n") == (3, "YAML value contains an alias to itself; recursive values are not allowed")
    assert only_problem("m: &m {a: {b: *m}}\n") == (2, "YAML value contains an alias to itself; recursive values are not allowed")


def billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels + 1)]
    return "title: x\n" + "\n".join(lines) + "\ntags: *l9\n"


def timed(text: str) -> tuple[float, tuple[int, str]]:
    started = time.perf_counter()
    result = only_problem(text)
    return time.perf_counter() - started, result


def test_alias_expansion_past_the_value_limit_is_refused_quickly() -> None:
    seconds, (line, message) = timed(billion_laughs())
    assert seconds < 5
    assert line == 8, "the line of the key whose value passes the limit"
    assert message == f'YAML expands to more than {MAX_NODES} values through aliases (the value of "lol5" passes the limit)'


def test_a_long_string_aliased_many_times_is_refused_quickly() -> None:
    text = 'title: x\nlong: &s "' + "a" * 180_000 + '"\nmany: [' + ", ".join(["*s"] * 20_000) + "]\n"
    assert 250_000 < len(text) < 270_000
    seconds, (line, message) = timed(text)
    assert seconds < 5
    assert (line, message) == (4, f'YAML expands to more than {MAX_CHARS} characters of text through aliases (the value of "many" passes the limit)')


def test_a_few_aliases_and_long_text_without_aliases_are_fine() -> None:
    entries = read('long: &s "' + "a" * 200_000 + '"\ntwice: [*s, *s, *s]\n')
    assert entries["twice"].value == ["a" * 200_000] * 3
    text = "text: " + "b" * (MAX_CHARS + 10) + "\n"  # the limit is on what aliases add, never below the text's own length
    assert read(text)["text"].value == "b" * (MAX_CHARS + 10)


def test_too_many_values_without_aliases_is_refused_before_composing() -> None:
    text = "title: x\nmany: [" + ",".join(["1"] * (MAX_NODES + 1)) + "]\n"
    assert only_problem(text) == (2, f"YAML has more than {MAX_NODES} values")


def test_very_deep_nesting_does_not_crash_the_interpreter() -> None:
    """libyaml composes recursively and would overflow the C stack: the limits are checked on the events first."""
    code = "from digest.yamlmap import load_mapping; print(load_mapping('t: x\\na: ' + '[' * 200_000 + ']' * 200_000, 'f', 2)[1][0])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"f:3: error: YAML is nested too deeply (more than {MAX_DEPTH} levels)"


# Editors' common mistakes: (name, front matter starting on file line 2, line to fix, text in the message)
# fmt: off
SYNTAX = [
    ("unclosed double quote", 'title: "Hello\ndate: 2026-01-01\ntags: [a]\n', 2, 'quoted scalar that starts on this line (found on line 5); is a closing " missing?'),
    ("unclosed quote in the last value", 'title: x\ndate: 2026-01-01\nsummary: "Hello\n', 4, 'is a closing " missing?'),
    ("unclosed single quote", "title: 'Hello\ndate: 2026-01-01\n", 2, "is a closing ' missing?"),
    ("unclosed quote closed by a later one", 'title: "Hello\ndate: 2026-01-01\nsummary: "x"\n', 2, 'on line 4, after a quoted value that starts on this line; is its closing " missing?'),
    ("apostrophe in single quotes", "title: 'It's here'\ndate: 2026-01-01\n", 2, "more text after a closing quote"),
    ("quotes in double quotes", 'title: x\nsummary: "Say "hi" now"\n', 3, "more text after a closing quote"),
    ("key: value: more", "title: x\nsummary: Update: the lab replied\ndate: 2026-01-01\n", 3, 'mapping values are not allowed in this context (a value that holds ": " must be in quotes)'),
    ("key: value: more on the first line", "title: Update: x\n", 2, '(a value that holds ": " must be in quotes)'),
    ("tab indent", "title: x\ntags:\n\t- a\ndate: 2026-01-01\n", 4, "(a tab: YAML indents with spaces only)"),
    ("tab indent inside a list item", "sources:\n  - url: x\n\tname: y\n", 4, "(a tab: YAML indents with spaces only)"),
    ("missing space after colon", "title: x\ndate:2026-01-01\ntags: [a]\n", 3, 'simple key that starts on this line (found on line 4); is a space missing after ":"?'),
    ("missing space after colon on the first line", "title:x\ndate: 2026-01-01\n", 2, '(is a space missing after ":"?)'),
    ("missing space after colon in a list item", "title: x\nsources:\n  - url:x\n    name: y\n", 4, '(is a space missing after ":"?)'),
    ("missing space after colon on the last line", "title: x\nconfidence:50\n", 3, 'is a space missing after ":"?'),
    ("a line that is not key: value", "title: x\noops\ndate: 2026-01-01\n", 3, 'expected "key: value"'),
    ("unclosed [", "title: x\ntags: [a, b\nsources: [https://example.test/a]\nconfidence: 50\n", 3, "flow sequence that starts on this line (found on line 4); is a closing ] or a comma missing?"),
    ("unclosed [ at the end", "title: x\ntags: [a, b\n", 3, "is a closing ] or a comma missing?"),
    ("unclosed [ on the first line", "title: [unclosed\ndate: 2026-01-01\n", 2, "is a closing ] or a comma missing?"),
    ("unclosed {", "title: x\nmeta: {a: 1\ndate: 2026-01-01\n", 3, "is a closing } or a comma missing?"),
    ("list item indented too little", "sources:\n    - url: a\n  - url: b\ntitle: x\n", 4, "did not find expected key while parsing a block mapping"),
    ("mapping key indented too far", "title: x\nsources:\n  - url: a\n   name: b\n", 5, "did not find expected '-' indicator"),
    ("value indented under a scalar", "title: x\n  date: 2026-01-01\n", 3, "mapping values are not allowed in this context"),
    ("list at the top among keys", "title: x\n- a\n", 3, "did not find expected key"),
    ("undefined alias", "title: x\ntags: *nothing\n", 3, "found undefined alias"),
    ("backtick", "title: x\nsummary: `code`\n", 3, "found character that cannot start any token"),
    ("bad escape in a long quoted value", 'title: "ok\n  still \\q"\n', 3, "found unknown escape character"),
    ("duplicate anchor", "a: &x 1\nb: &x 2\n", 3, "found duplicate anchor; first occurrence on line 2, second occurrence on this line"),
    ("two documents", "a: 1\n---\nb: 2\n", 3, "expected a single document in the stream on line 2, but found another document on this line"),
    ("control character", "title: x\nsummary: a\x07b\n", 3, "expected printable text, found the control character U+0007, which YAML does not allow"),
    ("unclosed [ after a line separator", 'title: "a\u2028b"\nx: 1\ny: [1, 2\nz: 3\n', 4, "is a closing ] or a comma missing?"),
]
# fmt: on


@pytest.mark.parametrize(("text", "line", "expected"), [case[1:] for case in SYNTAX], ids=[case[0] for case in SYNTAX])
def test_syntax_errors_point_at_the_line_to_fix(text: str, line: int, expected: str) -> None:
    found_line, message = only_problem(text)
    assert expected in message
    if "control character" not in expected:
        assert message.startswith("YAML syntax error: ")
    assert found_line == line, message


def test_syntax_error_lines_follow_first_line() -> None:
    text = 'title: "Hello\ndate: 2026-01-01\n'
    assert [only_problem(text, first)[0] for first in (1, 2, 10)] == [1, 2, 10]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: x\ndate: !!timestamp next tuesday\n", '3: date: could not read value ("next tuesday" is not a valid timestamp)'),
        ("title: x\ndate: 2026-13-45\n", '3: date: could not read value ("2026-13-45": month must be in 1..12)'),
        ("n: !!int x\n", "2: n: could not read value (\"x\": invalid literal for int() with base 10: 'x')"),
        ("u: !!bool maybe\n", '2: u: could not read value ("maybe" is not a valid bool)'),
        (
            "x: !!python/object:os.system {}\n",
            "2: x: could not read value (could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system')",
        ),
        ("title: x\nlist:\n  - 1\n  - !!timestamp bad\n", "3: list: could not read value (a value inside it is not valid (AttributeError))"),
        ("k: {[a]: 1}\n", "2: k: could not read value (found unhashable key while constructing a mapping)"),
    ],
)
def test_unreadable_values_are_errors_at_their_key(text: str, expected: str) -> None:
    entries, problems = load_mapping(text, PATH, 2)
    assert [f"{p.line}: {p.message}" for p in problems] == [expected]
    assert entries is not None
    key = expected.split(": ")[1]
    assert entries[key].broken and entries[key].value is None
    assert all(not e.broken for k, e in entries.items() if k != key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "2: expected a mapping of keys to values, found a list"),
        ("\n\njust text\n", '4: expected a mapping of keys to values, found the text "just text"'),
        ("? [complex, key]\n: value\n", "2: expected a text key, found a list"),
    ],
)
def test_text_that_is_not_a_mapping_of_text_keys(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "nothing"),
        (True, "a boolean (true)"),
        (5, "a number (5)"),
        ("x" * 70, 'the text "' + "x" * 57 + '..."'),
        ([1], "a list of 1 item"),
        ([1, 2], "a list of 2 items"),
        ({}, "a mapping"),
        (dt.date(2026, 1, 1), "a date"),
    ],
)
def test_describe_names_values_as_an_editor_would(value: object, expected: str) -> None:
    assert describe(value) == expected
