"""Documents with positions: `parse_document` (libyaml's events when it can, ruamel's parser
for the rest), the bounds, duplicate keys, and the shared YAML set-up of this package."""

from __future__ import annotations

import functools
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.main import CParser  # type: ignore[attr-defined]  # None without the C lib
from ruamel.yaml.nodes import Node, ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarbool import ScalarBoolean

from spacectl.yamlbounds import MAX_DEPTH, Expansion, check_flow_depth
from spacectl.yamlbounds import YamlLimitError as YamlLimitError
from spacectl.yamlbounds import YamlSyntaxError as YamlSyntaxError
from spacectl.yamldoc import MERGE_TAG, build_document, gc_paused
from spacectl.yamldoc import Loc as Loc

# Part of this module's API (what `parse_document` returns and raises).
from spacectl.yamldoc import YamlDocument as YamlDocument


def _add_referent(self: CommentedMap, referer: Any) -> None:
    """ruamel's `CommentedMap.add_referent` without its membership test: that test compares
    maps by value (`in` on a list), so N Spaces merging one template (`<<: *tpl`) cost N^2
    deep comparisons (5,000 Spaces: minutes). The list only tells the template which maps to
    update when it is edited; a map listed twice is updated twice, to the same effect."""
    refs = self._ref
    if not refs or refs[-1] is not referer:
        refs.append(referer)


CommentedMap.add_referent = _add_referent  # type: ignore[method-assign, assignment]

# --------------------------------------------------------------------------------------------
# Documents with positions
# --------------------------------------------------------------------------------------------


