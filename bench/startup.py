"""Measure how long the CLI takes to start: wall clock of whole commands, a fresh process each.

Run: `python -m bench.startup [--runs N]` (default 10 runs per command, about half a
minute). Each number is the median wall-clock time of N runs of the exact command shown, measured
here with nothing cached in-process; `hf --help` (the huggingface_hub client's own CLI) is the
yardstick. No command talks to a Hub.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The example manifest reads this secret's value from the environment; validate checks it is set.
ENV = {"GEMINI_API_KEY": "bench-secret-value"}
COMMANDS = [
    ["spacectl", "--help"],
    ["spacectl", "validate", "-f", "examples/spaces.yaml"],
    ["spacectl", "plan", "--help"],
    ["hf", "--help"],
]


def executable(name: str) -> str:
    """The console script installed next to this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed (pip install -e . installs both)")
    return found


def measure(command: list[str], runs: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACECTL_"))}
    env.update(ENV)
    argv = [executable(command[0]), *command[1:]]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr.decode()}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    args = parser.parse_args()
    env_note = " ".join(f"{k}=..." for k in ENV)
    print(f"Startup, median of {args.runs} runs (wall clock, fresh process each; env {env_note})")
    print(f"{'command':<45} {'median':>8} {'min':>8} {'max':>8}")
    for command in COMMANDS:
        times = measure(command, args.runs)
        print(
            f"{' '.join(command):<45} {statistics.median(times) * 1000:>6.0f}ms"
            f" {min(times) * 1000:>6.0f}ms {max(times) * 1000:>6.0f}ms"
        )


if __name__ == "__main__":
    main()
