"""Xet storage, as a way into the sandbox's large-file (LFS) store.

The client uploads a large file as xorbs (compressed chunks) and a shard (how to rebuild each
file from xorb chunks). On shard upload every file is rebuilt, its size and SHA-256 checked,
and it is stored as the LFS object of that SHA-256, so the commit's `lfsFile` finds it and a
plain `/resolve` download serves it. A Xet download asks for a file's reconstruction (terms
plus byte ranges of xorbs) and fetches the ranges from unguessable URLs.

Blobs: `xorb/{hash}` (the xorb as uploaded), `xetfile/{file hash}` (its reconstruction, JSON),
`xetsha/{sha256}` (the file hash of an LFS object stored through Xet), `xetshard/{sha256}` (each
shard as uploaded, as the Hub's CAS keeps them). CAS access tokens live
in memory only: the client asks for a new one when its token is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spacectl.fsio import write_atomic
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.models import xetformat
from spacectl.sandbox.models.xetformat import Chunk, FormatError, ShardFile, Term

if TYPE_CHECKING:
    from spacectl.sandbox.records import Space
    from spacectl.sandbox.store import Store

TOKEN_SECONDS = 3600
HASH = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass(frozen=True)
class Grant:
    """A CAS access token: the Space it was issued for, "read" or "write", and its expiry."""

    space_id: str
    scope: str
    expires: float


@dataclass
class XetState:
    """The CAS's identity and tokens.

    `instance` goes into the CAS URL: `hf_xet` caches what it uploaded per CAS URL, so a fresh
    sandbox on a reused port must not share one with an old one. It is persisted with `--data`
    (whose xorbs that cache then correctly describes) and random otherwise. `secret` signs
    fetch URLs; it changes at every start, as fetch URLs are asked for afresh each download."""

    instance: str
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    grants: dict[str, Grant] = field(default_factory=dict)
    chunk_cache: dict[str, list[Chunk]] = field(default_factory=dict)

    @classmethod
    def open(cls, data_dir: Path | None) -> XetState:
        if data_dir is None:
            return cls(secrets.token_hex(8))
        path = data_dir / "xet.json"
        if path.exists():
            return cls(str(json.loads(path.read_text())["instance"]))
        state = cls(secrets.token_hex(8))
        write_atomic(path, json.dumps({"instance": state.instance}).encode(), private=True)
        return state


# -- tokens ---------------------------------------------------------------------------------------


def issue(state: XetState, space: Space, scope: str, now: float) -> tuple[str, int]:
    """A new CAS token for `space` with `scope`, and its expiry (unix seconds)."""
    token = "xet_" + secrets.token_urlsafe(32)
    expires = int(now) + TOKEN_SECONDS
    state.grants[token] = Grant(space.id, scope, expires)
    return token, expires


def grant_of(state: XetState, authorization: str | None, now: float, *, write: bool) -> Grant:
    """The grant of a CAS request's `Authorization`; 401 unknown or expired, 403 read-only."""
    scheme, _, token = (authorization or "").partition(" ")
    grant = state.grants.get(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None or grant.expires <= now:
        raise ApiError(401, "Missing, unknown or expired Xet access token")
    if write and grant.scope != "write":
        raise ApiError(403, "This Xet access token is read-only")
    return grant


# -- uploads --------------------------------------------------------------------------------------


def checked_hash(value: str) -> str:
    if not HASH.match(value):
        raise ApiError(400, f"Malformed hash {value[:80]!r}: 64 lowercase hex digits")
    return value


def put_xorb(state: XetState, store: Store, xorb: str, data: bytes) -> bool:
    """Store a xorb after walking its chunk headers; False if it was stored already."""
    checked_hash(xorb)
    key = f"xorb/{xorb}"
    if store.blobs.has(key):
        return False
    try:
        chunks = xetformat.xorb_chunks(data)
    except FormatError as error:
        raise ApiError(400, f"Invalid xorb {xorb}: {error}") from None
    store.blobs.put(key, data)
    state.chunk_cache[xorb] = chunks
    return True


def rebuild(state: XetState, store: Store, shard: bytes) -> list[tuple[ShardFile, bytes]]:
    """Each file of `shard` with its content, rebuilt from stored xorbs and checked against
    the shard's size and SHA-256; 400 for a bad shard, a missing xorb or a mismatch."""
    try:
        files = xetformat.shard_files(shard)
    except FormatError as error:
        raise ApiError(400, f"Invalid shard: {error}") from None
    xorbs: dict[str, bytes] = {}
    rebuilt = []
    for file in files:
        if file.sha256 is None:
            raise ApiError(400, f"Shard file {file.hash} lacks the SHA-256 metadata extension")
        parts = []
        for term in file.terms:
            if term.xorb not in xorbs:
                data = store.blobs.get(f"xorb/{term.xorb}")
                if data is None:
                    raise ApiError(400, f"Shard references xorb {term.xorb}, never uploaded")
                xorbs[term.xorb] = data
            try:
                chunks = _chunks(state, store, term.xorb, xorbs[term.xorb])
                parts.append(xetformat.term_content(xorbs[term.xorb], chunks, term))
            except FormatError as error:
                raise ApiError(400, f"Shard file {file.hash}: {error}") from None
        content = b"".join(parts)
        if hashlib.sha256(content).hexdigest() != file.sha256:
            raise ApiError(400, f"Shard file {file.hash}: content does not match its SHA-256")
        rebuilt.append((file, content))
    return rebuilt


def register(store: Store, space: Space, file: ShardFile, content: bytes) -> bool:
    """Store a rebuilt file as the LFS object of `space` and its reconstruction; False if the
    reconstruction was known already."""
    assert file.sha256 is not None
    known = store.blobs.has(f"xetfile/{file.hash}")
    store.blobs.put(f"lfs/{file.sha256}", content)
    space.lfs_objects.add(file.sha256)
    terms = [list(term) for term in file.terms]
    record = {"sha256": file.sha256, "size": file.size, "terms": terms}
    store.blobs.put(f"xetfile/{file.hash}", json.dumps(record).encode())
    store.blobs.put(f"xetsha/{file.sha256}", file.hash.encode())
    return not known


def keep_shard(store: Store, shard: bytes) -> None:
    store.blobs.put(f"xetshard/{hashlib.sha256(shard).hexdigest()}", shard)


def file_hash(store: Store, sha256: str) -> str | None:
    """The Xet hash of the LFS object `sha256`, if it was stored through Xet."""
    raw = store.blobs.get(f"xetsha/{sha256}")
    return raw.decode() if raw is not None else None


# -- downloads ------------------------------------------------------------------------------------


def reconstruction(
    state: XetState, store: Store, space: Space, file: str, byte_range: str | None, url: str
) -> dict[str, Any]:
    """The v1 reconstruction of the part `byte_range` (a `Range` header, None for all) of the
    file `file` of `space`; fetch URLs start with `url` (the CAS URL)."""
    raw = store.blobs.get(f"xetfile/{checked_hash(file)}")
    record = json.loads(raw) if raw is not None else None
    if record is None or record["sha256"] not in space.lfs_objects:
        raise ApiError(404, f"No file {file} in the Xet storage of {space.id}")
    size = record["size"]
    first, last = _range(byte_range, size)
    terms: list[dict[str, Any]] = []
    fetch: dict[str, list[dict[str, Any]]] = {}
    offset_into_first = 0
    position = 0
    for term in (Term(*t) for t in record["terms"]):
        start, position = position, position + term.size
        if position <= first or start > last:
            continue
        if not terms:
            offset_into_first = first - start
        terms.append(
            {
                "hash": term.xorb,
                "unpacked_length": term.size,
                "range": {"start": term.start, "end": term.end},
            }
        )
        chunks = _chunks(state, store, term.xorb)
        entry = {
            "range": {"start": term.start, "end": term.end},
            "url": f"{url}/fetch/{term.xorb}/{_signature(state, term.xorb)}",
            "url_range": {"start": chunks[term.start].offset, "end": chunks[term.end - 1].end - 1},
        }
        if entry not in fetch.setdefault(term.xorb, []):
            fetch[term.xorb].append(entry)
    return {"offset_into_first_range": offset_into_first, "terms": terms, "fetch_info": fetch}


def fetch(
    state: XetState, store: Store, xorb: str, signature: str, byte_range: str | None
) -> tuple[bytes, tuple[int, int, int] | None]:
    """The bytes of a fetch URL's xorb (all, or the `byte_range` asked for, then also the
    range and the xorb's length for `Content-Range`); 404 for a URL the sandbox did not sign."""
    if not HASH.match(xorb) or not hmac.compare_digest(signature, _signature(state, xorb)):
        raise ApiError(404, "Not Found")
    data = store.blobs.get(f"xorb/{xorb}")
    if data is None:
        raise ApiError(404, "Not Found")
    if byte_range is None:
        return data, None
    first, last = _range(byte_range, len(data))
    return data[first : last + 1], (first, last, len(data))


def _range(header: str | None, size: int) -> tuple[int, int]:
    """The inclusive byte range a `Range` header asks of `size` bytes (all without one)."""
    if header is None:
        return 0, size - 1
    match = _RANGE.match(header.strip())
    if match is None:
        raise ApiError(400, f"Unsupported Range header {header[:80]!r}")
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if first >= size or last < first:
        raise ApiError(416, f"Range {header[:80]!r} is not within the {size} bytes")
    return first, last


def _signature(state: XetState, xorb: str) -> str:
    return hmac.new(state.secret, xorb.encode(), hashlib.sha256).hexdigest()


def _chunks(state: XetState, store: Store, xorb: str, data: bytes | None = None) -> list[Chunk]:
    """The chunks of a stored xorb (whose bytes are `data` if at hand), remembered so that a
    download does not read the xorb whole."""
    cached = state.chunk_cache.get(xorb)
    if cached is None:
        if data is None:
            data = store.blobs.get(f"xorb/{xorb}")
        if data is None:
            raise ApiError(404, f"Xorb {xorb} is missing")
        cached = state.chunk_cache[xorb] = xetformat.xorb_chunks(data)
    return cached
