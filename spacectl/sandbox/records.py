"""The sandbox's state, as data: users, tokens, orgs, and Spaces with their commits, files and
settings. Rules live in `models/`, persistence in `store`, JSON renderings in `shapes`."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.models.runtime import RuntimeState, fixed


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


def token_fingerprint(token: str) -> str:
    """A short digest naming a token in the request log and the control API, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def new_token() -> str:
    """A random user access token in the Hub's `hf_` format."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "hf_" + "".join(secrets.choice(alphabet) for _ in range(34))


@dataclass(frozen=True)
class FileEntry:
    """A file in a revision. `oid` is the git blob SHA-1 (of the pointer for LFS files)."""

    size: int
    oid: str
    sha256: str | None = None

    @classmethod
    def lfs(cls, sha256: str, size: int) -> FileEntry:
        """The entry of an LFS object: its oid is that of its pointer file."""
        return cls(size=size, oid=git_blob_sha1(lfs_pointer(sha256, size)), sha256=sha256)

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
    """Who sent a request: a user and the role of the token used. A Trusted Publisher token
    has a `scope`, the one Space it may read and write (lowercase id), and no namespace rights."""

    user: str
    role: str
    orgs: list[str]
    scope: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role == "write"


@dataclass
class Space:
    """A Space repository with its settings and runtime.

    Every field is persisted by `store` as it is (see its codecs for the others); a field added
    with a default loads from state written before it existed.
    """

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
    region: str = "us"
    former_ids: list[str] = field(default_factory=list)  # names before `move_repo`: redirected
    # Branches other than `main` (whose history is `commits`): name -> commit ids, oldest first;
    # the commits made on them only are in `branch_commits`. Tags: name -> commit id.
    branches: dict[str, list[str]] = field(default_factory=dict)
    branch_commits: list[Commit] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

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
    def static(self) -> bool:
        """A static Space runs on no hardware: it is always running and never billed."""
        return self.hardware is None

    @property
    def subdomain(self) -> str:
        """`{namespace}-{name}` lowercased with `_` and `.` as `-`, as the Hub forms it."""
        return self.id.lower().replace("/", "-").replace("_", "-").replace(".", "-")

    def branch_of(self, revision: str) -> str | None:
        """The branch `revision` names (`main`, `NAME`, `refs/heads/NAME`), or None."""
        name = revision.removeprefix("refs/heads/")
        return name if name == "main" or name in self.branches else None

    def commit_by_id(self, commit_id: str) -> Commit:
        return next(c for c in [*self.commits, *self.branch_commits] if c.id == commit_id)

    def resolve(self, revision: str) -> Commit:
        """The commit a revision names: a branch (`main`, `NAME`, `refs/heads/NAME`), then a
        tag (`NAME`, `refs/tags/NAME`), then a (>= 7 hex) commit id."""
        branch = self.branch_of(revision)
        if branch == "main":
            return self.head
        if branch is not None:
            return self.commit_by_id(self.branches[branch][-1])
        tag = revision.removeprefix("refs/tags/")
        if tag in self.tags:
            return self.commit_by_id(self.tags[tag])
        if len(revision) >= 7:
            for commit in reversed([*self.commits, *self.branch_commits]):
                if commit.id.startswith(revision.lower()):
                    return commit
        raise ApiError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")

    def lineage(self, commit: Commit) -> list[Commit]:
        """The history up to `commit`, oldest first (on `main`, or on the branch holding it)."""
        if commit in self.commits:
            return self.commits[: self.commits.index(commit) + 1]
        for ids in self.branches.values():
            if commit.id in ids:
                return [self.commit_by_id(i) for i in ids[: ids.index(commit.id) + 1]]
        return [commit]  # a commit of a deleted branch, reached by its id
