"""A YAML document as plain Python data that still answers where each part was written.

Built in one pass over a composed node graph (`yamlio` composes it with ruamel and checks it
against `yamlbounds` first), so the manifest loader gets its FILE:LINE:COL positions without
ruamel's round-trip types: no per-key comment bookkeeping, no `CommentedMap` per mapping. Like
`yamlbounds`, this module imports no YAML library and reads nodes by their shape (`id` is
"scalar", "sequence" or "mapping"; `value`; `tag`; `start_mark` with 0-based `line`, `column`);
scalars other than strings are turned into values by a function the caller passes.

The data is what ruamel's round-trip loader gives once made plain: dicts in file order, a
mapping's own keys first and then the keys its merge keys (`<<:`) bring in (the first source
winning), lists, str, int, float, bool, None, dates. Positions are those of the node that
wrote each key or item, so a key a merge key brings in is found where its anchor wrote it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from spacectl.yamlbounds import YamlSyntaxError

# A path into a document: mapping keys and list indexes from the root.
Loc = tuple[str | int, ...]

MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = frozenset(("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"))

# The value of a non-string scalar node (int, float, bool, None, a date).
ScalarValue = Callable[[Any], Any]


class _Number(NamedTuple):
    """A plain number scalar as written, and the value it reads as."""

    text: str
    value: Any


# Where things were written, 0-based, parallel to the data:
# - a mapping: {key: (key line, key column, value line, value column, the value's _Where)}
# - a list: [(item line, item column, the item's _Where), ...]
# - a plain number: _Number; any other scalar: None.
_Where = dict[Any, tuple[int, int, int, int, Any]] | list[tuple[int, int, Any]] | _Number | None


class YamlDocument:
    """A parsed YAML document (made by `yamlio.parse_document`): `data` as plain Python, plus
    where each part was written. Positions are 1-based (line, column)."""

    def __init__(self, data: Any, where: _Where, start: tuple[int, int]) -> None:
        self.data: Any = data
        self._where = where
        self._start = start  # 0-based, of the root node

    def position(self, path: Loc) -> tuple[int, int]:
        """Where `path` was written (a mapping entry's key, a list's item), else where its deepest
        existing part was; the document's start when not even the first part exists."""
        _, (line, col), _ = self._walk(path)
        return line + 1, col + 1

    def has(self, path: Loc) -> bool:
        """Whether every part of `path` exists."""
        return self._walk(path)[2] == len(path)

    def number_text(self, path: Loc, value: float) -> str | None:
        """The text of the number at `path` as written (`1.10`, `007`) when it reads back as
        `value`; None when `path` is not a mapping entry or holds no such plain scalar."""
        parent, _, depth = self._walk(path[:-1])
        if depth != len(path) - 1 or not isinstance(parent, dict) or path[-1] not in parent:
            return None
        number = parent[path[-1]][4]
        if not isinstance(number, _Number) or isinstance(number.value, bool):
            return None
        same = number.value == value or number.value != number.value  # NaN != NaN
        return number.text if same else None

    def _walk(self, path: Loc) -> tuple[Any, tuple[int, int], int]:
        """Follow `path` as far as it exists: (last part's _Where, its 0-based position, parts
        consumed)."""
        where: Any = self._where
        pos = self._start
        for depth, part in enumerate(path):
            if isinstance(where, dict) and part in where:
                line, col, _, _, where = where[part]
            elif isinstance(where, list) and isinstance(part, int) and 0 <= part < len(where):
                line, col, where = where[part]
            else:
                return where, pos, depth
            pos = (line, col)
        return where, pos, len(path)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (back as it was after): loading a
    manifest makes ~30 objects a value and drops none, so each collection would walk them all
    for nothing (5,000 Spaces: 40 % of the load). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_document(root: Any, scalar: ScalarValue) -> YamlDocument:
    """The document of a composed and checked node graph (`root` None: an empty document).

    Raises `YamlSyntaxError` for what composes but is no data: a merge key merging a scalar, a
    number Python cannot hold, a date that does not exist. Aliased nodes are
    built again at each use, as a copy: the bounds checked before make that cheap enough."""
    if root is None:
        return YamlDocument(None, None, (0, 0))
    builder = _Builder(scalar)
    data, where = builder.build(root)
    return YamlDocument(data, where, (root.start_mark.line, root.start_mark.column))


