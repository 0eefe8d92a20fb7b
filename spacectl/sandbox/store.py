"""The sandbox's state in one place, and its persistence.

Everything lives in one `Store` guarded by one re-entrant lock: handlers run
`with store.transaction():` around each read-modify-write, and the transaction writes the state
file on exit when `--data` is set. File contents are content-addressed blobs (git blob SHA-1 for
regular files, SHA-256 for LFS objects), kept in memory or under `DATA/blobs/`; `DATA/state.json`
holds everything else. Both are written atomically (temp file + rename), so a killed sandbox
never leaves a half-written file behind.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spacectl.fsio import write_atomic
from spacectl.sandbox.models.runtime import RuntimeState
from spacectl.sandbox.models.xet import XetState
from spacectl.sandbox.records import (
    Commit,
    FileEntry,
    Org,
    Setting,
    Space,
    Token,
    User,
    git_blob_sha1,
)

STATE_VERSION = 1


class BlobStore:
    """Content-addressed blobs, in memory or as files under `root`."""

    def __init__(self, root: Path | None) -> None:
        self._root = root
        self._memory: dict[str, bytes] = {}

    def _path(self, key: str) -> Path:
        assert self._root is not None
        kind, digest = key.split("/", 1)
        return self._root / kind / digest[:2] / digest

    def put(self, key: str, data: bytes) -> None:
        if self._root is None:
            self._memory[key] = data
            return
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, private=True)

    def get(self, key: str) -> bytes | None:
        if self._root is None:
            return self._memory.get(key)
        path = self._path(key)
        return path.read_bytes() if path.exists() else None

    def has(self, key: str) -> bool:
        if self._root is None:
            return key in self._memory
        return self._path(key).exists()


class Store:
    """All sandbox state. Read or change it only inside `transaction()`."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.orgs: dict[str, Org] = {}
        self.spaces: dict[str, Space] = {}  # keyed by lowercased id: the Hub is case-insensitive
        # Pending LFS uploads: unguessable id -> (space id, sha256, size). Not persisted.
        self.uploads: dict[str, tuple[str, str, int]] = {}
        self._depth = 0
        self._saved: bytes | None = None  # the state file's content as last written
        self.blobs = BlobStore(data_dir / "blobs" if data_dir else None)
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._load()
        self.xet = XetState.open(data_dir)  # xorbs and reconstructions are blobs

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock; on leaving the outermost transaction, persist the state."""
        with self.lock:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._save()

    # -- identities -------------------------------------------------------------------------

    def add_user(self, name: str, token: str, role: str) -> None:
        with self.transaction():
            if name not in self.users:
                self.users[name] = User(name=name, created_at=time.time())
            self.tokens[token] = Token(user=name, role=role, created_at=time.time())

    def add_org(self, name: str, members: list[str]) -> None:
        with self.transaction():
            org = self.orgs.setdefault(name, Org(name=name, members=[]))
            for member in members:
                if member not in org.members:
                    org.members.append(member)

    # -- spaces and files -------------------------------------------------------------------

    def find(self, repo_id: str) -> Space | None:
        """The Space named `repo_id` in any letter case."""
        return self.spaces.get(repo_id.lower())

    def moved(self, repo_id: str) -> Space | None:
        """The Space `move_repo` renamed from `repo_id` (any case), if no Space has that name
        now."""
        wanted = repo_id.lower()
        return next(
            (s for s in self.spaces.values() if wanted in (f.lower() for f in s.former_ids)),
            None,
        )

    def put(self, space: Space) -> None:
        """Add `space` under its id (replacing one of the same name in any case)."""
        self.spaces[space.id.lower()] = space

    def remove(self, space: Space) -> None:
        del self.spaces[space.id.lower()]

    def read_file(self, commit: Commit, path: str) -> bytes | None:
        entry = commit.files.get(path)
        return None if entry is None else self.blobs.get(entry.blob_key)

    def put_file(self, data: bytes) -> FileEntry:
        """Store `data` as a regular (non-LFS) file; its entry for a commit's snapshot."""
        oid = git_blob_sha1(data)
        self.blobs.put(f"git/{oid}", data)
        return FileEntry(size=len(data), oid=oid)

    # -- persistence ------------------------------------------------------------------------

    def _save(self) -> None:
        if self.data_dir is None:
            return
        state = {
            "version": STATE_VERSION,
            "users": {n: [u.created_at, u.object_id] for n, u in self.users.items()},
            "tokens": {t: [k.user, k.role, k.created_at] for t, k in self.tokens.items()},
            "orgs": {n: [o.members, o.object_id] for n, o in self.orgs.items()},
            "spaces": [_space_to_json(s) for s in self.spaces.values()],
        }
        data = json.dumps(state).encode()
        if data == self._saved:
            return  # a read, or a write that changed nothing: no rewrite of the file
        write_atomic(self.data_dir / "state.json", data, private=True)
        self._saved = data

    def _load(self) -> None:
        assert self.data_dir is not None
        path = self.data_dir / "state.json"
        if not path.exists():
            return
        state = json.loads(path.read_text())
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{path}: unsupported sandbox state version {state.get('version')}")
        self.users = {n: User(n, v[0], v[1]) for n, v in state["users"].items()}
        self.tokens = {t: Token(v[0], v[1], v[2]) for t, v in state["tokens"].items()}
        self.orgs = {n: Org(n, v[0], v[1]) for n, v in state["orgs"].items()}
        for raw in state["spaces"]:
            self.put(_space_from_json(raw))


def _settings_to_json(settings: dict[str, Setting]) -> dict[str, Any]:
    return {k: [s.value, s.description, s.updated_at] for k, s in settings.items()}


def _settings_from_json(data: dict[str, Any]) -> dict[str, Setting]:
    return {k: Setting(v[0], v[1], v[2]) for k, v in data.items()}


def _commits_to_json(commits: list[Commit]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "title": c.title,
            "message": c.message,
            "date": c.date,
            "author": c.author,
            "files": {p: [e.size, e.oid, e.sha256] for p, e in c.files.items()},
        }
        for c in commits
    ]


def _commits_from_json(data: list[dict[str, Any]]) -> list[Commit]:
    return [
        Commit(
            id=c["id"],
            title=c["title"],
            message=c["message"],
            date=c["date"],
            author=c["author"],
            files={p: FileEntry(v[0], v[1], v[2]) for p, v in c["files"].items()},
        )
        for c in data
    ]


# Fields of a Space that are not stored as they are: name -> (to JSON, from JSON).
_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "commits": (_commits_to_json, _commits_from_json),
    "secrets": (_settings_to_json, _settings_from_json),
    "variables": (_settings_to_json, _settings_from_json),
    "runtime": (RuntimeState.to_json, RuntimeState.from_json),
    "lfs_objects": (sorted, set),
    "branch_commits": (_commits_to_json, _commits_from_json),
}


def _space_to_json(space: Space) -> dict[str, Any]:
    data = {}
    for spec in dataclasses.fields(Space):
        value = getattr(space, spec.name)
        data[spec.name] = _CODECS[spec.name][0](value) if spec.name in _CODECS else value
    return data


def _space_from_json(data: dict[str, Any]) -> Space:
    """A Space from its JSON; a field missing from older state keeps its default."""
    values = {}
    for spec in dataclasses.fields(Space):
        if spec.name in data:
            raw = data[spec.name]
            values[spec.name] = _CODECS[spec.name][1](raw) if spec.name in _CODECS else raw
    return Space(**values)