class DuplicateKeyError(Exception):
    """A key written twice in one mapping: the second `key` at `path` (which ends with it), at
    1-based `line` and `column`; the first one is at `first_line`."""

    def __init__(self, key: str, path: Loc, line: int, column: int, first_line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        self.path = path
        self.line = line
        self.column = column
        self.first_line = first_line


def parse_document(text: str) -> YamlDocument:
    """Parse one YAML document, refusing duplicate keys.

    Raises `YamlSyntaxError` when `text` is not YAML, `YamlLimitError` when it exceeds the
    bounds above (checked before anything is expanded), and `DuplicateKeyError` for the first key
    repeated in one mapping in document order. An empty document has `data` None. Parsed once:
    the data and its positions are built from the checked node graph (`yamldoc`).
    """
    with gc_paused():
        return _parse_document(text)


def _parse_document(text: str) -> YamlDocument:
    root_node = _compose_fast(text)
    _check_duplicate_keys(root_node, (), set())
    try:
        return build_document(root_node, _scalar_value)
    except MarkedYAMLError as exc:
        raise _syntax_error(exc) from None


class _Node:
    """A composed node, shaped as ruamel's (`yamlbounds` and `yamldoc` read nodes by shape)
    but with a plain `str` tag: ruamel's `Node.tag` property re-renders a `Tag` on every read,
    which was a tenth of a 5,000-Space load."""

    __slots__ = ("anchor", "id", "start_mark", "style", "tag", "value")

    def __init__(self, kind: str, tag: str, value: Any, mark: Any, style: Any = None) -> None:
        self.id = kind
        self.tag = tag
        self.value = value
        self.start_mark = mark
        self.style = style


class _NotPlain(Exception):
    """Raised by `_compose_c` for anything but a plain, well-formed, shallow document."""


_CONTAINERS: dict[type, tuple[str, str]] = {
    SequenceStartEvent: ("sequence", "tag:yaml.org,2002:seq"),
    MappingStartEvent: ("mapping", "tag:yaml.org,2002:map"),
}


def _compose_c(text: str) -> _Node | None:
    """`text` composed from libyaml's events (ruamel.yaml.clib's C parser): what ruamel's
    composer makes, in a loop instead of a recursion, with ruamel's YAML 1.2 resolver.

    Only the plain case: every oddity (a syntax error, an undefined alias, a second document,
    nesting near `MAX_DEPTH`, text libyaml cannot hand back) raises `_NotPlain`, and the caller
    composes the text again with ruamel's own parser, which reports it as it always has. So
    this adds speed (libyaml scans a 5,000-Space manifest in well under a second; ruamel's Python
    scanner spends ~100 us a token) and no behaviour. libyaml's own composer is not used: it
    recurses in C and crashes the process on `- - - - ...` nested 100,000 deep."""
    parser = CParser(text)
    resolver = _C_RESOLVER
    resolved: dict[tuple[str, Any], str] = {}  # (plain text, implicit) -> tag: most repeat
    anchors: dict[str, _Node] = {}
    stack: list[_Node] = []
    pending: list[_Node | None] = []  # per open mapping: its key still waiting for a value
    root: _Node | None = None
    documents = 0
    try:
        while (event := parser.get_event()) is not None:
            kind = type(event)
            if kind is ScalarEvent:
                tag = event.ctag
                if tag is None or tag == "!":
                    key = (event.value, event.implicit)
                    tag = resolved.get(key)
                    if tag is None:
                        tag = resolved[key] = str(
                            resolver.resolve(ScalarNode, event.value, event.implicit)
                        )
                node = _Node("scalar", tag, event.value, event.start_mark, event.style)
            elif kind in _CONTAINERS:
                name, default = _CONTAINERS[kind]
                tag = event.ctag
                node = _Node(
                    name, default if tag is None or tag == "!" else tag, [], event.start_mark
                )
            elif kind is AliasEvent:
                node = anchors.get(event.anchor)  # type: ignore[assignment]
                if node is None:
                    raise _NotPlain
            elif kind is SequenceEndEvent or kind is MappingEndEvent:
                if stack.pop().id == "mapping":
                    pending.pop()
                continue
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1 or event.version is not None:  # %YAML: ruamel's resolver
                    raise _NotPlain
                continue
            else:  # stream start and end, document end
                continue
            if len(stack) >= MAX_DEPTH:
                raise _NotPlain
            anchor = getattr(event, "anchor", None)
            if anchor is not None and kind is not AliasEvent:
                anchors[anchor] = node
            if not stack:
                root = node
            elif stack[-1].id == "sequence":
                stack[-1].value.append(node)
            elif pending[-1] is None:
                pending[-1] = node
            else:
                stack[-1].value.append((pending[-1], node))
                pending[-1] = None
            if kind in _CONTAINERS:
                stack.append(node)
                if node.id == "mapping":
                    pending.append(None)
    except (YAMLError, ValueError):  # ValueError: text libyaml cannot hand back, e.g. "\\udcff"
        raise _NotPlain from None
    finally:
        parser.dispose()
    return root


_C_RESOLVER = VersionedResolver()  # YAML 1.2's implicit types, as the round-trip loader's


def _compose_fast(text: str) -> Any:
    """`_compose_bounded` through libyaml when ruamel.yaml.clib is installed (`_compose_c`),
    else, and for every text it declines, through ruamel's own parser (the messages and
    positions errors have always had). libyaml needs no `check_flow_depth`: deep flow nesting
    costs it nothing before `_compose_c` declines it."""
    root_node: Any = None
    try:
        if CParser is None:
            raise _NotPlain
        root_node = _compose_c(text)
    except _NotPlain:
        return _compose_bounded(_manifest_yaml(), text)
    if root_node is not None:
        Expansion().measure(root_node, 1)
    return root_node


@functools.cache
def _safe_constructor() -> Any:
    """One constructor for scalar values (numbers, booleans, null, dates): making a YAML
    instance costs more than many scalars. Loading is single-threaded here."""
    return YAML(typ="safe", pure=True).constructor


def _scalar_value(node: Any) -> Any:
    """The value of a scalar that is no string (numbers, booleans, null, dates), as ruamel's
    safe constructor reads it; it takes ruamel's own node type only."""
    if not isinstance(node, ScalarNode):
        node = ScalarNode(node.tag, node.value, node.start_mark, None, style=node.style or None)
    return _safe_constructor().construct_non_recursive_object(node)


def _compose_bounded(yaml: YAML, text: str) -> Node | None:
    """`text` composed into a node graph (aliases still shared), checked against the bounds
    (`YamlLimitError`) before anything is expanded; `YamlSyntaxError` when it is not YAML."""
    check_flow_depth(text)
    yaml.max_depth = MAX_DEPTH
    try:
        root_node: Node | None = yaml.compose(text)
    except MaxDepthExceededError as exc:
        raise _depth_error(exc) from None
    except MarkedYAMLError as exc:
        raise _syntax_error(exc) from None
    except YAMLError as exc:  # reader errors (e.g. control characters) carry no mark
        raise YamlSyntaxError(" ".join(str(exc).split()), 1, 1) from None
    if root_node is not None:
        Expansion().measure(root_node, 1)
    return root_node


def _depth_error(exc: MaxDepthExceededError) -> YamlLimitError:
    mark = exc.problem_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return YamlLimitError(f"Collections nested more than {MAX_DEPTH} levels deep.", line, col)


def _construct(yaml: YAML, root_node: Node | None) -> Any:
    """The data of a checked node graph (`_compose_bounded`), without parsing the text again."""
    if root_node is None:
        return None
    try:
        return yaml.constructor.construct_document(root_node)
    except MarkedYAMLError as exc:  # compose succeeded, so this is a constructor-level problem
        raise _syntax_error(exc) from None
    except ValueError as exc:  # an integer beyond Python's digit limit, say
        mark = root_node.start_mark
        raise YamlSyntaxError(" ".join(str(exc).split()), mark.line + 1, 1) from None


def kind_of(value: Any) -> str:
    """A value's kind as messages name it: "a list", "a string", "a boolean", "a number"..."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (bool, ScalarBoolean)):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def _manifest_yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps line/column of every key and item
    yaml.allow_duplicate_keys = False
    return yaml


def _syntax_error(exc: MarkedYAMLError) -> YamlSyntaxError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = " ".join((exc.problem or "invalid YAML").split())
    context = ""
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        context = (
            f" ({exc.context} started at line {exc.context_mark.line + 1}, "
            f"column {exc.context_mark.column + 1})"
        )
    return YamlSyntaxError(problem + context, line, col)


def _check_duplicate_keys(node: Any, loc: Loc, seen: set[int]) -> None:
    """Raise on the first key repeated in one mapping, in document order.

    Done on the composed node tree, not by ruamel's constructor, because the constructor's message
    quotes both values (which could be a pasted secret) and does not know the key's path.
    """
    if node is None or id(node) in seen:  # aliases share nodes; anchors may even be recursive
        return
    seen.add(id(node))
    if node.id == "mapping":
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.id != "scalar" or str(key_node.tag) == MERGE_TAG:
                _check_duplicate_keys(value_node, loc, seen)
                continue
            key = str(key_node.value)
            if key in first_line:
                mark = key_node.start_mark
                raise DuplicateKeyError(
                    key, (*loc, key), mark.line + 1, mark.column + 1, first_line[key]
                )
            first_line[key] = key_node.start_mark.line + 1
            _check_duplicate_keys(value_node, (*loc, key), seen)
    elif node.id == "sequence":
        for index, item in enumerate(node.value):
            _check_duplicate_keys(item, (*loc, index), seen)


def _plain(value: Any) -> Any:
    """ruamel's round-trip types -> plain Python (dict keeps order, merge keys applied)."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, ScalarBoolean)):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value  # None, dates, tagged scalars: left for the caller to reject where not allowed
