"""Binary files through Xet storage, as the client's default install uploads them: `spacectl
apply` against `spacectl sandbox serve`, re-planned as unchanged, downloaded identically with
Xet on and off, after a restart too; broken xorbs and shards are refused with a 4xx."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

from spacectl.sandbox.testing import SandboxProcess, sandbox_process

from .conftest import BOT, BOT_TOKEN, ORG, READ_TOKEN, Workspace

MODEL_BYTES = 30 * 1024 * 1024

DOWNLOAD = """
import hashlib, json, os, sys
from huggingface_hub import hf_hub_download
result = {}
for name in sys.argv[2:]:
    path = hf_hub_download(sys.argv[1], name, repo_type="space", cache_dir=os.environ["HF_HOME"])
    result[name] = hashlib.sha256(open(path, "rb").read()).hexdigest()
print(json.dumps(result))
"""


def _png() -> bytes:
    """A valid 16x16 grey PNG (binary: it holds NUL bytes, so it is a large file on the Hub)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes([i * 16] * 16) for i in range(16))
    header = struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/readme.txt", "examples\n" * 500)
        archive.writestr("data/table.csv", "".join(f"{i},{i * i}\n" for i in range(2000)))
    return buffer.getvalue()


def _files(root: Path) -> dict[str, bytes]:
    files = {
        "index.html": b"<img src='logo.png'>\n",
        "logo.png": _png(),
        "model.safetensors": os.urandom(MODEL_BYTES),
        "samples.zip": _zip(),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def download(
    sandbox: SandboxProcess, repo: str, names: list[str], *, xet: bool, token: str = READ_TOKEN
) -> dict[str, str]:
    """SHA-256 of each file `hf_hub_download` returns, in a client process with Xet on/off."""
    done = subprocess.run(
        [sys.executable, "-c", DOWNLOAD, repo, *names],
        env=sandbox.env(xet=xet, token=token),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_binary_files_apply_through_xet_and_download_identically(workspace: Workspace) -> None:
    ws = workspace
    media = ws.root / "media"
    media.mkdir()
    files = _files(media)
    ws.manifest.write_text(
        f"version: 1\nowner: {ORG}\nspaces:\n  media:\n    sdk: static\n    source: ./media\n"
    )
    xet_env = ws.sandbox.env(xet=True, token=BOT_TOKEN)  # the client's default: hf_xet on
    ws.sandbox.clear_requests()
    applied = ws.run("apply", "--yes", env=xet_env)
    assert applied.code == 0, applied.both
    log = [(r["method"], str(r["path"]), r["status"]) for r in ws.sandbox.requests()]
    cas = [(m, p.split("/", 3)[3], s) for m, p, s in log if p.startswith("/sandbox-xet/")]
    assert any(p.startswith(f"/api/spaces/{ORG}/media/xet-write-token/") for _, p, _ in log)
    assert [s for m, p, s in cas if m == "POST" and p.startswith("v1/xorbs/default/")] != []
    assert ("POST", "v1/shards", 200) in cas
    assert not any("/info/lfs/" in p or p.startswith("/sandbox-lfs/") for _, p, _ in log)
    assert not any(s >= 500 for _, _, s in log), log

    plan = ws.run("plan", "--detailed-exitcode", env=xet_env)
    assert plan.code == 0, plan.both

    repo = f"{ORG}/media"
    expected = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    binaries = ["logo.png", "model.safetensors", "samples.zip"]
    ws.sandbox.clear_requests()
    assert download(ws.sandbox, repo, binaries, xet=True) == {n: expected[n] for n in binaries}
    paths = [str(r["path"]) for r in ws.sandbox.requests()]
    assert any("/v1/reconstructions/" in p for p in paths)
    assert any("/fetch/" in p for p in paths)
    ws.sandbox.clear_requests()
    assert download(ws.sandbox, repo, binaries, xet=False) == {n: expected[n] for n in binaries}
    assert not any(str(r["path"]).startswith("/sandbox-xet/") for r in ws.sandbox.requests())

    # curl's view: resolve serves the rebuilt bytes and advertises the Xet hash and token route.
    status, headers, body = ws.sandbox.http(
        "GET", f"/spaces/{repo}/resolve/main/samples.zip", headers=_auth(READ_TOKEN)
    )
    assert status == 200 and hashlib.sha256(body).hexdigest() == expected["samples.zip"]
    assert headers["X-Xet-Hash"] and 'rel="xet-auth"' in headers["Link"]
    assert "/xet-read-token/" in headers["Link"]


def test_xet_files_still_download_after_a_restart_with_data(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024) + bytes(1000)
    (tmp_path / "weights.bin").write_bytes(data)
    upload = (
        "import sys; from huggingface_hub import HfApi; api = HfApi();"
        "api.create_repo('ci-bot/keep', repo_type='space', space_sdk='static');"
        "api.upload_file(path_or_fileobj=sys.argv[1], path_in_repo='weights.bin',"
        " repo_id='ci-bot/keep', repo_type='space')"
    )
    with sandbox_process(
        tmp_path / "sb", data=str(tmp_path / "state"), user=[f"{BOT}:{BOT_TOKEN}"]
    ) as sandbox:
        done = subprocess.run(
            [sys.executable, "-c", upload, str(tmp_path / "weights.bin")],
            env=sandbox.env(xet=True, token=BOT_TOKEN),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        sandbox.restart()
        expected = {"weights.bin": hashlib.sha256(data).hexdigest()}
        names = ["weights.bin"]
        assert download(sandbox, "ci-bot/keep", names, xet=True, token=BOT_TOKEN) == expected
        assert any("/v1/reconstructions/" in str(r["path"]) for r in sandbox.requests())
        assert download(sandbox, "ci-bot/keep", names, xet=False, token=BOT_TOKEN) == expected


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
