"""Manifests of many Spaces: `spacectl validate` (and optionally `spacectl plan`) at N Spaces.

Run: `python -m bench.manifest_scale [--sizes 100,1000,5000] [--plan-spaces 0]` (about 15 s
for the validate sizes; `--plan-spaces 5000` adds a few minutes, most of them creating the
Spaces). It uses whatever `spacectl` the interpreter imports, so `PYTHONPATH=/other/checkout`
measures another version with the same script.

1. Writes a manifest of N Spaces as people write them (defaults with variables and a secret, a
   template merged in with `<<:` by half of them, per-Space variables, a secret `from_env`,
   hardware, a card) and times `spacectl validate -f FILE`: wall time and the peak RSS of that
   one process (its own rusage), fresh process each, start-up included.
2. With `--plan-spaces M`: starts a sandbox (`spacectl sandbox serve`), creates the M Spaces
   through the real client, then runs `spacectl plan -f FILE` against it twice (the second on a
   warm tree cache): wall time, CPU time and peak RSS of the plan process, and the requests the
   sandbox logged (count, and the time the sandbox spent answering them).

The load average is printed with the numbers: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

USER, TOKEN = "scale-org", "hf_scale_bench_write_token_0123456789"
SECRETS = {"SCALE_API_KEY": "bench-api-key", "SCALE_TOKEN": "bench-token"}


def manifest_text(count: int) -> str:
    """A manifest of `count` Spaces named app-00000, app-00001, ... owned by `USER`."""
    lines = [
        "version: 1",
        f"owner: {USER}",
        "defaults:",
        "  visibility: private",
        "  hardware: cpu-basic",
        '  ignore: ["*.pyc", "__pycache__/"]',
        "  variables: {ORG: scale-org, LOG_LEVEL: info}",
        "  secrets:",
        "    API_KEY: {from_env: SCALE_API_KEY}",
        "x-template: &template",
        "  sdk: gradio",
        "  visibility: public",
        "spaces:",
    ]
    for index in range(count):
        lines += [
            f"  app-{index:05d}:",
            "    <<: *template" if index % 2 else "    sdk: docker",
            f"    hardware: {'cpu-upgrade' if index % 3 == 0 else 'cpu-basic'}",
            "    variables:",
            f"      INDEX: {index}",
            f"      NAME: app-{index}",
            "      RATIO: 1.50",
            "      ENABLED: true",
            "    secrets:",
            f"      TOKEN_{index % 7}: {{from_env: SCALE_TOKEN}}",
            "    card:",
            "      emoji: 🚀",
            "      colorFrom: blue",
            "      colorTo: green",
            f"      short_description: Scale test Space number {index}",
            "      tags: [scale, bench]",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mib: float
    returncode: int
    output: str


def run(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Run:
    """`command` in a fresh process: its wall time, and CPU and peak RSS from its own rusage."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, process.returncode, output)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACECTL_"))}
    return {**env, **SECRETS, **(extra or {})}


def _load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _spacectl(*args: str) -> list[str]:
    return [sys.executable, "-m", "spacectl", *args]


def bench_validate(sizes: Sequence[int], folder: Path) -> None:
    print("| Spaces | manifest | command | wall | CPU | peak RSS | load (1 min) |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for size in sizes:
        path = folder / f"spaces-{size}.yaml"
        path.write_text(manifest_text(size), encoding="utf-8")
        done = run(_spacectl("validate", "-f", path.name), folder, _env())
        if done.returncode != 0:
            sys.exit(f"validate of {size} Spaces exited {done.returncode}:\n{done.output[-2000:]}")
        print(
            f"| {size:,} | {path.stat().st_size / 1024:,.0f} KiB | `spacectl validate -f "
            f"{path.name}` | {done.wall:.2f} s | {done.cpu:.2f} s | {done.peak_mib:.0f} MiB | "
            f"{os.getloadavg()[0]:.2f} |",
            flush=True,
        )


def bench_plan(size: int, folder: Path) -> None:
    from huggingface_hub import HfApi

    from spacectl.sandbox.testing import sandbox_process

    path = folder / f"plan-{size}.yaml"
    path.write_text(manifest_text(size), encoding="utf-8")
    with sandbox_process(folder, user=[f"{USER}:{TOKEN}:write"]) as sandbox:
        api = HfApi(endpoint=sandbox.endpoint, token=TOKEN)

        def create(index: int) -> None:
            sdk = "docker" if index % 2 == 0 else "gradio"
            api.create_repo(f"{USER}/app-{index:05d}", repo_type="space", space_sdk=sdk)

        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, range(size)))
        print(f"created {size:,} Spaces in the sandbox in {time.perf_counter() - start:.0f} s")
        env = _env(sandbox.env())
        for attempt in ("cold", "warm"):
            sandbox.clear_requests()
            done = run(_spacectl("plan", "-f", path.name), folder, env)
            requests = sandbox.requests()
            if done.returncode != 0:
                sys.exit(f"plan exited {done.returncode}:\n{done.output[-2000:]}")
            served = sum(request["duration_ms"] for request in requests) / 1000
            summary = done.output.strip().splitlines()[-1]
            print(
                f"`spacectl plan -f {path.name}` ({attempt} tree cache): wall {done.wall:.1f} s, "
                f"CPU {done.cpu:.1f} s, peak RSS {done.peak_mib:.0f} MiB, {len(requests):,} "
                f"requests ({served:.1f} s answering them in the sandbox); {_load()}; {summary}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="validate sizes, comma-separated")
    parser.add_argument("--plan-spaces", type=int, default=0, help="also plan this many (0: no)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        where = run(
            [sys.executable, "-c", "import spacectl; print(spacectl.__file__)"], folder, _env()
        )
        print(f"spacectl from {Path(where.output.strip()).parent}; {_load()}")
        sizes = [int(size) for size in args.sizes.split(",") if size]
        if sizes:
            bench_validate(sizes, folder)
        if args.plan_spaces:
            bench_plan(args.plan_spaces, folder)


if __name__ == "__main__":
    main()
