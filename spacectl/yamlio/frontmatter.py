"""README front matter: the YAML between the `---` lines (`card.py` splits the README), read
and round-trip edited."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from spacectl.errors import ConfigError
from spacectl.yamlbounds import YamlSyntaxError
from spacectl.yamldoc import build_document, gc_paused
from spacectl.yamlio.documents import (
    DuplicateKeyError,
    _check_duplicate_keys,
    _compose_bounded,
    _compose_fast,
    _construct,
    _plain,
    _scalar_value,
    kind_of,
)


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
