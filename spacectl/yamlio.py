"""YAML in and out: the only home of ruamel.yaml (style rule R1).

Three uses, each behind a small API of plain data; no ruamel type leaves this module:
- `parse_document(text) -> YamlDocument`: a document as plain Python data that still answers
  where each key and item was written (the manifest loader's FILE:LINE:COL messages). Syntax
  errors and duplicate keys raise `YamlSyntaxError` and `DuplicateKeyError`, 1-based positions.
- front matter: `load_front_matter` and `merge_front_matter` read and round-trip edit the YAML of
  a README's front matter, keeping comments, key order, quotes and indentation.
- `spacectl import`: `merge_spaces_into_manifest` edits a manifest in place, so that comments,
  key order, quotes, anchors and indentation of everything not edited come back byte for byte.
"""

from __future__ import annotations

import functools
import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
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
from ruamel.yaml.tokens import CommentToken

from spacectl.errors import ConfigError, ManifestError
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


# --------------------------------------------------------------------------------------------
# README front matter: the YAML between the `---` lines (`card.py` splits the README).
# --------------------------------------------------------------------------------------------


def load_front_matter(yaml_text: str, *, source: str = "README.md") -> dict[str, Any]:
    """Parse front-matter YAML into plain Python data; `{}` when empty.

    Raises `ConfigError` naming `source` when the YAML is invalid or not a mapping.
    """
    if not yaml_text.strip():
        return {}
    try:
        with gc_paused():
            root = _compose_fast(yaml_text)
            _check_duplicate_keys(root, (), set())
            data = build_document(root, _scalar_value).data
    except (YamlSyntaxError, DuplicateKeyError, MarkedYAMLError):
        # The round-trip loader says what is wrong, as it always has (or, should it read the
        # text after all, gives the data).
        return dict(_plain(_load_front_matter_map(yaml_text, source)))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: front matter must be a mapping, got {kind_of(data)}.")
    return data


