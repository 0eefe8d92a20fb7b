"""A revision's files as git shows them: tree listings (folders with their git tree SHA-1),
paths info, the last commit that touched a path, and downloads."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, NamedTuple

from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.records import Commit, FileEntry, git_blob_sha1, lfs_pointer

if TYPE_CHECKING:
    from spacectl.sandbox.records import Space
    from spacectl.sandbox.store import Store


class TreeItem(NamedTuple):
    """A file (`entry`) or a folder (`entry` None, `tree_oid` set) of a revision, with the last
    commit that touched it when asked for."""

    path: str
    entry: FileEntry | None
    tree_oid: str | None
    last_commit: Commit | None


def listing(commit: Commit, base: str, *, recursive: bool) -> list[tuple[str, FileEntry | None]]:
    """The folders (entry None) and files under `base` ("" for the root), folders first unless
    `recursive` (then all by path); 404 when `base` is no folder of the revision."""
    files = commit.files
    if base and (base in files or not any(p.startswith(base + "/") for p in files)):
        raise ApiError(404, f"{base} does not exist on main", code="EntryNotFound")
    prefix = base + "/" if base else ""
    dirs: set[str] = set()
    found: list[str] = []
    for path in files:
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :].split("/")
        for depth in range(1, len(rest)):
            if recursive or depth == 1:
                dirs.add(prefix + "/".join(rest[:depth]))
        if recursive or len(rest) == 1:
            found.append(path)
    ordered: list[tuple[str, FileEntry | None]] = [(d, None) for d in sorted(dirs)]
    ordered += [(p, files[p]) for p in sorted(found)]
    if recursive:
        ordered.sort(key=lambda item: item[0])
    return ordered


def paths(commit: Commit, wanted: list[str]) -> list[tuple[str, FileEntry | None]]:
    """`get_paths_info`: each of `wanted` that is a file or a folder of the revision."""
    result: list[tuple[str, FileEntry | None]] = []
    for raw in wanted:
        path = raw.strip("/")
        if path in commit.files:
            result.append((path, commit.files[path]))
        elif path and any(p.startswith(path + "/") for p in commit.files):
            result.append((path, None))
    return result


def item(
    space: Space, commit: Commit, path: str, entry: FileEntry | None, *, expand: bool
) -> TreeItem:
    """A path of `listing` or `paths` with its folder oid and, with `expand`, last commit."""
    tree_oid = tree_sha1(commit.files, path) if entry is None else None
    last = last_commit_touching(space, commit, path) if expand else None
    return TreeItem(path, entry, tree_oid, last)


def tree_sha1(files: dict[str, FileEntry], directory: str) -> str:
    """The git tree SHA-1 of `directory` in a snapshot, as git would compute it."""
    prefix = directory + "/" if directory else ""
    children: dict[str, tuple[bytes, str]] = {}
    for path, entry in files.items():
        if not path.startswith(prefix):
            continue
        head, _, rest = path[len(prefix) :].partition("/")
        if rest:
            children.setdefault(head, (b"40000", ""))
        else:
            oid = (
                git_blob_sha1(lfs_pointer(entry.sha256, entry.size)) if entry.sha256 else entry.oid
            )
            children[head] = (b"100644", oid)
    body = b""
    # git orders tree entries by name, with directories compared as if they ended in "/".
    for name in sorted(children, key=lambda n: n + "/" if children[n][0] == b"40000" else n):
        mode, oid = children[name]
        if mode == b"40000":
            oid = tree_sha1(files, prefix + name)
        body += mode + b" " + name.encode() + b"\0" + bytes.fromhex(oid)
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def last_commit_touching(space: Space, commit: Commit, path: str) -> Commit:
    """The newest commit up to `commit` that changed `path` (a file, or anything under it)."""
    lineage = space.lineage(commit)
    prefix = path.rstrip("/") + "/"

    def snapshot(c: Commit) -> dict[str, str]:
        return {p: e.oid for p, e in c.files.items() if p == path or p.startswith(prefix)}

    current = snapshot(commit)
    for i in range(len(lineage) - 1, 0, -1):
        if snapshot(lineage[i - 1]) != current:
            return lineage[i]
    return lineage[0]


def download(store: Store, commit: Commit, path: str) -> tuple[FileEntry, bytes]:
    """A file of the revision and its content; 404 `EntryNotFound` for no such file."""
    entry = commit.files.get(path)
    if entry is None:
        raise ApiError(404, "Entry not found", code="EntryNotFound")
    return entry, store.blobs.get(entry.blob_key) or b""
