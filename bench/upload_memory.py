"""Peak resident memory of `spacectl apply` uploading one large file, measured, not estimated.

Run: `python -m bench.upload_memory [--size-mb N] [--xet]` (2048 MB by default; a few
minutes: the file is read by plan, by apply's checked copy, and by the client). Writes a file of
random-looking bytes (not sparse: every page is real), starts `spacectl sandbox serve`, and runs
`spacectl plan` and `spacectl apply --yes` as child processes; their peak RSS comes from
`resource.getrusage(RUSAGE_CHILDREN)` of a fresh waiter process per command.

- Default (HF_HUB_DISABLE_XET=1): the client uploads the file through LFS from apply's private,
  checked copy on disk (a path), so memory stays flat whatever the size.
- `--xet` (the client's default install): the sandbox speaks Xet, so hf_xet chunks the file
  from apply's checked copy into xorbs and uploads them (as against the Hub).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spacectl.sandbox.testing import sandbox_process

_WAITER = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def _write_big(path: Path, size_mb: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as out:
        for i in range(size_mb):
            out.write(block[i % 251 :] + block[: i % 251])  # every MiB differs


def _measure(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, float]:
    """(peak RSS in MB, exit code, seconds) of `spacectl ARGS`."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _WAITER, sys.executable, "-m", "spacectl", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    rss_kb, code = done.stdout.strip().splitlines()[-1].split()
    return int(rss_kb) / 1024, int(code), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--xet", action="store_true", help="leave Xet on (the client's default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as scratch:
        root = Path(scratch)
        (root / "app").mkdir()
        (root / "app" / "index.html").write_text("<p>big</p>\n")
        _write_big(root / "app" / "model.bin", args.size_mb)
        (root / "spaces.yaml").write_text(
            "version: 1\nowner: alice\nspaces:\n  big: {sdk: static, source: ./app}\n"
        )
        with sandbox_process(user=["alice:hf_alice:write"]) as sandbox:
            env = sandbox.env(xet=args.xet, token="hf_alice")
            env["TMPDIR"] = scratch  # apply's checked copy goes next to the file
            plan_mb, plan_code, plan_s = _measure(["plan"], root, env)
            apply_mb, apply_code, apply_s = _measure(["apply", "--yes"], root, env)
            after_mb, after_code, _ = _measure(["plan", "--detailed-exitcode"], root, env)
    label = "Xet on (hf_xet, the client's default)" if args.xet else "HF_HUB_DISABLE_XET=1 (LFS)"
    print(f"one {args.size_mb} MB file, {label}:")
    print(f"  plan:  peak RSS {plan_mb:.0f} MB, exit {plan_code}, {plan_s:.0f} s")
    print(f"  apply: peak RSS {apply_mb:.0f} MB, exit {apply_code}, {apply_s:.0f} s")
    print(f"  plan after apply: peak RSS {after_mb:.0f} MB, exit {after_code} (0 = converged)")


if __name__ == "__main__":
    main()
