"""Load one YAML mapping (site.yaml or a front-matter block) with key lines, for the config and content stages.

In: text. Out: ``{key: Entry}`` and problems, every line a 1-based line of the
*file* (PyYAML's marks are 0-based and relative to the text). The node graph
is composed (libyaml where installed) and checked before any value is built:
duplicate keys, nesting deeper than MAX_DEPTH, and alias expansion past
MAX_NODES values or MAX_CHARS characters ("billion laughs") are refused. A
syntax error is reported on the line an editor has to change.
"""

from __future__ import annotations

import bisect
import contextlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from .errors import Problem, error, plural

MAX_DEPTH = 32  # collections nested in one another, the top-level mapping included
MAX_NODES = 100_000  # values (keys, items, scalars, collections) once every alias is expanded
MAX_CHARS = 1_000_000  # characters of text once every alias is expanded; text without aliases never passes its own length
_TOO_DEEP = f"YAML is nested too deeply (more than {MAX_DEPTH} levels)"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Composing recurses (libyaml segfaults past ~10,000 levels). Every collection and
# entry needs one of these characters, so text with few of them can neither nest
# deep nor hold many values; text with more is first walked as parser events.
_INDICATORS = "-?:[{,"
_COMPOSE_AT_ONCE = 250  # indicators; far below what either composer can recurse


class _Mark(Protocol):
    """A position in the text, as both PyYAML and libyaml give it (0-based)."""

    index: int


@dataclass(frozen=True)
class Entry:
    """A top-level value and the 1-based file line of its key."""

    value: object
    line: int
    item_lines: tuple[int, ...] = ()  # file line of each list item or mapping key in the value
    broken: bool = False  # the value could not be read; an error was already reported


