"""`.gitignore` and `.gitattributes` patterns, with the common parts of git's semantics."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase


class GitPatterns:
    """Patterns of a `.gitignore`, or the paths of `.gitattributes` rules.

    A pattern without `/` matches a name at any depth; one with `/` matches from the root
    (`**` spans folders); a trailing `/` matches a folder and everything under it; `!`
    re-includes; the last matching pattern wins.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        # (negated, pattern, anchored at the root, folder only)
        self._rules: list[tuple[bool, str, bool, bool]] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            body = line.rstrip("/")
            self._rules.append((negated, body.lstrip("/"), "/" in body, line.endswith("/")))

    def matches(self, path: str) -> bool:
        matched = False
        for negated, pattern, anchored, folder in self._rules:
            if _pattern_hits(pattern, path, anchored=anchored, folder=folder):
                matched = not negated
        return matched


def lfs_patterns(gitattributes: bytes) -> GitPatterns:
    """The paths a `.gitattributes` sends to LFS (`filter=lfs`)."""
    patterns = []
    for line in gitattributes.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return GitPatterns(patterns)


def _pattern_hits(pattern: str, path: str, *, anchored: bool, folder: bool) -> bool:
    parts = path.split("/")
    # Candidates: the path itself, and (for folder patterns or prefixes) each parent folder.
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts))]
    candidates = prefixes if folder else [*prefixes, path]
    if not anchored:
        names = [c.rsplit("/", 1)[-1] for c in candidates]
        return any(fnmatchcase(name, pattern) for name in names)
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
    regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return any(re.fullmatch(regex, c) for c in candidates)
