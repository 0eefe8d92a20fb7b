"""The sandbox's state: users, orgs and Spaces with a git-like history, and its persistence.

Everything lives in one `Store` guarded by one re-entrant lock: handlers run
`with store.transaction():` around each read-modify-write, and the transaction writes the state
file on exit when `--data` is set. File contents are content-addressed blobs (git blob SHA-1 for
regular files, SHA-256 for LFS objects), kept in memory or under `DATA/blobs/`; `DATA/state.json`
holds everything else. Both are written atomically (temp file + rename), so a killed sandbox
never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacectl.sandbox.runtime import RuntimeState, fixed

STATE_VERSION = 1

# The `.gitattributes` the Hub writes into every new repository.
HUB_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.ftz",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.lfs.*",
        "*.mlmodel",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.rar",
        "*.safetensors",
        "saved_model/**/*",
        "*.tar.*",
        "*.tar",
        "*.tflite",
        "*.tgz",
        "*.wasm",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
    )
)
_EMOJIS = ("🚀", "🔥", "🏢", "🐨", "📚", "🌍", "💻", "🦀", "🎨", "📊", "🐢", "⚡")
CARD_COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
# sdk_version the Hub's Space creation form pre-fills; a plausible recent release of each SDK.
_SDK_VERSIONS = {"gradio": "5.23.1", "streamlit": "1.44.0"}


class ApiError(Exception):
    """A Hub error response: status, message, and the `X-Error-Code` the client branches on.

    `extra` keys are merged into the JSON body (e.g. `url` of a 409 on create).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.extra = extra or {}


def hub_timestamp(at: float) -> str:
    """`at` (unix time) as the Hub writes datetimes: `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    total_ms = int(at * 1000)
    seconds, millis = divmod(total_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob with this content (what the Hub reports as a file `oid`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file git stores in place of an LFS object."""
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


def new_object_id() -> str:
    """A 24-hex id like the Hub's MongoDB `_id`."""
    return secrets.token_hex(12)


def new_token() -> str:
    """A random user access token in the Hub's `hf_` format."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "hf_" + "".join(secrets.choice(alphabet) for _ in range(34))


def initial_readme(name: str, sdk: str, seed: str) -> bytes:
    """The README.md the Hub writes into a new Space: front matter plus the reference pointer."""
    digest = hashlib.sha256(seed.encode()).digest()
    color_from = CARD_COLORS[digest[1] % len(CARD_COLORS)]
    color_to = CARD_COLORS[(digest[1] + 1 + digest[2] % (len(CARD_COLORS) - 1)) % len(CARD_COLORS)]
    lines = [
        "---",
        f"title: {name}",
        f"emoji: {_EMOJIS[digest[0] % len(_EMOJIS)]}",
        f"colorFrom: {color_from}",
        f"colorTo: {color_to}",
        f"sdk: {sdk}",
    ]
    if sdk in _SDK_VERSIONS:
        lines += [f"sdk_version: {_SDK_VERSIONS[sdk]}", "app_file: app.py"]
    lines += [
        "pinned: false",
        "---",
        "",
        "Check out the configuration reference at "
        "https://huggingface.co/docs/hub/spaces-config-reference",
        "",
    ]
    return "\n".join(lines).encode()


@dataclass(frozen=True)
class FileEntry:
    """A file in a revision. `oid` is the git blob SHA-1 (of the pointer for LFS files)."""

    size: int
    oid: str
    sha256: str | None = None

    @property
    def blob_key(self) -> str:
        return f"lfs/{self.sha256}" if self.sha256 else f"git/{self.oid}"

    @property
    def pointer_size(self) -> int | None:
        return len(lfs_pointer(self.sha256, self.size)) if self.sha256 else None


@dataclass
class Commit:
    """One commit of a Space's `main` branch; `files` is the full snapshot after it."""

    id: str
    title: str
    message: str
    date: float
    author: str
    files: dict[str, FileEntry]