def describe(value: object) -> str:
    """Name a YAML value's type the way an editor would."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'the text "{shown}"'
    if isinstance(value, list):
        return f"a list of {plural(len(value), 'item')}"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def load_mapping(text: str, path: str, first_line: int) -> tuple[dict[str, Entry] | None, list[Problem]]:
    """Parse *text*, whose first line is file line *first_line*; entries are None when it is not a mapping."""
    lines = _FileLines(text, first_line)
    try:
        loader = _Loader(text)  # PyYAML's own reader checks every character here, libyaml's as it reads
    except yaml.reader.ReaderError as exc:
        return None, [_unreadable_character(exc, text, path, lines)]
    try:
        if sum(map(text.count, _INDICATORS)) > _COMPOSE_AT_ONCE and (refused := _check_events(text, path, lines)):
            return None, [refused]
        root = loader.get_single_node()
        if root is None:
            return {}, []
        if not isinstance(root, yaml.MappingNode):
            return None, [error(path, lines.of(root.start_mark), f"expected a mapping of keys to values, found {_node_kind(root)}")]
        check = _GraphCheck(path, lines, max(MAX_CHARS, len(text)))  # MAX_CHARS or more: only aliases can pass it
        problems = check.run(root)
        if check.refused:
            return None, problems
        entries, more = _construct(loader, root, path, lines)  # duplicate keys too (the last one counts), so every other value is checked
        return entries, problems + more
    except yaml.MarkedYAMLError as exc:  # only composing raises: _construct catches what building a value raises
        return None, [_syntax_error(exc, text, path, lines)]
    except yaml.reader.ReaderError as exc:
        return None, [_unreadable_character(exc, text, path, lines)]
    except yaml.YAMLError as exc:
        return None, [error(path, lines.first_line, f"YAML syntax error: {_short(exc)}")]
    except RecursionError:  # the pure-Python composer, on text that slipped past the indicator count
        return None, [error(path, lines.first_line, _TOO_DEEP)]
    finally:
        loader.dispose()


def _construct(loader: Any, root: yaml.MappingNode, path: str, lines: _FileLines) -> tuple[dict[str, Entry], list[Problem]]:
    """Build each top-level value; a value PyYAML cannot build is an error at its key."""
    problems: list[Problem] = []
    entries: dict[str, Entry] = {}
    for key_node, value_node in root.value:
        line = lines.of(key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(error(path, line, f"expected a text key, found {_node_kind(key_node)}"))
            continue
        key = str(key_node.value)
        try:
            entries[key] = Entry(loader.construct_object(value_node, deep=True), line, _item_lines(value_node, lines))
        except Exception as exc:  # constructors run on untrusted text; e.g. a bad "!!timestamp" raises AttributeError inside PyYAML
            problems.append(error(path, line, f"{key}: could not read value ({_why_unreadable(value_node, exc)})"))
            entries[key] = Entry(None, line, broken=True)
    return entries, problems


class _FileLines:
    """Turns a PyYAML mark, or an index into the text, into a 1-based line of the file, counting "\\n" alone as the file is split."""

    def __init__(self, text: str, first_line: int) -> None:
        self.first_line = first_line
        self.newlines = [m.start() for m in re.finditer("\n", text)]  # not the mark's line: libyaml also breaks at NEL, LS, PS and a lone CR

    def of(self, mark: _Mark | None) -> int:
        return self.first_line if mark is None else self.at(mark.index)

    def at(self, index: int) -> int:
        return bisect.bisect_left(self.newlines, index) + self.first_line


def _check_events(text: str, path: str, lines: _FileLines) -> Problem | None:
    """Apply the depth and size limits (aliases aside) to the parser's events, which neither build nor recurse; syntax errors are the composer's."""
    depth = count = 0
    with contextlib.suppress(yaml.YAMLError):
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                depth += isinstance(event, yaml.CollectionStartEvent)
                count += 1
                if depth > MAX_DEPTH:
                    return error(path, lines.of(event.start_mark), _TOO_DEEP)
                if count > MAX_NODES:
                    return error(path, lines.first_line, f"YAML has more than {MAX_NODES} values")
    return None


class _Refused(Exception):
    """A limit was passed (its Problem is the one argument); the graph is not looked at any further."""


class _GraphCheck:
    """Find duplicate keys, and refuse graphs too deep or too large once aliases are expanded (each node measured once: an alias is the same node)."""

    def __init__(self, path: str, lines: _FileLines, max_chars: int) -> None:
        self.path = path
        self.lines = lines
        self.max_chars = max_chars
        self.measured: dict[int, tuple[int, int, int]] = {}  # id(node) -> (values, characters, height)
        self.open: set[int] = set()  # ids of the collections being measured: an alias to one is a loop
        self.problems: list[Problem] = []
        self.key: yaml.ScalarNode | None = None  # the top-level key being measured: a size limit passed is reported there
        self.refused = False  # a limit was passed: nothing may be built

    def run(self, root: yaml.MappingNode) -> list[Problem]:
        try:
            self.measure(root, 1)
        except _Refused as refused:
            self.refused = True
            return [refused.args[0]]
        return sorted(self.problems, key=lambda problem: problem.line)

    def measure(self, node: yaml.Node, depth: int) -> tuple[int, int, int]:
        """Values, characters and height (in collections) of the collection *node* at *depth*, aliases expanded."""
        known = self.measured.get(id(node))
        if known is not None:  # an alias: measured before, maybe less deep
            if depth - 1 + known[2] > MAX_DEPTH:
                raise _Refused(error(self.path, self.lines.of(self.deepest(node, depth).start_mark), _TOO_DEEP[:-1] + ", counting aliases)"))
            return known
        if id(node) in self.open:
            raise _Refused(error(self.path, self.lines.of(node.start_mark), "YAML value contains an alias to itself; recursive values are not allowed"))
        if depth > MAX_DEPTH:
            raise _Refused(error(self.path, self.lines.of(node.start_mark), _TOO_DEEP))
        self.open.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self.find_duplicate_keys(node)
        values, chars, height = 1, 0, 0
        for index, child in enumerate(_children(node)):
            if depth == 1 and not index % 2:  # a top-level key: named if a size limit is passed in its value
                self.key = child if isinstance(child, yaml.ScalarNode) else None
            if isinstance(child, yaml.ScalarNode):
                values += 1
                chars += len(child.value)
                continue
            more, text, tall = self.measure(child, depth + 1)
            values += more
            chars += text
            height = max(height, tall)
            self.check_size(values, chars)
        self.check_size(values, chars)
        self.open.discard(id(node))
        known = self.measured[id(node)] = (values, chars, height + 1)
        return known

    def check_size(self, values: int, chars: int) -> None:
        if values > MAX_NODES or chars > self.max_chars:
            limit = f"{MAX_NODES} values" if values > MAX_NODES else f"{self.max_chars} characters of text"
            where = f' (the value of "{self.key.value}" passes the limit)' if self.key else ""
            line = self.lines.of(self.key.start_mark if self.key else None)
            raise _Refused(error(self.path, line, f"YAML expands to more than {limit} through aliases{where}"))

    def deepest(self, node: yaml.Node, depth: int) -> yaml.Node:
        """The first collection under *node* (at *depth*) that lies deeper than MAX_DEPTH."""
        while depth <= MAX_DEPTH:
            node = next(c for c in _children(node) if not isinstance(c, yaml.ScalarNode) and depth + self.measured[id(c)][2] > MAX_DEPTH)
            depth += 1
        return node

    def find_duplicate_keys(self, node: yaml.MappingNode) -> None:
        seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and (first := seen.setdefault(key_node.value, key_node)) is not key_node:
                message = f'duplicate key "{key_node.value}" (first given on line {self.lines.of(first.start_mark)})'
                self.problems.append(error(self.path, self.lines.of(key_node.start_mark), message))


def _children(node: yaml.Node) -> list[yaml.Node]:
    """A collection's nodes in document order (a mapping's keys and values alternate)."""
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


# Contexts that open on one line and must be finished later: the mistake is on the
# opening line (context mark), not where the parser gave up (problem mark).
_OPENED = {
    "while scanning a quoted scalar": "is a closing {char} missing?",
    "while parsing a flow sequence": "is a closing ] or a comma missing?",
    "while parsing a flow mapping": "is a closing } or a comma missing?",
    "while scanning a simple key": 'expected "key: value"',
}
_INDENT_AND_DASHES = re.compile(r" *(?:- +)*")
_NO_SPACE_AFTER_COLON = re.compile(r"[^\s:]:[^\s/:]")


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, path: str, lines: _FileLines) -> Problem:
    """A YAML syntax error, placed on the line an editor has to change."""
    problem = exc.problem or "invalid YAML"
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    found = lines.of(mark)
    before = text[text.rfind("\n", 0, mark.index) + 1 : mark.index] if mark is not None else ""  # the error's line up to it
    if exc.context_mark is not None and context in _OPENED:
        opened = lines.of(exc.context_mark)
        hint = _OPENED[context].replace("{char}", text[exc.context_mark.index : exc.context_mark.index + 1])
        if context == "while scanning a simple key" and _NO_SPACE_AFTER_COLON.search(text.split("\n")[opened - lines.first_line]):
            hint = 'is a space missing after ":"?'
        where = f" that starts on this line (found on line {found})" if found != opened else ""
        return error(path, opened, f"YAML syntax error: {problem} {context}{where}; {hint}")
    if context and not context.startswith("while") and exc.context_mark is not None:
        # composer errors: "found duplicate anchor; first occurrence" ... "second occurrence"
        return error(path, found, f"YAML syntax error: {context} on line {lines.of(exc.context_mark)}, {problem} on this line")
    message = f"YAML syntax error: {problem}" + (f" {context}" if context else "")
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        return error(path, found, message + " (a tab: YAML indents with spaces only)")
    quoted = _last_scalar_before_error(text)
    if quoted is not None and quoted.style in ("'", '"') and lines.of(quoted.start_mark) < found == lines.of(quoted.end_mark):
        # An unclosed quote that a later value's quote closed: "title: "Oops\n...\nsummary: "Fine""
        opened = lines.of(quoted.start_mark)
        return error(path, opened, f"{message} on line {found}, after a quoted value that starts on this line; is its closing {quoted.style} missing?")
    if problem.startswith("mapping values are not allowed") and mark is not None:
        return _misplaced_colon(message, found, before, text, path, lines)
    if before.rstrip(" ").endswith(("'", '"')):
        return error(path, found, message + """ (more text after a closing quote: inside "..." write \\", inside '...' write '')""")
    return error(path, found, message)


