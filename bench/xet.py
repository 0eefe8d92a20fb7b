"""Throughput of a large binary through the sandbox: Xet storage against the LFS path.

Run: `python -m bench.xet [MEGABYTES]` (default 200; a few minutes). One random
binary file is uploaded with `HfApi.upload_file` and downloaded with `hf_hub_download` by the
real client in a subprocess, once with the client's default (hf_xet) and once with
HF_HUB_DISABLE_XET=1 (git LFS batch API, plain HTTP download), each against a fresh
`spacectl sandbox serve` process persisting under --data. Every number printed is a wall
clock measured in this run (the client process's own timing of each call); MB is 10^6 bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from spacectl.sandbox.testing import sandbox_process

TOKEN = "hf_bench_xet_token_0123456789"
CLIENT = """
import hashlib, json, os, sys, time
from huggingface_hub import HfApi, hf_hub_download
path, = sys.argv[1:]
api = HfApi()
api.create_repo("bench/xet", repo_type="space", space_sdk="static")
started = time.monotonic()
api.upload_file(path_or_fileobj=path, path_in_repo="model.bin", repo_id="bench/xet",
                repo_type="space")
uploaded = time.monotonic() - started
started = time.monotonic()
got = hf_hub_download("bench/xet", "model.bin", repo_type="space",
                      cache_dir=os.path.join(os.environ["HF_HOME"], "downloads"))
downloaded = time.monotonic() - started
with open(got, "rb") as mine, open(path, "rb") as theirs:
    same = hashlib.sha256(mine.read()).digest() == hashlib.sha256(theirs.read()).digest()
print(json.dumps({"upload": uploaded, "download": downloaded, "same": same}))
"""


def measure(source: Path, scratch: Path, *, xet: bool) -> dict[str, float]:
    name = "xet" if xet else "lfs"
    with sandbox_process(
        scratch / name, data=str(scratch / name / "data"), user=[f"bench:{TOKEN}"]
    ) as sandbox:
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, str(source)],
            env=sandbox.env(xet=xet, token=TOKEN),
            capture_output=True,
            text=True,
            check=False,
        )
        paths = [str(r["path"]) for r in sandbox.requests()]
    if done.returncode != 0:
        raise SystemExit(f"the {name} client failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["same"]:
        raise SystemExit(f"{name}: the downloaded file differs from the uploaded one")
    used_xet = any(p.startswith("/sandbox-xet/") for p in paths)
    if used_xet != xet:
        raise SystemExit(f"{name}: the client {'did not use' if xet else 'used'} Xet storage")
    return result


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    size = megabytes * 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-xet-") as tmp:
        scratch = Path(tmp)
        source = scratch / "model.bin"
        with source.open("wb") as out:
            for _ in range(megabytes):
                out.write(os.urandom(1_000_000))
        print(f"$ python -m bench.xet {megabytes}")
        print(f"{'path':<34} {'upload MB/s':>12} {'download MB/s':>14}")
        for xet, label in (
            (True, "Xet (hf_xet, the default)"),
            (False, "LFS (HF_HUB_DISABLE_XET=1)"),
        ):
            timing = measure(source, scratch, xet=xet)
            up = size / 1e6 / timing["upload"]
            down = size / 1e6 / timing["download"]
            print(
                f"{label:<34} {up:>12.1f} {down:>14.1f}   "
                f"({megabytes} MB: {timing['upload']:.1f} s up, {timing['download']:.1f} s down)"
            )


if __name__ == "__main__":
    main()
