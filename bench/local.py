"""The benchmarks that need no Hub: start-up of the CLI, and hashing of local files (cold, warm
through the digest cache, against sha1sum/sha256sum). Used by `bench/run.py`; each function
returns Markdown lines for docs/benchmarks.md."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.startup import COMMANDS, measure

_SCAN = """
import sys, time
from pathlib import Path
from spacectl.cache import DigestCache
from spacectl.files import scan_source
cache = DigestCache(Path(sys.argv[2])) if len(sys.argv) > 2 else None
started, cpu = time.perf_counter(), time.process_time()
files = scan_source(Path(sys.argv[1]), digests=cache)
took, cpu = time.perf_counter() - started, time.process_time() - cpu
if cache is not None:
    cache.save()
print(len(files), took, cpu)
"""


def startup_rows(work: Path, runs: int) -> tuple[list[str], float]:
    """Start-up of `spacectl --help` and `spacectl validate` (fresh processes, median), and
    the validate median for the floor model."""
    work.mkdir(parents=True, exist_ok=True)
    lines = [
        "## Start-up",
        "",
        f"Fresh process each run, {runs} runs; `hf --help` (the client's own CLI) for scale.",
        "",
        "| command | median s | min s |",
        "|---|---|---|",
    ]
    validate = 0.0
    for command in COMMANDS:
        if command[1:2] == ["plan"]:
            continue
        times = measure(command, runs)
        lines.append(
            f"| `{' '.join(command)}` | {statistics.median(times):.2f} | {min(times):.2f} |"
        )
        if command[1:2] == ["validate"]:
            validate = statistics.median(times)
    return lines, validate


def _scan(root: Path, cache: Path | None) -> tuple[int, float, float, int, float]:
    """(files, seconds inside the scan, seconds of the process, peak RSS KiB, CPU seconds
    inside the scan) of a fresh process scanning `root`, through the digest cache in `cache`
    when given."""
    argv = [sys.executable, "-c", _SCAN, str(root), *([str(cache)] if cache else [])]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    assert proc.stdout is not None
    count, took, cpu = proc.stdout.read().split()
    return int(count), float(took), wall, int(usage.ru_maxrss), float(cpu)


def _old(root: Path) -> None:
    """Back-date every file: the digest cache skips files modified in the last seconds."""
    past = time.time() - 3600
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def _tool_seconds(tools: list[str], files: list[Path]) -> float:
    """Wall time of the tools run at once over `files` (each tool one process, one core)."""
    started = time.monotonic()
    procs = [subprocess.Popen([t, *map(str, files)], stdout=subprocess.DEVNULL) for t in tools]
    for proc in procs:
        proc.wait()
    return time.monotonic() - started


def hashing_rows(work: Path, megabytes: int, replan_files: int) -> list[str]:
    big = work / "big"
    big.mkdir(parents=True, exist_ok=True)
    count = 16
    chunk = os.urandom(1 << 20)
    for i in range(count):
        with (big / f"blob-{i:02d}.bin").open("wb") as handle:
            for j in range(max(1, megabytes // count)):
                handle.write(chunk[j % 7 :] + chunk[: j % 7])  # not one repeated block
    files = sorted(big.iterdir())
    size_mib = sum(f.stat().st_size for f in files) / (1 << 20)
    _old(big)
    _tool_seconds(["cat"], files)  # the page cache is warm for every measurement alike
    cache = work / "digests"
    cold = _scan(big, cache)  # no cache yet: every file is read; this fills the cache
    warm = _scan(big, cache)
    sha1 = _tool_seconds(["sha1sum"], files)
    sha256 = _tool_seconds(["sha256sum"], files)

    many = work / "many"
    for i in range(replan_files):
        folder = many / f"d{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05d}.txt").write_text(f"file {i}\n")
    _old(many)
    replan_cache = work / "replan-digests"
    first = _scan(many, replan_cache)
    again = _scan(many, replan_cache)
    shutil.rmtree(work, ignore_errors=True)

    def rate(seconds: float) -> str:
        return f"{size_mib / seconds:.0f}"

    return [
        "## Local hashing",
        "",
        f"{size_mib:.0f} MiB in {count} files (OS page cache warm for every row, so 'cold' means"
        " no digest cache). spacectl computes the git blob SHA-1 and the SHA-256 of each file in"
        " one read, files on several threads; sha1sum and sha256sum compute one digest each.",
        "",
        "| what | seconds | MiB/s | peak MiB |",
        "|---|---|---|---|",
        f"| spacectl scan, cold (SHA-1 + SHA-256) | {cold[1]:.2f} | {rate(cold[1])} "
        f"| {cold[3] / 1024:.0f} |",
        f"| spacectl scan, warm digest cache | {warm[1]:.3f} | {rate(warm[1])} "
        f"| {warm[3] / 1024:.0f} |",
        f"| sha1sum | {sha1:.2f} | {rate(sha1)} | |",
        f"| sha256sum | {sha256:.2f} | {rate(sha256)} | |",
        "",
        f"spacectl cold (both digests) against sha1sum: {sha1 / cold[1]:.2f}x its throughput,"
        f" against sha256sum: {sha256 / cold[1]:.2f}x (target >= 0.8x). One run each.",
        "",
        f"Warm re-plan of {first[0]} unchanged files (scan through the digest cache): "
        f"{again[1]:.3f} s inside the scan ({again[4]:.3f} s of CPU; load average "
        f"{os.getloadavg()[0]:.1f}), {again[2]:.2f} s for the whole process (first, cold: "
        f"{first[1]:.2f} s). Target: under 0.5 s.",
    ]