def merge_front_matter(
    yaml_text: str,
    updates: Mapping[str, Any],
    *,
    source: str = "README.md",
    remove: Iterable[str] = (),
) -> str:
    """Set `updates` in front-matter YAML and drop the `remove` keys, keeping everything else
    (order, comments, quotes).

    Existing keys keep their place; new keys are appended in `updates` order. When every update
    already holds, `yaml_text` is returned unchanged (byte for byte), so that a README already in
    sync never shows a diff. Output is deterministic and ends with a newline.
    """
    # Checked on plain data first: the round-trip loader costs ~100 times more, and a plan of
    # 5,000 Spaces whose cards are in sync need not pay it 5,000 times.
    plain = load_front_matter(yaml_text, source=source)
    if not any(key in plain and key not in updates for key in remove) and all(
        key in plain and _same_value(plain[key], value) for key, value in updates.items()
    ):
        return yaml_text
    data = _load_front_matter_map(yaml_text, source)
    changed = False
    for key in remove:
        if key in data and key not in updates:
            del data[key]
            changed = True
    for key, value in updates.items():
        if key in data and _same_value(_plain(data[key]), value):
            continue
        data[key] = value
        changed = True
    if not changed:
        return yaml_text
    indent, seq_offset = _guess_indent(yaml_text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long short_description
    yaml.indent(mapping=indent, sequence=seq_offset + 2, offset=seq_offset)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _guess_indent(yaml_text: str) -> tuple[int, int]:
    """(mapping indent, offset of a sequence's dash under its key) as the text uses them.

    ruamel re-indents the whole document on dump; matching the author's style keeps a one-key
    change a one-line diff. Defaults are the Hub's README template style (`tags:` then `- a`).
    """
    indent: int | None = None
    seq_offset: int | None = None
    lines = [
        line
        for line in yaml_text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for parent, child in itertools.pairwise(lines):
        if not parent.rstrip().endswith(":"):
            continue
        depth = (len(child) - len(child.lstrip())) - (len(parent) - len(parent.lstrip()))
        if child.lstrip().startswith("-"):
            seq_offset = depth if seq_offset is None else seq_offset
        elif depth > 0:
            indent = depth if indent is None else indent
    return indent or 2, max(seq_offset or 0, 0)


def _load_front_matter_map(yaml_text: str, source: str) -> CommentedMap:
    if not yaml_text.strip():
        return CommentedMap()
    yaml = YAML()
    yaml.preserve_quotes = True
    try:
        # The same bounds as a manifest: a README is data from a source folder too.
        data = _construct(yaml, _compose_bounded(yaml, yaml_text))
    except YamlSyntaxError as exc:
        at = f" (line {exc.line + 1} of the file)"
        problem = exc.message.rstrip(".")
        raise ConfigError(f"{source}: front matter is not valid YAML: {problem}{at}.") from None
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{source}: front matter must be a mapping, got {kind_of(data)}.")
    return data


def _same_value(a: Any, b: Any) -> bool:
    """Equality that tells `true` from `1` (Python's `True == 1` would hide a change)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# --------------------------------------------------------------------------------------------
# Editing a manifest in place (`spacectl import`)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeResult:
    """The edited manifest text and what happened to each Space id given."""

    text: str
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


def read_manifest_document(text: str) -> dict[str, Any]:
    """The manifest as plain data (merge keys applied), for tools that compute edits.

    The caller validates the text first (`parse_manifest`); this only parses it.
    """
    doc = parse_document(text).data
    return doc if isinstance(doc, dict) else {}


def new_manifest_text(owner: str, header: Sequence[str]) -> str:
    """A manifest with no Spaces yet, each `header` line as a comment on top."""
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header)
    return f"{comments}version: 1\nowner: {owner}\n\nspaces: {{}}\n"


def merge_spaces_into_manifest(
    text: str,
    entries: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    managed: Sequence[str],
    section: Sequence[str] = ("spaces",),
) -> MergeResult:
    """Write each `(space_id, entry)` into the manifest `text` and return the new text.

    `section` is the path of the mapping of Space entries written into: `spaces`, or an
    environment's `environments.NAME.spaces` (whose keys are the keys in `spaces`; the
    mappings on the way must exist but the last).

    - A Space already declared (key `name` in the manifest's owner, or `owner/name`) is edited in
      place: for each field of `managed`, a value equal to what the entry has (merge keys and
      all) is left untouched; a different one is replaced (mappings key by key, so comments on
      unchanged keys stay); a field the entry lacks is removed when the Space sets it itself.
      Fields outside `managed` (`source`, `protect`, ...) are never touched.
    - Other Spaces are appended at the end of `spaces:`, keyed by bare name when they belong to
      the manifest's owner, else by `owner/name`, fields in entry order.

    Nothing else changes: a manifest whose entries already match comes back byte for byte.
    Raises `ManifestError` when `text` has no `spaces` mapping to write into.
    """
    yaml = _editing_yaml(text)
    doc = yaml.load(text)
    _keep_anchors(doc, set())
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("owner"), str):
        raise ManifestError("The manifest has no 'owner' to import into.")
    parent = doc
    for part in section[:-1]:
        parent = parent.get(part)
        if not isinstance(parent, CommentedMap):
            raise ManifestError(f"'{'.'.join(section)}' must be a mapping to import into.")
    spaces = parent.get(section[-1])
    if spaces is None or (isinstance(spaces, CommentedMap) and not spaces):
        spaces = CommentedMap()
        parent[section[-1]] = spaces
    if not isinstance(spaces, CommentedMap):
        raise ManifestError(f"'{'.'.join(section)}' must be a mapping to import into.")
    spaces.fa.set_block_style()
    owner = str(doc["owner"])
    # Matched case-insensitively, as the Hub resolves names: `docs` in the file is `Docs` there.
    keys = {_space_id_of(str(key), owner).lower(): key for key in spaces}
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for space_id, entry in entries:
        key = keys.get(space_id.lower())
        if key is None:
            space_owner, name = space_id.split("/", 1)
            key = name if space_owner.lower() == owner.lower() else space_id
            first = not spaces
            spaces[key] = _to_yaml(entry)
            if not first:  # a blank line between Spaces, as people write them
                spaces.yaml_set_comment_before_after_key(key, before="\n", indent=2)
            added.append(space_id)
            continue
        current = spaces[key]
        if current is None:
            current = CommentedMap()
            spaces[key] = current
        if not isinstance(current, CommentedMap):
            raise ManifestError(f"spaces.{key} must be a mapping to import into.")
        # Comment lines after an entry's last line belong to what follows (the next Space);
        # keep them after the entry's last line even when the edit appends fields to it.
        trailing = _detach_trailing_lines(current)
        changed = _edit_map(current, entry, fields=managed)
        _attach_trailing_lines(current, trailing)
        if changed:
            updated.append(space_id)
        else:
            unchanged.append(space_id)
    if not added and not updated:
        return MergeResult(text, (), (), tuple(unchanged))
    out = io.StringIO()
    yaml.dump(doc, out)
    return MergeResult(out.getvalue(), tuple(added), tuple(updated), tuple(unchanged))


def _editing_yaml(text: str) -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-fold a long line the author wrote on one line
    indent, seq_offset = _guess_indent(text)
    if not any(line.lstrip().startswith("- ") for line in text.splitlines()):
        seq_offset = 2  # no block list to copy the style from: the examples' style
    yaml.indent(mapping=indent, sequence=seq_offset + 2, offset=seq_offset)
    return yaml


def _keep_anchors(node: Any, seen: set[int]) -> None:
    """Mark every anchor to be written back: ruamel drops the ones no alias uses (`x-` templates
    kept for later), which would change lines nobody edited."""
    if id(node) in seen:
        return
    seen.add(id(node))
    anchor = getattr(node, "anchor", None)
    if anchor is not None and getattr(anchor, "value", None):
        anchor.always_dump = True
    if isinstance(node, dict):
        for key, value in node.items():
            _keep_anchors(key, seen)
            _keep_anchors(value, seen)
    elif isinstance(node, list):
        for item in node:
            _keep_anchors(item, seen)


def _space_id_of(key: str, owner: str) -> str:
    return key if "/" in key else f"{owner}/{key}"


def _own_keys(node: CommentedMap) -> set[Any]:
    """Keys written in `node` itself, not brought in by `<<:`."""
    own = getattr(node, "_ok", None)
    return set(own) if own is not None else set(node)


def _edit_map(
    node: CommentedMap, wanted: Mapping[str, Any], *, fields: Sequence[str] | None
) -> bool:
    """Make `node` hold `wanted` for `fields` (all keys of both when None); True if it changed."""
    changed = False
    names = list(fields) if fields is not None else [*node.keys(), *wanted.keys()]
    for name in dict.fromkeys(names):
        if name not in wanted:
            if name in _own_keys(node):
                del node[name]
                changed = True
            continue
        value = wanted[name]
        if name in node and _same_value(_plain(node[name]), value):
            continue
        current = node.get(name)
        if (
            name in _own_keys(node)
            and isinstance(current, CommentedMap)
            and isinstance(value, Mapping)
        ):
            _edit_map(current, value, fields=None)
        else:
            node[name] = _to_yaml(value)
        changed = True
    return changed


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """(container, key, index in `ca.items[key]`) of the comment after a block collection's last
    line, descending into nested block collections; None for an empty or flow collection."""
    while isinstance(node, (CommentedMap, CommentedSeq)) and node and not node.fa.flow_style():
        key = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
        slot = 2 if isinstance(node, CommentedMap) else 0
        value = node[key]
        nested = isinstance(value, (CommentedMap, CommentedSeq)) and value
        if not nested or value.fa.flow_style():
            return node, key, slot
        node = value
    return None


def _detach_trailing_lines(node: CommentedMap) -> str:
    """Remove and return the full comment lines after `node`'s last line (not its end-of-line
    comment); '' when there are none."""
    where = _last_slot(node)
    if where is None:
        return ""
    container, key, slot = where
    tokens = container.ca.items.get(key)
    token = tokens[slot] if tokens else None
    if token is None or "\n" not in token.value:
        return ""
    head, rest = token.value.split("\n", 1)
    if not rest:
        return ""
    if head.strip():
        token.value = head + "\n"
    else:
        tokens[slot] = None
    return str(rest)


def _attach_trailing_lines(node: CommentedMap, lines: str) -> None:
    where = _last_slot(node)
    if not lines or where is None:
        return
    container, key, slot = where
    tokens = container.ca.items.setdefault(key, [None, None, None, None])
    if tokens[slot] is not None:
        tokens[slot].value += lines
    else:
        tokens[slot] = CommentToken("\n" + lines, CommentMark(0), None)


def _to_yaml(value: Any) -> Any:
    """Plain data -> ruamel nodes: block mappings, except one-line secret references
    (`{from_env: KEY}`), and one-line lists of scalars (`[a, b]`)."""
    if isinstance(value, Mapping):
        node = CommentedMap((k, _to_yaml(v)) for k, v in value.items())
        if "from_env" in value:
            node.fa.set_flow_style()
        else:
            node.fa.set_block_style()
        return node
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(_to_yaml(v) for v in value)
        if all(not isinstance(v, (Mapping, list, tuple)) for v in value):
            seq.fa.set_flow_style()
        else:
            seq.fa.set_block_style()
        return seq
    return value
