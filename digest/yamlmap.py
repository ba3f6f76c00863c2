"""Load one YAML mapping (site.yaml or a front-matter block) with key lines.

Used by the config and content stages. PyYAML's marks are 0-based and relative
to the text it was given; every line returned here is a 1-based line of the
*file*, so messages can say ``path:line``.

Duplicate keys are errors (PyYAML would silently keep the last one), and the
node graph is checked for depth and size before anything is constructed, so an
alias bomb or a pathologically nested value fails fast with a clear message.

Two faster roads give the same result where they apply: plain front matter
("key: value" lines, simple lists) is read line by line without PyYAML's node
graph, and text that provably stays within the limits is composed by libyaml
at once. Everything else, and every error, takes the careful road.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from .errors import Problem, error

MAX_DEPTH = 32
MAX_NODES = 100_000
_PLAIN_MAX_INDICATORS = 1_000  # libyaml's composer recurses this deep at most on the fast path

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def load_mapping(text: str, path: str, first_line: int) -> tuple[dict[str, Entry] | None, list[Problem]]:
    """Parse *text* as one YAML mapping whose first line is file line *first_line*.

    Returns ``(entries, problems)``; ``entries`` is None when the text could not
    be read as a mapping at all.
    """
    offset = first_line  # 0-based mark.line + offset == 1-based file line
    simple = _read_simple(text, offset)
    if simple is not None:
        return simple, []
    quick = _compose_plain(text)
    loader = quick[0] if quick else _Loader(text)
    try:
        try:
            if quick:
                node = quick[1]
            else:
                too_big = _prescan(text, path, offset)
                if too_big is not None:
                    return None, [too_big]
                node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + offset if mark else first_line
            what = exc.problem or "invalid YAML"
            context = f" {exc.context}" if exc.context else ""
            if mark and _char_at(text, mark.line, mark.column) == "\t":
                context += " (a tab: YAML indents with spaces only)"
            return None, [error(path, line, f"YAML syntax error: {what}{context}")]
        except yaml.YAMLError as exc:
            return None, [error(path, first_line, f"YAML syntax error: {exc}")]
        except RecursionError:
            return None, [error(path, first_line, f"YAML is nested too deeply (more than {MAX_DEPTH} levels)")]
        if node is None:
            return {}, []
        if not isinstance(node, yaml.MappingNode):
            return None, [error(path, node.start_mark.line + offset, f"expected a mapping of keys to values, found {_node_kind(node)}")]
        problems = [] if quick else _check_nodes(node, path, offset)
        if problems:
            return None, problems
        entries: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + offset
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(error(path, line, f"expected a text key, found {_node_kind(key_node)}"))
                continue
            try:
                value = _construct_plain(loader, value_node) if quick else loader.construct_object(value_node, deep=True)
            except Exception as exc:  # constructors run on untrusted text; e.g. a bad "!!timestamp" raises AttributeError inside PyYAML
                problems.append(error(path, line, f"{key_node.value}: could not read value ({_short(exc)})"))
                entries[str(key_node.value)] = Entry(None, line, broken=True)
                continue
            entries[str(key_node.value)] = Entry(value, line, _item_lines(value_node, offset))
        return entries, problems
    finally:
        loader.dispose()


# The plain front matter most articles have, read without PyYAML's node graph:
# "key: value" lines whose values are one-line scalars or flow lists of plain
# words, or block lists of scalars or of one-line "key: value" mappings. The
# text may hold only characters libyaml reads as printable and no line break
# but "\n"; a line may not end with a space. Anything else -- comments, tabs,
# escapes, anchors, tags, multi-line values, duplicate keys, a value PyYAML
# could not construct -- is left to PyYAML, so the fast reader never has to
# report a problem and never reaches a safety limit.
# The character classes are written as what they leave out: a class spanning most of Unicode
# takes Python's re several milliseconds to compile, and every build that reads an article pays it.
# _SIMPLE_TEXT is [\x20-\x7e\n\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]
_SIMPLE_TEXT = re.compile("[^\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]*")
_SIMPLE_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,99}):(?: (.*))?")  # libyaml refuses keys over 1,024 characters
_SIMPLE_ITEM = re.compile(r"( *)- (.*)")
# A plain scalar: a safe first character, then no ": ", " #" or final ":".
_PLAIN_FIRST = r"[^\x00-\x27\x29\x2a\x2c\x2d\x3a-\x40\x5b-\x5e\x60\x7b-\x9f]"  # [A-Za-z0-9_./(+\xa0-\U0010ffff]
_PLAIN = re.compile(r"(?!.*: )(?!.* #)(?!.*:$)" + _PLAIN_FIRST + r"[^\n]*")
_QUOTED = re.compile(r'"([^"\\\n]*)"|\'([^\'\n]*)\'')
# An item of a flow list: as plain, but no flow indicators or quotes at all.
_FLOW_ITEM = re.compile(r"(?!.*:$)(?!.*: )" + _PLAIN_FIRST + r"[^,\[\]{}#\"'\n]*")
_SCALAR_TAGS = {
    "tag:yaml.org,2002:" + name: getattr(yaml.constructor.SafeConstructor, "construct_yaml_" + name)
    for name in ("str", "int", "float", "bool", "null", "timestamp")
}
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()  # its scalar constructors keep no state


class _NotSimple(Exception):
    pass


def _read_simple(text: str, offset: int) -> dict[str, Entry] | None:
    """The entries of *text* when it is plain front matter (see above), else None."""
    if not _SIMPLE_TEXT.fullmatch(text):
        return None
    lines = text.split("\n")
    entries: dict[str, Entry] = {}
    index = 0
    try:
        while index < len(lines):
            line = lines[index]
            if not line:
                index += 1
                continue
            match = _SIMPLE_KEY.fullmatch(line)
            if match is None or match[1] in entries or line.endswith(" "):
                return None
            key_line = index + offset
            if match[2]:
                value, item_lines = _simple_value(match[2], key_line)
                index += 1
            else:
                value, item_lines, index = _simple_block_list(lines, index + 1, offset)
            entries[match[1]] = Entry(value, key_line, item_lines)
    except _NotSimple:
        return None
    return entries or None


def _simple_value(text: str, line: int) -> tuple[object, tuple[int, ...]]:
    """A one-line value on file line *line*, and the line of each item if it is a flow list."""
    if text.startswith("["):
        if not text.endswith("]"):
            raise _NotSimple
        if text == "[]":
            return [], ()
        items = [item.strip(" ") for item in text[1:-1].split(",")]
        if not all(_FLOW_ITEM.fullmatch(item) for item in items):
            raise _NotSimple
        return [_simple_plain(item) for item in items], (line,) * len(items)
    quoted = _QUOTED.fullmatch(text)
    if quoted:
        return quoted[1] if quoted[1] is not None else quoted[2], ()
    if _PLAIN.fullmatch(text):
        return _simple_plain(text), ()
    raise _NotSimple


def _simple_plain(text: str) -> object:
    """A plain scalar typed and built as PyYAML would (text, number, boolean, null or date)."""
    tag = _plain_tag(text)
    if tag == _STR:
        return text
    construct = _SCALAR_TAGS.get(tag)
    if construct is None:
        raise _NotSimple
    try:
        return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, text))
    except Exception:  # reported by PyYAML's own path
        raise _NotSimple from None


@lru_cache(maxsize=4096)  # keys ("url", "name") and many values ("false", tags) recur in every article
def _plain_tag(text: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar."""
    implicit = _RESOLVER.yaml_implicit_resolvers
    if text[:1] not in implicit and None not in implicit and not _RESOLVER.yaml_path_resolvers:
        return _STR  # what resolve() returns when no resolver is registered for the first character
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _simple_block_list(lines: list[str], index: int, offset: int) -> tuple[object, tuple[int, ...], int]:
    """The block list starting at *index* (None when there is none), its item lines, and the next line's index."""
    items: list[object] = []
    item_lines: list[int] = []
    indent = -1
    while index < len(lines):
        line = lines[index]
        if not line:
            index += 1
            continue
        match = _SIMPLE_ITEM.fullmatch(line)
        if match is None:
            break
        if line.endswith(" ") or (indent >= 0 and len(match[1]) != indent):
            raise _NotSimple
        indent = len(match[1])
        item_line = index + offset
        index += 1
        pair = _SIMPLE_KEY.fullmatch(match[2])
        if pair is None:
            items.append(_simple_value(match[2], item_line)[0])
        else:  # "- key: value", maybe continued by "  key: value" lines
            mapping: dict[str, object] = {}
            _simple_pair(pair, mapping, item_line)
            inner = " " * (indent + 2)
            while index < len(lines) and lines[index].startswith(inner) and lines[index][indent + 2 : indent + 3] != " ":
                pair = _SIMPLE_KEY.fullmatch(lines[index], indent + 2)
                if pair is None or lines[index].endswith(" "):
                    raise _NotSimple
                _simple_pair(pair, mapping, index + offset)
                index += 1
            items.append(mapping)
        item_lines.append(item_line)
    if not items:
        return None, (), index
    return items, tuple(item_lines), index