class _Builder:
    def __init__(self, scalar: ScalarValue) -> None:
        self._scalar = scalar
        # (tag, text) -> value: numbers, booleans, null and dates are immutable, and repeat.
        self._values: dict[tuple[str, str], Any] = {}

    def build(self, node: Any) -> tuple[Any, _Where]:
        if node.id == "scalar":
            return self._scalar_of(node)
        if node.id == "sequence":
            items = [self.build(item) for item in node.value]
            marks = (item.start_mark for item in node.value)
            where = [(m.line, m.column, w) for m, (_, w) in zip(marks, items, strict=True)]
            return [value for value, _ in items], where
        return self._mapping(node)

    def _scalar_of(self, node: Any) -> tuple[Any, _Where]:
        tag = str(node.tag)
        if tag in (_STR_TAG, MERGE_TAG):  # `<<` as a value is the text "<<"
            return str(node.value), None
        try:
            key = (tag, node.value)
            value = self._values[key] if key in self._values else self._scalar(node)
            self._values[key] = value
        except ValueError as exc:  # an integer beyond Python's digit limit, say
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
            raise YamlSyntaxError(" ".join(str(exc).split()), line, column) from None
        if tag in _NUMBER_TAGS and not node.style:  # plain: None from ruamel, "" from libyaml
            return value, _Number(str(node.value), value)
        return value, None

    def _mapping(self, node: Any) -> tuple[dict[Any, Any], _Where]:
        data: dict[Any, Any] = {}
        where: dict[Any, tuple[int, int, int, int, Any]] = {}
        merged: list[tuple[dict[Any, Any], dict[Any, Any]]] = []
        for key_node, value_node in node.value:
            if key_node.id == "scalar" and str(key_node.tag) == MERGE_TAG:
                merged.extend(self._merge_sources(node, value_node))
                continue
            key = _hashable(self.build(key_node)[0])
            value, value_where = self.build(value_node)
            data[key] = value
            k, v = key_node.start_mark, value_node.start_mark
            where[key] = (k.line, k.column, v.line, v.column, value_where)
        for source, source_where in merged:  # in priority order: the first source wins
            for key, value in source.items():
                if key not in data:
                    data[key] = value
                    where[key] = source_where[key]
        return data, where

    def _merge_sources(self, node: Any, value_node: Any) -> list[tuple[dict[Any, Any], Any]]:
        """The mappings a merge key's value names, as (data, _Where), in priority order."""
        if value_node.id == "mapping":
            return [self._mapping(value_node)]
        if value_node.id == "sequence":
            sources = []
            for item in value_node.value:
                if item.id != "mapping":
                    raise _merge_error(node, item, "expected a mapping for merging")
                sources.append(self._mapping(item))
            return sources
        raise _merge_error(node, value_node, "expected a mapping or list of mappings for merging")


def _merge_error(node: Any, found: Any, expected: str) -> YamlSyntaxError:
    """ruamel's message for a bad merge key, with its positions."""
    start, mark = node.start_mark, found.start_mark
    context = f"while constructing a mapping started at line {start.line + 1}, column "
    return YamlSyntaxError(
        f"{expected}, but found {found.id} ({context}{start.column + 1})",
        mark.line + 1,
        mark.column + 1,
    )


def _hashable(key: Any) -> Any:
    """A key that is a collection (`? [a, b]`) as a tuple, so that it can key a dict (the checks
    then report it as a key that is not text)."""
    if isinstance(key, list):
        return tuple(_hashable(item) for item in key)
    if isinstance(key, dict):
        return tuple((_hashable(k), _hashable(v)) for k, v in key.items())
    return key
