"""spacectl's on-disk caches: file trees by commit, and digests of local files.

Both hold only what cannot go stale when used as described, so a cache is never a reason for a
wrong plan; deleting the folder is always safe (the next run reads and hashes again).

- `TreeCache`: a Space's file tree at a commit id never changes (a commit is immutable), so a
  listing is stored under endpoint + Space + commit and used only for that exact commit id (the
  one the bulk listing reports as the head). Branch names are never cached.
- `DigestCache`: the git blob SHA-1 and SHA-256 of a local file, keyed by its absolute path and
  what `stat` says of it (size, mtime_ns, inode, ctime_ns); any change of those is a miss. A file
  modified within the last `_RACY_SECONDS` is not stored (git's "racily clean" rule: a second
  edit in the same timestamp tick would otherwise keep the old digest).

The folder: `--cache-dir`, else $SPACECTL_CACHE_DIR, else $XDG_CACHE_HOME/spacectl, else
~/.cache/spacectl (a CI job can persist any of these between runs). Stdlib only; a cache that
cannot be read or written is ignored (it only costs time).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spacectl.fsio import write_atomic

CACHE_DIR_ENV = "SPACECTL_CACHE_DIR"
_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_RACY_SECONDS = 2.0
_FORMAT = 1


def cache_dir(flag: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """Where the caches live; see the module docstring for the order."""
    env = os.environ if environ is None else environ
    if flag is not None:
        return flag
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spacectl"


def is_commit_id(revision: str) -> bool:
    """A full commit id (SHA-1 or SHA-256 hex), not a branch or tag name."""
    return _COMMIT_ID.fullmatch(revision) is not None


class TreeCache:
    """File-tree listings by (endpoint, Space, commit id); entries are plain JSON rows."""

    def __init__(self, root: Path) -> None:
        self.root = root / "trees"

    def _path(self, endpoint: str, space_id: str, commit: str) -> Path:
        where = hashlib.sha256(endpoint.rstrip("/").encode()).hexdigest()[:16]
        return self.root / where / space_id.lower() / f"{commit}.json"

    def get(self, endpoint: str, space_id: str, commit: str) -> list[dict[str, Any]] | None:
        if not is_commit_id(commit):
            return None
        try:
            data = json.loads(self._path(endpoint, space_id, commit).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return None
        rows = data.get("files")
        return rows if isinstance(rows, list) else None

    def put(self, endpoint: str, space_id: str, commit: str, rows: list[dict[str, Any]]) -> None:
        if not is_commit_id(commit):
            return
        path = self._path(endpoint, space_id, commit)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps({"format": _FORMAT, "files": rows}))
        except OSError:
            return


def _key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


class DigestCache:
    """(blob SHA-1, SHA-256) of local files by absolute path and stat; thread-safe. `save()`
    writes what was learnt (one JSON file, replaced atomically: concurrent runs lose entries at
    worst, never corrupt them)."""

    def __init__(self, root: Path) -> None:
        self.path = root / "digests.json"
        self._lock = threading.Lock()
        self._entries: dict[str, list[Any]] = {}
        self._dirty = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == _FORMAT:
                entries = data.get("entries")
                self._entries = entries if isinstance(entries, dict) else {}
        except (OSError, ValueError):
            pass

    def get(self, path: str | Path, st: os.stat_result) -> tuple[str, str] | None:
        """`path` absolute; None unless the entry's stat matches `st`."""
        entry = self._entries.get(str(path))
        if entry is None or len(entry) != 6 or entry[:4] != _key(st):
            return None
        return str(entry[4]), str(entry[5])

    def put(self, path: str | Path, st: os.stat_result, blob_id: str, sha256: str) -> None:
        if time.time() - st.st_mtime < _RACY_SECONDS:
            return
        with self._lock:
            self._entries[str(path)] = [*_key(st), blob_id, sha256]
            self._dirty = True

    def save(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            payload = json.dumps({"format": _FORMAT, "entries": self._entries})
            self._dirty = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, payload)
        except OSError:
            return
