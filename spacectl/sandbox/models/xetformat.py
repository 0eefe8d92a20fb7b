"""The two Xet binary layouts the sandbox reads: xorbs (compressed chunks) and shards (file
reconstructions), as the Xet protocol specification and the installed `hf_xet` write them.

Only what serving the client needs: walking a xorb's chunk headers (byte ranges for
reconstructions), decompressing chunks (to rebuild a file and check its SHA-256), and reading a
shard's file section. Neither content-defined chunking nor BLAKE3 hashing is needed; xorb hashes
are therefore not verified (see docs/sandbox.md). Every malformed input raises `FormatError`.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import lz4.frame

CHUNK_HEADER = 8
MAX_CHUNK = 128 * 1024  # the spec's largest chunk; compressed data may take at most twice that
XORB_FOOTER_MAGIC = b"XETBLOB"  # a serialized xorb's optional metadata footer starts with it
SHARD_MAGIC = b"HFRepoMetaData" + bytes(
    [0, 85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
SHARD_VERSION = 2
ENTRY = 48  # every shard record is 48 bytes
BOOKEND = b"\xff" * 32  # the hash of the record that ends a shard section
WITH_VERIFICATION = 1 << 31
WITH_METADATA_EXT = 1 << 30
NO_COMPRESSION, LZ4, BYTE_GROUPING_4_LZ4 = 0, 1, 2


class FormatError(ValueError):
    """A xorb or shard that does not follow the layout; the message says where."""


class Chunk(NamedTuple):
    """A chunk of a xorb: where its header starts, its stored and its original length."""

    offset: int
    scheme: int
    stored: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + CHUNK_HEADER + self.stored


class Term(NamedTuple):
    """Part of a file: chunks `[start, end)` of xorb `xorb`, `size` bytes once decompressed."""

    xorb: str
    start: int
    end: int
    size: int


class ShardFile(NamedTuple):
    """A file a shard describes: its Xet hash, its terms in order, and the SHA-256 of its
    content from the metadata extension (None if the shard has none)."""

    hash: str
    terms: tuple[Term, ...]
    sha256: str | None

    @property
    def size(self) -> int:
        return sum(term.size for term in self.terms)


def hash_hex(raw: bytes) -> str:
    """A 32-byte Merkle hash as the protocol spells it: four little-endian u64, each in hex.

    Plain hex of the bytes is wrong; the SHA-256 of the metadata extension is stored the same
    way (the quirk of ../shared/design/xet.md)."""
    if len(raw) != 32:
        raise FormatError("a hash has 32 bytes")
    return "".join(raw[i : i + 8][::-1].hex() for i in range(0, 32, 8))


def hash_raw(text: str) -> bytes:
    """The bytes of a hash spelled by `hash_hex` (its inverse)."""
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise FormatError("a hash has 64 hex digits")
    return b"".join(raw[i : i + 8][::-1] for i in range(0, 32, 8))


def xorb_chunks(data: bytes) -> list[Chunk]:
    """The chunks of a serialized xorb, in order; a trailing metadata footer is skipped."""
    chunks: list[Chunk] = []
    offset = 0
    while offset < len(data):
        if data.startswith(XORB_FOOTER_MAGIC, offset):
            break
        header = data[offset : offset + CHUNK_HEADER]
        if len(header) < CHUNK_HEADER:
            raise FormatError(f"xorb truncated in the chunk header at byte {offset}")
        version, scheme = header[0], header[4]
        stored = int.from_bytes(header[1:4], "little")
        size = int.from_bytes(header[5:8], "little")
        if version != 0:
            raise FormatError(f"chunk at byte {offset}: unknown header version {version}")
        if scheme not in (NO_COMPRESSION, LZ4, BYTE_GROUPING_4_LZ4):
            raise FormatError(f"chunk at byte {offset}: unknown compression scheme {scheme}")
        if size == 0 or size > MAX_CHUNK or stored > 2 * MAX_CHUNK:
            raise FormatError(f"chunk at byte {offset}: implausible lengths {stored}/{size}")
        chunk = Chunk(offset, scheme, stored, size)
        if chunk.end > len(data):
            raise FormatError(f"xorb truncated in the chunk at byte {offset}")
        chunks.append(chunk)
        offset = chunk.end
    if not chunks:
        raise FormatError("a xorb holds at least one chunk")
    return chunks


def chunk_content(data: bytes, chunk: Chunk) -> bytes:
    """The original bytes of `chunk` of the xorb `data`."""
    payload = data[chunk.offset + CHUNK_HEADER : chunk.end]
    if chunk.scheme == NO_COMPRESSION:
        content = payload
    else:
        try:
            content = lz4.frame.decompress(payload)
        except RuntimeError as error:  # lz4 reports corrupt frames as RuntimeError
            raise FormatError(f"chunk at byte {chunk.offset}: bad LZ4 frame ({error})") from None
        if chunk.scheme == BYTE_GROUPING_4_LZ4:
            content = _regroup(content)
    if len(content) != chunk.size:
        raise FormatError(f"chunk at byte {chunk.offset}: {len(content)} bytes, not {chunk.size}")
    return content


def _regroup(grouped: bytes) -> bytes:
    """Undo byte grouping: the content was stored as its bytes 0, 4, 8..., then 1, 5, 9...,
    then 2, 6..., then 3, 7...; the first `len % 4` groups hold one byte more."""
    n = len(grouped)
    out = bytearray(n)
    start = 0
    for group in range(4):
        length = n // 4 + (1 if group < n % 4 else 0)
        out[group::4] = grouped[start : start + length]
        start += length
    return bytes(out)


def term_content(data: bytes, chunks: list[Chunk], term: Term) -> bytes:
    """The bytes of `term`, whose xorb is `data` with `chunks`; checks the announced size."""
    if not 0 <= term.start < term.end <= len(chunks):
        raise FormatError(
            f"chunks {term.start}..{term.end} are not in xorb {term.xorb} ({len(chunks)} chunks)"
        )
    content = b"".join(chunk_content(data, c) for c in chunks[term.start : term.end])
    if len(content) != term.size:
        raise FormatError(f"xorb {term.xorb} chunks {term.start}..{term.end}: wrong size")
    return content


def shard_files(data: bytes) -> list[ShardFile]:
    """The files of a serialized shard (header, file section; the rest is not needed)."""
    if len(data) < ENTRY or data[:32] != SHARD_MAGIC:
        raise FormatError("not a Xet shard (wrong magic number)")
    version = struct.unpack_from("<Q", data, 32)[0]
    if version != SHARD_VERSION:
        raise FormatError(f"unsupported shard version {version}")
    offset = ENTRY
    files: list[ShardFile] = []
    while True:
        record = _record(data, offset)
        offset += ENTRY
        if record[:32] == BOOKEND:
            return files
        flags, count = struct.unpack_from("<II", record, 32)
        terms = []
        for _ in range(count):
            entry = _record(data, offset)
            offset += ENTRY
            size, start, end = struct.unpack_from("<III", entry, 36)
            terms.append(Term(hash_hex(entry[:32]), start, end, size))
        if flags & WITH_VERIFICATION:
            offset += count * ENTRY  # range hashes: checking them needs BLAKE3
        sha256 = None
        if flags & WITH_METADATA_EXT:
            sha256 = hash_hex(_record(data, offset)[:32])
            offset += ENTRY
        if not terms:
            raise FormatError(f"file {hash_hex(record[:32])} has no terms")
        files.append(ShardFile(hash_hex(record[:32]), tuple(terms), sha256))


def _record(data: bytes, offset: int) -> bytes:
    record = data[offset : offset + ENTRY]
    if len(record) < ENTRY:
        raise FormatError(f"shard truncated at byte {offset}")
    return record
