"""YAML in and out: the only home of ruamel.yaml (style rule R1), a package.

Three uses, each behind a small API of plain data; no ruamel type leaves this package:
- `parse_document(text) -> YamlDocument` (`documents.py`): a document as plain Python data that
  still answers where each key and item was written (the manifest loader's FILE:LINE:COL
  messages). Syntax errors and duplicate keys raise `YamlSyntaxError` and `DuplicateKeyError`,
  1-based positions.
- front matter (`frontmatter.py`): `load_front_matter` and `merge_front_matter` read and round-trip
  edit the YAML of a README's front matter, keeping comments, key order, quotes and indentation.
- `spacectl import` (`editing.py`): `merge_spaces_into_manifest` edits a manifest in place, so
  that comments, key order, quotes, anchors and indentation of everything not edited come back
  byte for byte.
"""

from __future__ import annotations

from spacectl.yamlio.documents import (
    DuplicateKeyError,
    Loc,
    YamlDocument,
    YamlLimitError,
    YamlSyntaxError,
    kind_of,
    parse_document,
)
from spacectl.yamlio.editing import (
    MergeResult,
    merge_spaces_into_manifest,
    new_manifest_text,
    read_manifest_document,
)
from spacectl.yamlio.frontmatter import load_front_matter, merge_front_matter

__all__ = [
    "DuplicateKeyError",
    "Loc",
    "MergeResult",
    "YamlDocument",
    "YamlLimitError",
    "YamlSyntaxError",
    "kind_of",
    "load_front_matter",
    "merge_front_matter",
    "merge_spaces_into_manifest",
    "new_manifest_text",
    "parse_document",
    "read_manifest_document",
]
