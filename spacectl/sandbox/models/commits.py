"""Commits to a Space's `main` branch: the operations of a commit (add, add from LFS, delete a
file or a folder), the `parentCommit` check (412 when stale), git's rules on paths, and the
history."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.models.lfs import HEX64, LFS_THRESHOLD, stored
from spacectl.sandbox.models.runtime import rebuild_unless_paused
from spacectl.sandbox.records import Commit, FileEntry

if TYPE_CHECKING:
    from spacectl.sandbox.context import Context
    from spacectl.sandbox.records import Space

_COMMIT_ID = re.compile(r"^[0-9a-fA-F]{5,40}$")
# The Hub's 412 text for a stale `parentCommit` (huggingface_hub's tests assert it).
STALE_PARENT = "The branch was updated since you opened this page. Please refresh and try again."


def new_commit(
    space_id: str,
    parent: Commit | None,
    files: dict[str, FileEntry],
    title: str,
    message: str,
    author: str,
    now: float,
) -> Commit:
    """A commit with a fresh id (40 hex digits, like git's, unique even for equal content)."""
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


def check_header(header: dict[str, Any]) -> tuple[str, str]:
    """(summary, description) of a commit's header; 400 for an empty summary."""
    summary = header.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ApiError(400, "The commit summary must not be empty")
    if not isinstance(header.get("description", ""), str):
        raise ApiError(400, "The commit description must be a string")
    return summary.strip(), str(header.get("description") or "")


def commit(
    ctx: Context,
    space: Space,
    revision: str,
    parent: Any,
    message: tuple[str, str],
    operations: list[tuple[str, dict[str, Any]]],
) -> Commit:
    """Apply `operations` (key, value) on the head of the branch `revision` as one new commit by
    the caller, with `message` from `check_header`, if that head is `parent` (when given); a
    commit to `main` rebuilds the Space unless paused (the Hub runs `main` only)."""
    branch = space.branch_of(revision)
    if branch is None:
        space.resolve(revision)  # 404 RevisionNotFound when it names nothing
        raise ApiError(400, f"Can only commit to a branch, not to {revision}")
    if parent is not None and not (isinstance(parent, str) and _COMMIT_ID.match(parent)):
        raise ApiError(400, "parentCommit must be a commit id (5 to 40 hex digits)")
    head = space.resolve(branch)
    if parent and not head.id.startswith(parent.lower()):
        raise ApiError(412, STALE_PARENT)
    files = dict(head.files)
    for key, value in operations:
        _apply(ctx, space, files, key, value)
    _check_file_folder_clash(files)
    author = ctx.writer().user
    made = new_commit(space.id, head, files, *message, author, ctx.now())
    if branch == "main":
        space.commits.append(made)
        rebuild_unless_paused(ctx, space)
    else:
        space.branch_commits.append(made)
        space.branches[branch].append(made.id)
    return made


def history(space: Space, head: Commit) -> list[Commit]:
    """The commits up to `head`, newest first."""
    return list(reversed(space.lineage(head)))


def _apply(
    ctx: Context, space: Space, files: dict[str, FileEntry], key: str, value: dict[str, Any]
) -> None:
    path = _checked_path(value.get("path"))
    st = ctx.store
    if key == "file":
        data = _content(path, value)
        if ctx.options.upload_mode == "auto" and len(data) >= LFS_THRESHOLD:
            raise ApiError(
                400,
                f"Your push was rejected because {path} is larger than 10 MiB. "
                "Use LFS (Git Large File Storage) for large files.",
            )
        files[path] = st.put_file(data)
    elif key == "lfsFile":
        oid = str(value.get("oid", "")).lower()
        if value.get("algo", "sha256") != "sha256" or not HEX64.match(oid):
            raise ApiError(400, f"{path}: lfsFile needs a sha256 oid")
        if not stored(st, space, oid):
            raise ApiError(
                400,
                "Your push was rejected because an LFS pointer pointed to a file that "
                f"does not exist: {path} ({oid}). Upload it through the LFS batch API first.",
            )
        blob = st.blobs.get(f"lfs/{oid}")
        length = len(blob) if blob is not None else 0
        size = value.get("size", length)  # copies send no size
        if size != length or isinstance(size, bool):
            raise ApiError(
                400, f"{path}: size {size!r} does not match the uploaded object ({length})"
            )
        files[path] = FileEntry.lfs(oid, length)
    elif key in ("deletedFile", "deletedFolder"):
        # The Hub deletes whatever the path names: a `deletedFile` of a folder (the client
        # sends one for a path without a trailing `/`) removes the folder, as git rm -r would.
        prefix = path.rstrip("/") + "/"
        doomed = [p for p in files if p == path or p.startswith(prefix)]
        if not doomed:
            what = "file" if key == "deletedFile" else "folder"
            raise ApiError(
                404, f"A {what} with this name doesn't exist: {path}", code="EntryNotFound"
            )
        for p in doomed:
            del files[p]
    else:
        raise ApiError(400, f"Unknown commit operation {key!r}")


def _content(path: str, value: dict[str, Any]) -> bytes:
    """The bytes of a `file` operation (base64 or utf-8)."""
    encoding = value.get("encoding", "base64")
    content = value.get("content", "")
    if not isinstance(content, str):
        raise ApiError(400, f"{path}: content must be a string")
    if encoding == "base64":
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, f"{path}: content is not valid base64") from None
    if encoding == "utf-8":
        return content.encode()
    raise ApiError(400, f"{path}: unknown encoding {encoding!r}")


def _check_file_folder_clash(files: dict[str, FileEntry]) -> None:
    """A git tree cannot hold a file and a folder of the same name (`a` and `a/b`): refuse the
    commit that would make one, as the Hub cannot store it either."""
    folders = {path[:i] for path in files for i, c in enumerate(path) if c == "/"}
    clash = sorted(folders.intersection(files))
    if clash:
        raise ApiError(400, f"'{clash[0]}' cannot be both a file and a folder")


def _checked_path(value: Any) -> str:
    """The repository path of an operation; 422 for one the Hub refuses: one that starts by
    leaving the repository (`..\\ddd`: its first segment, by `/` or `\\`, is `.` or `..`), or
    with an empty, `.`, `..` or `.git` segment. A backslash elsewhere is a plain character, as
    on the Hub (`folder/..\\..\\file` is stored: huggingface_hub's download tests rely on it)."""
    if not isinstance(value, str) or not value.strip("/"):
        raise ApiError(400, "Each commit operation needs a non-empty path")
    path = value.lstrip("/")
    if path.startswith("./"):
        path = path[2:]
    parts = path.rstrip("/").split("/")
    first = parts[0].split("\\", 1)[0]
    if first in (".", "..") or any(p in ("", ".", "..", ".git") for p in parts):
        raise ApiError(422, f"Invalid path in commit: {value!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ApiError(422, f"Invalid path in commit (a control character): {value!r}")
    return path