@dataclass
class Setting:
    """A secret or a variable. Secret values are stored (and persisted) but never served."""

    value: str
    description: str | None
    updated_at: float


@dataclass
class User:
    name: str
    created_at: float
    object_id: str = field(default_factory=new_object_id)


@dataclass
class Token:
    user: str
    role: str  # "read" or "write"
    created_at: float


@dataclass
class Org:
    name: str
    members: list[str]
    object_id: str = field(default_factory=new_object_id)


@dataclass
class Principal:
    """Who sent a request: a user and the role of the token used."""

    user: str
    role: str
    orgs: list[str]

    @property
    def can_write(self) -> bool:
        return self.role == "write"


@dataclass
class Space:
    """A Space repository with its settings and runtime."""

    id: str
    object_id: str
    created_at: float
    visibility: str  # public | private | protected
    commits: list[Commit]
    gated: str | bool = False
    hardware: str | None = "cpu-basic"  # requested flavour; None for static Spaces
    sleep_time: int | None = None
    dev_mode: bool = False
    volumes: list[dict[str, Any]] | None = None
    secrets: dict[str, Setting] = field(default_factory=dict)
    variables: dict[str, Setting] = field(default_factory=dict)
    runtime: RuntimeState = field(default_factory=lambda: fixed("NO_APP_FILE"))
    lfs_objects: set[str] = field(default_factory=set)
    likes: int = 0

    @property
    def namespace(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    @property
    def private(self) -> bool:
        return self.visibility != "public"

    @property
    def subdomain(self) -> str:
        """`{namespace}-{name}` lowercased with `_` and `.` as `-`, as the Hub forms it."""
        return self.id.lower().replace("/", "-").replace("_", "-").replace(".", "-")

    def resolve(self, revision: str) -> Commit:
        """The commit a revision names: `main`/`refs/heads/main` or a (>= 7 hex) commit id."""
        if revision in ("main", "refs/heads/main"):
            return self.head
        if len(revision) >= 7:
            for commit in reversed(self.commits):
                if commit.id.startswith(revision.lower()):
                    return commit
        raise ApiError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")


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
        _atomic_write(path, data)

    def get(self, key: str) -> bytes | None:
        if self._root is None:
            return self._memory.get(key)
        path = self._path(key)
        return path.read_bytes() if path.exists() else None

    def has(self, key: str) -> bool:
        if self._root is None:
            return key in self._memory
        return self._path(key).exists()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        self.blobs = BlobStore(data_dir / "blobs" if data_dir else None)
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._load()

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

    def authenticate(self, token: str) -> Principal | None:
        with self.lock:
            found = self.tokens.get(token)
            if found is None:
                return None
            orgs = sorted(o.name for o in self.orgs.values() if found.user in o.members)
            return Principal(user=found.user, role=found.role, orgs=orgs)

    def namespace_exists(self, name: str) -> bool:
        return name in self.users or name in self.orgs

    # -- spaces -----------------------------------------------------------------------------

    def find(self, repo_id: str) -> Space | None:
        return self.spaces.get(repo_id.lower())

    def is_member(self, principal: Principal | None, namespace: str) -> bool:
        if principal is None:
            return False
        return principal.user == namespace or namespace in principal.orgs

    def can_see(self, principal: Principal | None, space: Space) -> bool:
        """Public and protected Spaces are visible to all; private ones to their namespace only."""
        return space.visibility != "private" or self.is_member(principal, space.namespace)

    def can_read_files(self, principal: Principal | None, space: Space) -> bool:
        """A protected Space shows its app to everyone but its files only to its namespace."""
        return space.visibility == "public" or self.is_member(principal, space.namespace)

    def read_file(self, commit: Commit, path: str) -> bytes | None:
        entry = commit.files.get(path)
        return None if entry is None else self.blobs.get(entry.blob_key)

    def store_regular(self, data: bytes) -> FileEntry:
        oid = git_blob_sha1(data)
        self.blobs.put(f"git/{oid}", data)
        return FileEntry(size=len(data), oid=oid)

    def lfs_entry(self, sha256: str, size: int) -> FileEntry:
        return FileEntry(size=size, oid=git_blob_sha1(lfs_pointer(sha256, size)), sha256=sha256)

    def new_commit(
        self,
        space_id: str,
        parent: Commit | None,
        files: dict[str, FileEntry],
        title: str,
        message: str,
        author: str,
        now: float,
    ) -> Commit:
        seed = json.dumps(
            [
                space_id,
                parent.id if parent else None,
                sorted((p, e.oid) for p, e in files.items()),
                title,
                message,
                now,
                secrets.token_hex(4),
            ]
        )
        return Commit(
            id=hashlib.sha1(seed.encode()).hexdigest(),
            title=title,
            message=message,
            date=now,
            author=author,
            files=files,
        )

    def last_commit_touching(self, space: Space, commit: Commit, path: str) -> Commit:
        """The newest commit up to `commit` that changed `path` (a file, or anything under it)."""
        index = space.commits.index(commit)
        prefix = path.rstrip("/") + "/"

        def snapshot(c: Commit) -> dict[str, str]:
            return {p: e.oid for p, e in c.files.items() if p == path or p.startswith(prefix)}

        current = snapshot(commit)
        for i in range(index, 0, -1):
            if snapshot(space.commits[i - 1]) != current:
                return space.commits[i]
        return space.commits[0]

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
        _atomic_write(self.data_dir / "state.json", json.dumps(state).encode())

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
            space = _space_from_json(raw)
            self.spaces[space.id.lower()] = space


def _setting_map_to_json(settings: dict[str, Setting]) -> dict[str, Any]:
    return {k: [s.value, s.description, s.updated_at] for k, s in settings.items()}


def _setting_map_from_json(data: dict[str, Any]) -> dict[str, Setting]:
    return {k: Setting(v[0], v[1], v[2]) for k, v in data.items()}


def _space_to_json(space: Space) -> dict[str, Any]:
    return {
        "id": space.id,
        "object_id": space.object_id,
        "created_at": space.created_at,
        "visibility": space.visibility,
        "gated": space.gated,
        "hardware": space.hardware,
        "sleep_time": space.sleep_time,
        "dev_mode": space.dev_mode,
        "volumes": space.volumes,
        "secrets": _setting_map_to_json(space.secrets),
        "variables": _setting_map_to_json(space.variables),
        "runtime": space.runtime.to_json(),
        "lfs_objects": sorted(space.lfs_objects),
        "likes": space.likes,
        "commits": [
            {
                "id": c.id,
                "title": c.title,
                "message": c.message,
                "date": c.date,
                "author": c.author,
                "files": {p: [e.size, e.oid, e.sha256] for p, e in c.files.items()},
            }
            for c in space.commits
        ],
    }


def _space_from_json(data: dict[str, Any]) -> Space:
    commits = [
        Commit(
            id=c["id"],
            title=c["title"],
            message=c["message"],
            date=c["date"],
            author=c["author"],
            files={p: FileEntry(v[0], v[1], v[2]) for p, v in c["files"].items()},
        )
        for c in data["commits"]
    ]
    return Space(
        id=data["id"],
        object_id=data["object_id"],
        created_at=data["created_at"],
        visibility=data["visibility"],
        commits=commits,
        gated=data["gated"],
        hardware=data["hardware"],
        sleep_time=data["sleep_time"],
        dev_mode=data["dev_mode"],
        volumes=data["volumes"],
        secrets=_setting_map_from_json(data["secrets"]),
        variables=_setting_map_from_json(data["variables"]),
        runtime=RuntimeState.from_json(data["runtime"]),
        lfs_objects=set(data["lfs_objects"]),
        likes=data["likes"],
    )
