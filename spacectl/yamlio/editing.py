"""Editing a manifest in place (`spacectl import`): comments, key order, quotes, anchors and
indentation of everything not edited come back byte for byte."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from spacectl.errors import ManifestError
from spacectl.yamlio.documents import _plain, parse_document
from spacectl.yamlio.frontmatter import _guess_indent, _same_value


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