def _last_scalar_before_error(text: str) -> yaml.ScalarEvent | None:
    last = None
    with contextlib.suppress(yaml.YAMLError):
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.ScalarEvent):
                last = event
        return None
    return last


def _misplaced_colon(message: str, found: int, before: str, text: str, path: str, lines: _FileLines) -> Problem:
    """Place "mapping values are not allowed": a second ": " on a line, or a key line swallowed by the line before."""
    if ": " in before or before.rstrip().endswith(":"):
        return error(path, found, message + ' (a value that holds ": " must be in quotes)')
    text_lines = text.split("\n")
    index = found - lines.first_line
    previous = next((i for i in range(index - 1, -1, -1) if text_lines[i].strip() and not text_lines[i].lstrip().startswith("#")), None)
    # a key at or left of the previous line's key cannot continue its value, so that line is broken (often "key:value")
    if previous is None or _key_column(text_lines[index]) > _key_column(text_lines[previous]):
        return error(path, found, message)
    hint = ' (is a space missing after ":"?)' if _NO_SPACE_AFTER_COLON.search(text_lines[previous]) else ""
    return error(path, previous + lines.first_line, message + hint)


def _key_column(line: str) -> int:
    """Where a line's key (or value) starts, after its indent and any "- " list markers."""
    return len(_INDENT_AND_DASHES.match(line)[0])  # type: ignore[index]


def _unreadable_character(exc: yaml.reader.ReaderError, text: str, path: str, lines: _FileLines) -> Problem:
    """A character YAML does not allow, on its own line (libyaml gives a byte offset, PyYAML a character index)."""
    character = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
    index = text.find(character)
    line = lines.at(index) if index >= 0 else lines.first_line
    return error(path, line, f"expected printable text, found the control character U+{ord(character[:1] or ' '):04X}, which YAML does not allow")


def _item_lines(node: yaml.Node, lines: _FileLines) -> tuple[int, ...]:
    """The line of each item (of a mapping: each key), once the value is built: building merges ``<<`` keys into *node*."""
    return tuple(lines.of(item.start_mark) for item in _children(node)[:: 2 if isinstance(node, yaml.MappingNode) else 1])


def _why_unreadable(node: yaml.Node, exc: Exception) -> str:
    """Why PyYAML could not construct *node*, without its 0-based marks or its internals."""
    if isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(part for part in (exc.problem, exc.context) if part) or "invalid value"
    if isinstance(exc, (ValueError, OverflowError)):  # e.g. "month must be in 1..12"
        return f'"{_short(ValueError(node.value))}": {_short(exc)}' if isinstance(node, yaml.ScalarNode) else _short(exc)
    if isinstance(node, yaml.ScalarNode):
        return f'"{_short(ValueError(node.value))}" is not a valid {node.tag.rsplit(":", 1)[-1]}'
    return f"a value inside it is not valid ({type(exc).__name__})"


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = str(node.value)
    return f'the text "{value[:60]}"' if value else "nothing"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:117] + "..."
