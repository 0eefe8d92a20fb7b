"""The sandbox's persistent store at scale: request latency with `--data` at N Spaces, and a
`spacectl plan --sandbox` of M Spaces.

Run: `python -m bench.store [--spaces 1000] [--requests 100] [--plan-spaces 300]`
(a few minutes on the old whole-file store, well under one on SQLite). It uses whatever
`spacectl` the interpreter imports, so `PYTHONPATH=/path/to/other/checkout` measures another
version with the same script.

1. Starts `spacectl sandbox serve --data TMP`, creates N Spaces through the real client, then
   times `--requests` sequential `get_space_variables` (a read) and `add_space_variable` (a
   write) on one Space through one HfApi (one kept-alive connection): median and 90th percentile.
2. Fills a `.spacectl-sandbox` folder with M static Spaces with one variable the same way (a
   sandbox process on that folder), writes a manifest naming them, and times `spacectl plan
   --sandbox` there (the embedded sandbox, start-up included): min and median of 3 runs, wall
   time and the CPU time of the plan process (client and embedded sandbox; steadier than wall
   time on a loaded machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from huggingface_hub import HfApi

from spacectl.sandbox.testing import sandbox_process

USER = "bench"
TOKEN = "hf_bench_store_write_token_0123456"


def _fill(api: HfApi, count: int, sdk: str, *, variable: bool = False) -> None:
    for index in range(count):
        api.create_repo(f"{USER}/s{index:04d}", repo_type="space", space_sdk=sdk)
        if variable:
            api.add_space_variable(f"{USER}/s{index:04d}", "MODE", "bench")


def _percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"median {statistics.median(ordered):7.1f} ms, p90 {p90:7.1f} ms"


def bench_requests(spaces: int, requests: int, *, persisted: bool = True) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        options = {"data": Path(scratch) / "data"} if persisted else {}
        _time_requests(Path(scratch), spaces, requests, options)


def _time_requests(scratch: Path, spaces: int, requests: int, options: dict[str, Path]) -> None:
    with sandbox_process(scratch, user=[f"{USER}:{TOKEN}:write"], **options) as sandbox:
        api = HfApi(endpoint=sandbox.endpoint, token=TOKEN)
        start = time.perf_counter()
        _fill(api, spaces, "docker")
        filled = time.perf_counter() - start
        repo = f"{USER}/s0000"
        api.get_space_variables(repo)  # the connection is open from here on
        reads, writes = [], []
        for index in range(requests):
            begin = time.perf_counter()
            api.get_space_variables(repo)
            reads.append((time.perf_counter() - begin) * 1000)
            begin = time.perf_counter()
            api.add_space_variable(repo, "COUNTER", str(index))
            writes.append((time.perf_counter() - begin) * 1000)
    where = "--data" if options else "in memory"
    print(f"{where}, {spaces} Spaces (created in {filled:.1f} s, {spaces / filled:.0f}/s):")
    print(f"  GET  get_space_variables x{requests}: {_percentiles(reads)}")
    print(f"  POST add_space_variable  x{requests}: {_percentiles(writes)}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_plan(spaces: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with sandbox_process(
            folder, data=folder / ".spacectl-sandbox", user=[f"{USER}:{TOKEN}:write"]
        ) as sandbox:
            _fill(HfApi(endpoint=sandbox.endpoint, token=TOKEN), spaces, "static", variable=True)
        # A managed variable makes plan read each Space's variables (one call per Space).
        entry = "{sdk: static, variables: {MODE: bench}}"
        entries = "".join(f"  s{i:04d}: {entry}\n" for i in range(spaces))
        (folder / "spaces.yaml").write_text(f"owner: {USER}\nspaces:\n{entries}")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACECTL_"))}
        env["HF_HOME"] = str(folder / "home")
        times, cpu = [], []
        for _ in range(runs):
            used = _children_cpu()
            begin = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "spacectl", "plan", "--sandbox", "--detailed-exitcode"],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            times.append(time.perf_counter() - begin)
            cpu.append(_children_cpu() - used)
            if done.returncode != 0:
                sys.exit(f"plan exited {done.returncode}: {done.stdout[-500:]}{done.stderr[-999:]}")
    print(
        f"spacectl plan --sandbox, {spaces} unchanged Spaces, {runs} runs: "
        f"wall min {min(times):.1f} s, median {statistics.median(times):.1f} s; "
        f"CPU (user+sys) min {min(cpu):.1f} s, median {statistics.median(cpu):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spaces", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--plan-spaces", type=int, default=300)
    parser.add_argument("--plan-runs", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also time a sandbox without --data")
    args = parser.parse_args()
    import spacectl

    print(f"spacectl from {Path(spacectl.__file__).parent}")
    if args.spaces:
        bench_requests(args.spaces, args.requests)
    if args.spaces and args.memory:
        bench_requests(args.spaces, args.requests, persisted=False)
    if args.plan_spaces:
        bench_plan(args.plan_spaces, args.plan_runs)


if __name__ == "__main__":
    main()
