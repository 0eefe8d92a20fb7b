"""Bounds on what a YAML document may make spacectl build, checked before anything is expanded,
so that a few hundred hostile bytes (an alias bomb, deep nesting) are refused in milliseconds
instead of taking minutes and gigabytes. Used by `yamlio` (ruamel's home) on the node graph it
composes; this module imports no YAML library: it reads nodes by their shape (`value` a str for
a scalar, a list of nodes for a sequence, a list of (key, value) pairs for a mapping; `tag`;
`start_mark`).
"""

from __future__ import annotations

import re
from typing import Any

# A manifest of 5,000 Spaces is about 100,000 values and 6 levels deep.
MAX_DEPTH = 32  # nested collections, counting those an alias brings in
MAX_VALUES = 1_000_000  # collections and scalars once every alias is expanded
MAX_ALIASES = 100_000  # `*name` uses written in the text
_SURROGATE = re.compile("[\ud800-\udfff]")
# Tags a manifest may carry: YAML's plain types, as the resolver gives them implicitly. Any other
# (`!!python/object`, `!!binary`, `!custom`) is refused rather than left to a constructor.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")
)


class YamlSyntaxError(Exception):
    """Text that is not YAML: `message` on one line (what is wrong, and the construct it was
    found in), at 1-based `line` and `column` (1, 1 when the parser gives no position)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class YamlLimitError(YamlSyntaxError):
    """YAML that is valid but asks for more than a manifest may: deeper than `MAX_DEPTH`, more
    than `MAX_VALUES` values once aliases are expanded, more than `MAX_ALIASES` aliases, or a
    tag other than the plain types. `message` is the whole sentence (not prefixed "Invalid
    YAML")."""


def check_flow_depth(text: str) -> None:
    """Refuse flow collections (`[[[[...`) nested deeper than `MAX_DEPTH`, from the text alone.

    ruamel's scanner spends time in proportion to the open flow levels on every token, so
    `[` x 100,000 costs seconds before its own depth bound (`max_depth`, checked as nodes are
    composed) is reached. This counts brackets outside quotes and comments, which is the flow
    depth for every document a person writes; a document it misjudges still meets `max_depth`.
    """
    depth = 0
    quote = ""
    line, column = 1, 0
    previous = "\n"
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
            if quote == "#":
                quote = ""
        elif quote:
            if char == quote and quote != "#":
                quote = ""
        elif char in "'\"" and previous in " \t\n[{,:":
            quote = char
        elif char == "#" and previous in " \t\n":
            quote = "#"
        elif char in "[{" and (depth or previous in " \t\n-:?"):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlLimitError(
                    f"Collections nested more than {MAX_DEPTH} levels deep.", line, column
                )
        elif char in "]}" and depth:
            depth -= 1
        previous = char


class Expansion:
    """The size a composed node graph has once its aliases are expanded, measured on the graph
    (shared nodes once each), refusing at the first node past a bound and any tag outside
    `_PLAIN_TAGS`."""

    def __init__(self) -> None:
        self.sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)
        self.aliases = 0

    def measure(self, node: Any, depth: int) -> tuple[int, int]:
        known = self.sizes.get(id(node))
        if known is not None:  # a node met again is an alias
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _limit(node, f"More than {MAX_ALIASES:,} aliases.")
            if depth - 1 + known[1] > MAX_DEPTH:
                raise _limit(
                    node,
                    f"Aliases nest collections more than {MAX_DEPTH} levels deep "
                    "(or refer to themselves).",
                )
            return known
        if depth > MAX_DEPTH:  # also an alias to an anchor still open: a recursive document
            raise _limit(node, f"Collections nested more than {MAX_DEPTH} levels deep.")
        tag = str(node.tag)
        if tag not in _PLAIN_TAGS:
            raise _limit(node, f"The tag '{node.tag}' is not allowed in a manifest.")
        if isinstance(node.value, str) and _SURROGATE.search(node.value):
            # A "\udcff" escape: not text, so no Hub field can hold it, and no stream print it.
            raise _limit(node, "A string holds a lone surrogate (a \\u escape that is no text).")
        values, height = 1, 1
        children: list[Any] = []
        if isinstance(node.value, list):  # a mapping's value is (key, value) pairs
            children = [
                p for item in node.value for p in (item if isinstance(item, tuple) else (item,))
            ]
        self.sizes[id(node)] = (values, MAX_DEPTH + 1)  # until measured: a cycle is too deep
        for child in children:
            child_values, child_height = self.measure(child, depth + 1)
            values += child_values
            height = max(height, child_height + 1)
            if values > MAX_VALUES:
                raise _limit(
                    node,
                    f"Aliases here expand to more than {MAX_VALUES:,} values (an alias bomb?).",
                )
        self.sizes[id(node)] = (values, height)
        return values, height


def _limit(node: Any, message: str) -> YamlLimitError:
    mark = node.start_mark
    return YamlLimitError(message, mark.line + 1, mark.column + 1)