def _simple_pair(pair: re.Match[str], mapping: dict[str, object], line: int) -> None:
    key, value = pair[1], pair[2]
    if not value or key in mapping or _plain_tag(key) != _STR:
        raise _NotSimple
    mapping[key] = _simple_value(value, line)[0]


def _compose_plain(text: str) -> tuple[Any, yaml.Node | None] | None:
    """Compose *text* at once when it provably stays within the limits: (loader, node), else None.

    Without a "*" there is no alias, so the nodes form a tree no larger than
    the event stream. Every collection owns one of the characters ``-?:[{``
    (its bracket, or the indicator of its first entry), so their count bounds
    how deep libyaml's composer can recurse. A tree within MAX_DEPTH and
    MAX_NODES and without a duplicate key is one on which the careful path
    (_prescan, then _check_nodes) reports nothing, so its result is the same.
    Anything else, even a syntax error (whose report depends on what the
    careful path meets first), is left to the careful path.
    """
    if "*" in text or sum(map(text.count, "-?:[{")) > _PLAIN_MAX_INDICATORS:
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except Exception:  # reported by the careful path, exactly as before
        loader.dispose()
        return None
    if node is not None and not _within_limits(node):
        loader.dispose()
        return None
    return loader, node


def _within_limits(root: yaml.Node) -> bool:
    """A tree of nodes (no aliases) nested at most MAX_DEPTH collections deep, of at most MAX_NODES nodes, without duplicate keys."""
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if isinstance(node, yaml.MappingNode):
            keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
            if depth > MAX_DEPTH or len(set(keys)) < len(keys):
                return False
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            if depth > MAX_DEPTH:
                return False
            stack.extend((child, depth + 1) for child in node.value)
    return count <= MAX_NODES


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


