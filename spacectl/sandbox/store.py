"""The sandbox's state in one place, and its persistence.

Everything lives in memory in one `Store` guarded by one re-entrant lock: handlers run
`with store.transaction():` around each read-modify-write. File contents are content-addressed
blobs (git blob SHA-1 for regular files, SHA-256 for LFS objects), kept in memory or as files
under `DATA/blobs/` (written atomically, before the transaction that refers to them commits).

With `--data`, everything else is in `DATA/state.sqlite3` (see `database`): one record per user,
token, org, Space (its fields as JSON, commits by id) and commit (immutable once made, so written
once). Why SQLite (the standard library's) rather than JSON files:
- *Constant cost per write.* A transaction writes only the records that differ from what it last
  saved: the Spaces it found, put or removed (compared by their JSON) and the identities (a few),
  plus the new commits. A variable write at 1,000 Spaces writes one row, as at 10; the one-file
  store rewrote (and first serialised) everything.
- *Crash safety.* A transaction is atomic and, in WAL mode, survives kill -9 at any point;
  per-Space JSON files would need a journal of our own to change several at once (a move, a
  create with its commit).
- *Two processes on one folder* (two `spacectl ... --sandbox` runs). Every outermost transaction
  takes the database's write lock (`BEGIN IMMEDIATE`) and first reads what other processes wrote
  since it last looked (one read of the transaction counter; the changed records only when it
  moved), so memory is current for the whole read-modify-write and nobody's Spaces are lost.
A `DATA/state.json` of the one-file store is converted once on open, then renamed
`state.json.migrated`.
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

from spacectl.errors import ConfigError
from spacectl.fsio import write_atomic
from spacectl.sandbox.database import Database, Row
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

STATE_FILE = "state.sqlite3"
LEGACY_STATE_FILE = "state.json"  # the one-file store of before; converted on first open


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
    """All sandbox state. Read or change it only inside `transaction()`, and change a Space
    only after `find()` or `put()` in the same transaction: those mark the records the
    transaction saves. Listing `spaces` reads."""

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
        self.blobs = BlobStore(data_dir / "blobs" if data_dir else None)
        self._touched: set[str] = set()  # Space keys this transaction found, put or removed
        self._rows = _Rows()
        self._db: Database | None = None
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._load()
        self.xet = XetState.open(data_dir)  # xorbs and reconstructions are blobs

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock (and with `--data` the database's write lock, up to date with what
        other processes wrote); on leaving the outermost transaction, save what changed."""
        with self.lock:
            outermost = self._depth == 0
            if outermost and self._db is not None:
                self._db.begin()
                try:
                    self._refresh(self._db)
                except BaseException:
                    self._db.rollback()
                    raise
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if outermost:
                    self._finish()

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
        self._touched.add(repo_id.lower())
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
        self._touched.add(space.id.lower())
        self.spaces[space.id.lower()] = space

    def remove(self, space: Space) -> None:
        self._touched.add(space.id.lower())
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

    def _finish(self) -> None:
        """End the outermost transaction: save the touched Spaces and the identities that
        differ from what was last saved, as one database transaction."""
        touched, self._touched = self._touched, set()
        if self._db is None:
            return
        try:
            rows, removed = self._rows.changes(self, touched)
            self._rows.seq = self._db.write(rows, removed)
            self._db.commit()
        except BaseException:
            self._db.rollback()
            self._rows.seq = -1  # what memory holds is not what was saved: reload it all
            raise

    def _refresh(self, db: Database) -> None:
        """Bring memory up to date with the database: nothing to do unless another process
        wrote since (one read), else read only the records it wrote."""
        seq = db.seq()
        if seq == self._rows.seq:
            return
        if self._rows.seq < 0:
            self.users, self.tokens, self.orgs, self.spaces = {}, {}, {}, {}
            self._rows = _Rows()
            changed = db.live()
        else:
            changed = db.changed_since(self._rows.seq)
        self._rows.load(self, db, changed)
        self._rows.seq = seq

    def _load(self) -> None:
        """Open the database and load it, first converting a state.json of version 1 (the
        one-file store) into it once, then keeping that as state.json.migrated."""
        assert self.data_dir is not None
        self._db = Database(self.data_dir / STATE_FILE)
        legacy = self.data_dir / LEGACY_STATE_FILE
        with self.transaction():
            if legacy.exists() and self._db.meta("migrated") is None and not self.spaces:
                state = json.loads(legacy.read_text())
                if state.get("version") != 1:
                    version = state.get("version")
                    raise ValueError(f"{legacy}: unsupported sandbox state version {version}")
                self.users = {n: User(n, v[0], v[1]) for n, v in state["users"].items()}
                self.tokens = {t: Token(v[0], v[1], v[2]) for t, v in state["tokens"].items()}
                self.orgs = {n: Org(n, v[0], v[1]) for n, v in state["orgs"].items()}
                for raw in state["spaces"]:
                    self.put(_space_from_json(raw))
                self._db.set_meta("migrated", legacy.name)
        if legacy.exists() and self._db.meta("migrated") is not None:
            legacy.replace(legacy.with_name(legacy.name + ".migrated"))


def open_store(data_dir: Path | None) -> Store:
    """The Store persisted in `data_dir` (in memory for None); a folder or state file it cannot
    use is a one-line ConfigError naming it."""
    try:
        return Store(data_dir)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot use the sandbox state: {error}") from None


