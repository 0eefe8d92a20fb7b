"""The YAML front matter of a README, read the way the Hub reads it.

The sandbox has its own splitter and parser, independent of spacectl's client-side helpers, so
that it checks what the client writes rather than agreeing with it by construction. Booleans
follow YAML 1.2, as the Hub's parser does (only `true`/`false`, not `yes`/`on`), and a mapping
with a duplicated key is invalid, as it is for the Hub.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml

# The front matter: a first line `---` (after optional blank space), then everything up to the
# next line that is exactly `---` (trailing blanks allowed).
_BLOCK = re.compile(r"\A\s*---[ \t]*\n(.*?)^---[ \t]*(?:\n|\Z)", re.S | re.M)
_BOOL_TAG = "tag:yaml.org,2002:bool"


class _HubLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans and duplicated keys refused."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # the base class refuses it with its own message
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicated mapping key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_HubLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_HubLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def split(text: str) -> tuple[str | None, str]:
    """(the front-matter YAML, or None when the text has none; the body after it).

    Line ends are normalised to `\\n` first."""
    text = text.replace("\r\n", "\n")
    match = _BLOCK.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :]


def front_matter(readme: bytes | None) -> dict[str, Any] | None:
    """The front matter of a README as a dict: `{}` when it is empty, None when there is none or
    it is not a valid YAML mapping."""
    if readme is None:
        return None
    block, _ = split(readme.decode("utf-8", "replace"))
    if block is None:
        return None
    try:
        data = yaml.load(block, Loader=_HubLoader)
    except yaml.YAMLError:
        return None
    if data is None:
        return {}
    return data if isinstance(data, dict) else None
