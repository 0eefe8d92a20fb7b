"""`ignore_changes`: which field paths of a Space humans own (Terraform's `ignore_changes`).

A pattern names field paths as the plan spells them (`hardware`, `variables.DEMO_MODE`,
`volumes[/data]`, `card.title`, `secrets.API_KEY`, `files/data/x.csv`): `*` matches within one
name or folder, `**` across folders, and a pattern also covers everything below the path it
names (`card` covers `card.title`, `files/data` every file in `data/`). Everything else in a
pattern is literal (`[` included). Pure: no I/O, no third-party import (the loader uses it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from spacectl.manifest import IGNORABLE


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*)", pattern)
    body = "".join(
        ".*" if part == "**" else r"[^/.\[\]]*" if part == "*" else re.escape(part)
        for part in parts
    )
    # A path below the one named: `card` covers `card.title`, `volumes` `volumes[/data].x`.
    return re.compile(rf"{body}(?:[./\[].*)?", re.DOTALL)


def is_ignored(path: str, patterns: Iterable[str]) -> bool:
    """Whether the plan's field `path` is one `ignore_changes` hands over to humans."""
    return any(_regex(pattern).fullmatch(path) for pattern in patterns)


def pattern_problem(pattern: str) -> str:
    """Why `pattern` cannot be an `ignore_changes` entry ('' when it can): it must start with
    an attribute spacectl manages, followed by nothing or by a path below it."""
    head = re.match(r"[a-z_]*", pattern)
    name = head.group(0) if head else ""
    rest = pattern[len(name) :]
    if name not in IGNORABLE or (rest and rest[0] not in "./["):
        return (
            f"Unknown field '{pattern}'; ignore_changes names fields such as hardware, "
            f"variables.KEY, secrets.*, files/PATH (one of: {', '.join(IGNORABLE)})."
        )
    if name == "files" and rest and rest[0] != "/":
        return f"Write files patterns as files/PATH, not '{pattern}'."
    return ""


def hold(
    want: Any, have: Any, path_of: Callable[[tuple[Any, ...]], str], patterns: Iterable[str]
) -> Any:
    """`want` with every ignored part replaced by the Hub's value (dropped where the Hub has
    none), so an operation that writes a whole value (the volume set, the card in README.md)
    writes the ignored parts back as they are. `path_of` spells a key path as the plan does."""
    patterns = tuple(patterns)

    def walk(want: Any, have: Any, parts: tuple[Any, ...]) -> Any:
        if is_ignored(path_of(parts), patterns):
            return have
        if not isinstance(want, Mapping) or not isinstance(have, Mapping):
            return want
        out: dict[Any, Any] = {}
        for key in [*want, *(k for k in have if k not in want)]:
            if key in want:
                value = walk(want[key], have.get(key, _NONE), (*parts, key))
                if value is not _NONE:
                    out[key] = value
            elif is_ignored(path_of((*parts, key)), patterns):
                out[key] = have[key]
        return out

    return walk(want, have, ())


_NONE: Any = object()  # no value on the Hub: an ignored key the Hub lacks is dropped