def _construct_plain(loader: Any, node: yaml.Node) -> Any:
    """What ``loader.construct_object(node, deep=True)`` gives for a tree without aliases.

    Text, lists and mappings with text keys (the bulk of front matter) are
    built here; every other node (numbers, dates, booleans, merge keys, explicit
    tags) goes to PyYAML's own constructor.
    """
    if node.tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value
    if node.tag == _SEQ and isinstance(node, yaml.SequenceNode):
        return [_construct_plain(loader, child) for child in node.value]
    if node.tag == _MAP and isinstance(node, yaml.MappingNode) and all(key.tag == _STR and isinstance(key, yaml.ScalarNode) for key, _ in node.value):
        return {key.value: _construct_plain(loader, value) for key, value in node.value}
    return loader.construct_object(node, deep=True)


def _prescan(text: str, path: str, first_line: int) -> Problem | None:
    """Walk the parser's events (no recursion, nothing built) and stop early on
    a document nested too deeply or holding too many values.

    libyaml's composer recurses once per nesting level, so a document of
    100,000 ``[`` would overflow the C stack before any node could be checked.
    """
    depth = 0
    count = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + first_line if event.start_mark else first_line
                return error(path, line, f"YAML is nested too deeply (more than {MAX_DEPTH} levels)")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            count += 1
            if count > MAX_NODES:
                return error(path, first_line, f"YAML has more than {MAX_NODES} values")
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_nodes(root: yaml.Node, path: str, offset: int) -> list[Problem]:
    """Find duplicate keys, and refuse graphs too deep or too large once aliases are expanded.

    An alias is the same node object again, so the graph stays small while its
    expansion can be huge (a "billion laughs" document). Each distinct node's
    expanded size and height are computed once, bottom up, without recursion.
    """
    problems: list[Problem] = []
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    on_path: set[int] = set()
    where = root.start_mark.line + offset
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            children = _children(node)
            size = 1 + sum(sizes[id(child)] for child in children)
            height = 1 + max((heights[id(child)] for child in children), default=0)
            if height > MAX_DEPTH + 1:
                return [error(path, node.start_mark.line + offset, f"YAML is nested too deeply (more than {MAX_DEPTH} levels, counting aliases)")]
            if size > MAX_NODES:
                return [error(path, where, f"YAML expands to more than {MAX_NODES} values (too many aliases?)")]
            sizes[key] = size
            heights[key] = height
            continue
        if key in sizes:
            continue
        if key in on_path:
            return [error(path, node.start_mark.line + offset, "YAML value contains an alias to itself; recursive values are not allowed")]
        on_path.add(key)
        if isinstance(node, yaml.MappingNode):
            first_seen: dict[str, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    line = key_node.start_mark.line + offset
                    if key_node.value in first_seen:
                        problems.append(error(path, line, f'duplicate key "{key_node.value}" (first given on line {first_seen[key_node.value]})'))
                    else:
                        first_seen[key_node.value] = line
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)) if id(child) not in sizes)
    return problems


def _item_lines(node: yaml.Node, offset: int) -> tuple[int, ...]:
    if isinstance(node, yaml.SequenceNode):
        return tuple(child.start_mark.line + offset for child in node.value)
    if isinstance(node, yaml.MappingNode):
        return tuple(key.start_mark.line + offset for key, _ in node.value)
    return ()


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = str(node.value)
    return f'the text "{value[:60]}"' if value else "nothing"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    return lines[line][column : column + 1] if 0 <= line < len(lines) else ""


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:117] + "..."
