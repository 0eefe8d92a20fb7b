"""Large files: which upload mode `preupload` advises for a file, and LFS objects (the batch
API hands out upload URLs authorised by an unguessable id, the upload checks the content, and
verify confirms it)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from typing import TYPE_CHECKING, Any, NamedTuple

from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.models.gitpatterns import GitPatterns, lfs_patterns
from spacectl.sandbox.records import Commit, FileEntry

if TYPE_CHECKING:
    from spacectl.sandbox.context import Context
    from spacectl.sandbox.records import Space
    from spacectl.sandbox.store import Store

LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub sends files of 10 MiB or more to LFS
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Advice(NamedTuple):
    """`preupload`'s answer for one file: how to upload it, whether git ignores it, and the
    entry it would replace."""

    path: str
    mode: str  # "regular" or "lfs"
    ignored: bool
    current: FileEntry | None


class BatchObject(NamedTuple):
    """The batch API's answer for one object: invalid, already stored (`upload_id` None), or
    to upload at the URL of `upload_id`."""

    oid: str
    size: Any
    valid: bool
    upload_id: str | None


def preupload(
    ctx: Context, commit: Commit, files: list[dict[str, Any]], git_ignore: Any
) -> list[Advice]:
    """Advice for each `{path, sample, size}`, with the LFS rules of the commit's
    `.gitattributes` and the `git_ignore` text sent (else the commit's `.gitignore`)."""
    st = ctx.store
    lfs_rules = lfs_patterns(st.read_file(commit, ".gitattributes") or b"")
    if not isinstance(git_ignore, str):
        git_ignore = (st.read_file(commit, ".gitignore") or b"").decode("utf-8", "replace")
    ignore = GitPatterns(git_ignore.splitlines())
    return [
        Advice(
            item["path"],
            _upload_mode(ctx, item, lfs_rules),
            ignore.matches(item["path"]),
            commit.files.get(item["path"]),
        )
        for item in files
    ]


def _upload_mode(ctx: Context, item: dict[str, Any], lfs_rules: GitPatterns) -> str:
    """LFS for large files, binary samples (a NUL byte) and `.gitattributes` LFS paths, as the
    Hub decides; never with `--upload-mode regular`."""
    if ctx.options.upload_mode == "regular":
        return "regular"
    size = item.get("size")
    if isinstance(size, int) and size >= LFS_THRESHOLD:
        return "lfs"
    try:
        sample = base64.b64decode(str(item.get("sample") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"Invalid base64 sample for {item['path']}") from None
    if b"\0" in sample or lfs_rules.matches(item["path"]):
        return "lfs"
    return "regular"


def repo_of(namespace: str, repo: str) -> str:
    """The Space id of a git LFS URL's `{namespace}/{repo}` (`name.git`); 404 otherwise."""
    if not repo.endswith(".git"):
        raise ApiError(404, "Not Found")
    return f"{namespace}/{repo[: -len('.git')]}"


def stored(store: Store, space: Space, oid: str) -> bool:
    """The LFS object `oid` was uploaded to `space`."""
    return oid in space.lfs_objects and store.blobs.has(f"lfs/{oid}")


def batch(ctx: Context, space: Space, objects: list[Any]) -> list[BatchObject]:
    """The batch API's upload answers; each object not stored yet gets a pending upload."""
    answers = []
    for obj in objects:
        oid = str(obj.get("oid", "")) if isinstance(obj, dict) else ""
        size = obj.get("size") if isinstance(obj, dict) else None
        if not HEX64.match(oid) or not isinstance(size, int) or size < 0:
            answers.append(BatchObject(oid, size, False, None))
            continue
        upload_id = None
        if not stored(ctx.store, space, oid):
            upload_id = secrets.token_urlsafe(24)
            ctx.store.uploads[upload_id] = (space.id, oid, size)
        answers.append(BatchObject(oid, size, True, upload_id))
    return answers


def receive(store: Store, upload_id: str, body: bytes) -> None:
    """Store the content of a pending upload if it has the announced oid and size."""
    pending = store.uploads.get(upload_id)
    if pending is None:
        raise ApiError(404, "Unknown or expired upload URL")
    space_id, oid, size = pending
    if len(body) != size or hashlib.sha256(body).hexdigest() != oid:
        raise ApiError(400, "The uploaded content does not match the announced oid and size")
    store.blobs.put(f"lfs/{oid}", body)
    space = store.find(space_id)
    if space is not None:
        space.lfs_objects.add(oid)
    del store.uploads[upload_id]


def verify(store: Store, space: Space, oid: str) -> None:
    if not stored(store, space, oid):
        raise ApiError(404, f"LFS object {oid} was not uploaded")
