"""The Xet layouts (`sandbox/models/xetformat.py`) against a xorb and a shard the real hf_xet
1.8 wrote: uploading `fixture_content()` through the client to `spacectl sandbox serve --data`
left them in `xet_fixtures/` (how: `capture_fixtures` below, rerun it after a format change)."""

from __future__ import annotations

import hashlib
import random
import struct
from pathlib import Path

import pytest

from spacectl.sandbox.models import xetformat
from spacectl.sandbox.models.xetformat import FormatError

FIXTURES = Path(__file__).parent / "xet_fixtures"


def fixture_content() -> bytes:
    """Weight-like float32 values, text and random bytes. hf_xet picks a compression scheme
    from the first chunk (then every 32): the floats make it byte grouping."""
    rng = random.Random(10)
    noise = rng.randbytes(100_000)
    floats = struct.pack("<40000f", *(rng.gauss(0, 0.02) for _ in range(40_000)))
    text = b"".join(b"line %d of the fixture text\n" % i for i in range(3_000))
    return floats + text + noise


def _fixture(kind: str) -> tuple[str, bytes]:
    (path,) = FIXTURES.glob(f"{kind}-*.bin")
    return path.stem.split("-", 1)[1], path.read_bytes()


def test_the_shard_describes_the_uploaded_file() -> None:
    _, shard = _fixture("xetshard")
    content = fixture_content()
    (file,) = xetformat.shard_files(shard)
    assert file.size == len(content)
    # The metadata extension's SHA-256 is in Merkle-hash byte order: hash_hex undoes it.
    assert file.sha256 == hashlib.sha256(content).hexdigest()
    assert {term.xorb for term in file.terms} == {_fixture("xorb")[0]}


def test_the_xorb_rebuilds_the_file_byte_for_byte() -> None:
    _, xorb = _fixture("xorb")
    (file,) = xetformat.shard_files(_fixture("xetshard")[1])
    chunks = xetformat.xorb_chunks(xorb)
    rebuilt = b"".join(xetformat.term_content(xorb, chunks, t) for t in file.terms)
    assert rebuilt == fixture_content()
    # The fixture exercises every scheme hf_xet chose for it, byte grouping included.
    assert xetformat.BYTE_GROUPING_4_LZ4 in {c.scheme for c in chunks}
    assert chunks[-1].end <= len(xorb)


def test_hash_spelling_round_trips_and_reorders_each_word() -> None:
    raw = bytes(range(32))
    text = xetformat.hash_hex(raw)
    assert text.startswith("0706050403020100")
    assert xetformat.hash_raw(text) == raw


def test_a_truncated_xorb_is_a_format_error() -> None:
    _, xorb = _fixture("xorb")
    with pytest.raises(FormatError, match="truncated"):
        xetformat.xorb_chunks(xorb[: len(xorb) // 2 + 3])
    with pytest.raises(FormatError, match="truncated"):
        xetformat.xorb_chunks(xorb[:5])


def test_a_corrupt_chunk_is_a_format_error() -> None:
    _, xorb = _fixture("xorb")
    chunks = xetformat.xorb_chunks(xorb)
    compressed = next(c for c in chunks if c.scheme != xetformat.NO_COMPRESSION)
    broken = bytearray(xorb)
    start = compressed.offset + xetformat.CHUNK_HEADER
    broken[start : start + 16] = b"\xff" * 16
    with pytest.raises(FormatError):
        xetformat.chunk_content(bytes(broken), compressed)
    broken = bytearray(xorb)
    broken[4] = 9  # the first chunk's compression scheme
    with pytest.raises(FormatError, match="scheme"):
        xetformat.xorb_chunks(bytes(broken))


def test_bad_shards_are_format_errors() -> None:
    _, shard = _fixture("xetshard")
    with pytest.raises(FormatError, match="magic"):
        xetformat.shard_files(b"not a shard" * 10)
    with pytest.raises(FormatError, match="truncated"):
        xetformat.shard_files(shard[:100])
    (file,) = xetformat.shard_files(shard)
    _, xorb = _fixture("xorb")
    chunks = xetformat.xorb_chunks(xorb)
    beyond = file.terms[0]._replace(end=len(chunks) + 1)
    with pytest.raises(FormatError, match="not in xorb"):
        xetformat.term_content(xorb, chunks, beyond)


def capture_fixtures() -> None:  # pragma: no cover - run by hand: python -c "..."
    """Upload `fixture_content()` with the installed client and keep the xorb and shard."""
    import shutil
    import subprocess
    import sys
    import tempfile

    from spacectl.sandbox.testing import sandbox_process

    script = (
        "import os, sys; from huggingface_hub import HfApi; api = HfApi();"
        "api.create_repo('user/demo', repo_type='space', space_sdk='static');"
        "p = os.environ['HF_HOME'] + '/f.bin'; open(p, 'wb').write(sys.stdin.buffer.read());"
        "api.upload_file(path_or_fileobj=p, path_in_repo='f.bin', repo_id='user/demo',"
        " repo_type='space')"
    )
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        with sandbox_process(Path(scratch), data=str(data)) as sandbox:
            subprocess.run(
                [sys.executable, "-c", script],
                input=fixture_content(),
                env=sandbox.env(xet=True),
                check=True,
                timeout=300,
            )
        for old in FIXTURES.glob("*.bin"):
            old.unlink()
        for kind in ("xorb", "xetshard"):
            for blob in (data / "blobs" / kind).rglob("*"):
                if blob.is_file():
                    shutil.copy(blob, FIXTURES / f"{kind}-{blob.name}.bin")