# Identity records: kind -> (the Store's dict, to JSON, from (key, JSON)).
_IDENTITIES: dict[str, tuple[str, Callable[[Any], Any], Callable[[str, Any], Any]]] = {
    "user": ("users", lambda u: [u.created_at, u.object_id], lambda k, v: User(k, v[0], v[1])),
    "token": ("tokens", lambda t: [t.user, t.role, t.created_at], lambda k, v: Token(*v)),
    "org": ("orgs", lambda o: [o.members, o.object_id], lambda k, v: Org(k, v[0], v[1])),
}


class _Rows:
    """What the database holds, as this process last wrote or read it: the JSON of every
    record and the commits stored per Space. `changes` compares the touched records with it, so
    a transaction writes only what it changed; `load` takes in what another process wrote."""

    def __init__(self) -> None:
        self.seq = -1  # the last transaction number seen; -1: nothing loaded yet
        self.spaces: dict[str, tuple[str, str]] = {}  # key -> (object id, row)
        self.commits: dict[str, set[str]] = {}  # a Space's object id -> its stored commit ids
        self.identities: dict[tuple[str, str], str] = {}  # (kind, key) -> row

    def changes(self, store: Store, touched: set[str]) -> tuple[list[Row], list[tuple[str, str]]]:
        """The rows to write (and commit groups to drop) for `touched` Spaces and identities."""
        rows: list[Row] = []
        gone: set[str] = set()
        alive: set[str] = set()
        for key in sorted(touched):
            space = store.spaces.get(key)
            saved = self.spaces.get(key)
            if space is None:
                if saved is not None:
                    rows.append(("space", key, None))
                    gone.add(saved[0])
                    del self.spaces[key]
                continue
            alive.add(space.object_id)
            row = _space_row(space)
            if saved is not None and saved[1] == row:
                continue
            rows.append(("space", key, row))
            self.spaces[key] = (space.object_id, row)
            stored = self.commits.setdefault(space.object_id, set())
            for commit in space.commits:
                if commit.id not in stored:
                    data = json.dumps(_commits_to_json([commit])[0])
                    rows.append(("commit", f"{space.object_id}/{commit.id}", data))
                    stored.add(commit.id)
        removed = [("commit", f"{object_id}/") for object_id in sorted(gone - alive)]
        for object_id in gone - alive:
            self.commits.pop(object_id, None)
        for kind, (attribute, encode, _) in _IDENTITIES.items():
            current = getattr(store, attribute)
            for key, value in current.items():
                row = json.dumps(encode(value))
                if self.identities.get((kind, key)) != row:
                    rows.append((kind, key, row))
                    self.identities[(kind, key)] = row
            for saved_kind, key in [k for k in self.identities if k[0] == kind]:
                if key not in current:
                    rows.append((saved_kind, key, None))
                    del self.identities[(saved_kind, key)]
        return rows, removed

    def load(self, store: Store, db: Database, changed: list[Row]) -> None:
        """Take `changed` records (read from `db`) into `store` and into what is known saved.
        A Space's commits are reused from memory when known, else read from `db`."""
        spaces = [(key, data) for kind, key, data in changed if kind == "space"]
        commit_rows = {key: data for kind, key, data in changed if kind == "commit"}
        previous = {s.object_id: s for key, _ in spaces if (s := store.spaces.get(key))}
        for key, _ in spaces:
            store.spaces.pop(key, None)
            self.spaces.pop(key, None)
        for key, data in spaces:
            if data is None:
                continue
            raw = json.loads(data)
            object_id, ids = raw["object_id"], raw["commits"]
            known = {c.id: c for c in previous[object_id].commits} if object_id in previous else {}
            for missing in [i for i in ids if i not in known]:
                commit_key = f"{object_id}/{missing}"
                commit_data = commit_rows.get(commit_key) or db.get("commit", commit_key)
                if commit_data is None:
                    raise ValueError(f"{db.path}: commit {missing} of {key} is missing")
                (known[missing],) = _commits_from_json([json.loads(commit_data)])
            store.spaces[key] = _space_from_json({**raw, "commits": []})
            store.spaces[key].commits = [known[i] for i in ids]
            self.spaces[key] = (object_id, data)
            self.commits[object_id] = set(ids)
        for kind, key, data in changed:
            if kind in _IDENTITIES:
                attribute, _, decode = _IDENTITIES[kind]
                mapping = getattr(store, attribute)
                if data is None:
                    mapping.pop(key, None)
                    self.identities.pop((kind, key), None)
                else:
                    mapping[key] = decode(key, json.loads(data))
                    self.identities[(kind, key)] = data


def _space_row(space: Space) -> str:
    """A Space's record: its JSON with commits by id (each commit is a record of its own)."""
    data: dict[str, Any] = {}
    for spec in dataclasses.fields(Space):
        value = getattr(space, spec.name)
        if spec.name == "commits":
            data["commits"] = [c.id for c in value]
        else:
            data[spec.name] = _CODECS[spec.name][0](value) if spec.name in _CODECS else value
    return json.dumps(data)


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


def _space_from_json(data: dict[str, Any]) -> Space:
    """A Space from its JSON; a field missing from older state keeps its default."""
    values = {}
    for spec in dataclasses.fields(Space):
        if spec.name in data:
            raw = data[spec.name]
            values[spec.name] = _CODECS[spec.name][1](raw) if spec.name in _CODECS else raw
    return Space(**values)
