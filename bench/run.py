"""spacectl against the scripted flow, side by side: one command that writes docs/benchmarks.md.

Run: `python -m bench` (the full run, under 10 minutes on 2 cores) or `python -m bench --quick`.
Two sandbox processes with the same injected latency, one per side: the baseline
(`bench/baseline.py`, the deploy guide's script on the huggingface_hub client) and spacectl (the
CLI as a user runs it). Runs alternate between the sides (interleaved, the order swapped each
repetition) so load on a shared machine falls on both alike.

Every number is measured in this run: calls (reads, writes) and bytes from the sandbox's request
log, wall time of the whole process, peak memory (the process's max RSS). The floor model is
what the Hub API cannot do without: calls (e.g. 1 listing page per 50 Spaces + 3 reads per Space
for a cold plan) and seconds = start-up (`spacectl validate`) + serial calls x latency + the
other calls x latency / parallelism. Local hashing compares with sha1sum and sha256sum.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench.local import hashing_rows, startup_rows
from spacectl.sandbox.testing import SandboxProcess, sandbox_process

ROOT = Path(__file__).resolve().parent.parent
USER, TOKEN = "bench-bot", "hf_bench_bot_token_0123456789"
PAGE = 50  # the sandbox pages /api/spaces by 50, like the Hub
PARALLELISM = 8  # spacectl's default
SECRET_ENV = "BENCH_SECRET"
READ_POSTS = ("/preupload/", "/paths-info/", "/api/validate-yaml", "/info/lfs/objects/batch")
DOCKERFILE = "FROM python:3.12-slim\nCMD python -m http.server 7860\n"


@dataclass
class Sample:
    wall: float
    reads: int
    writes: int
    sent: int
    received: int
    peak_kib: int
    cpu: float = 0.0  # user + system seconds of the measured process
    sandbox_cpu: float | None = None  # of its sandbox process meanwhile (Linux /proc)


@dataclass
class Row:
    scenario: str
    n: int
    side: str
    samples: list[Sample] = field(default_factory=list)
    floor_calls: int | None = None
    floor_seconds: float | None = None
    note: str = ""


@dataclass
class Options:
    sizes: list[int]
    repeat: int
    repeat_large: int
    script_max_n: int
    plan_sizes: list[int]
    latency_ms: int
    builds: list[float]
    wait_spaces: int
    many_files: int
    hash_mb: int
    replan_files: int
    startup_runs: int
    budget: float
    out: Path


def is_write(entry: dict[str, Any]) -> bool:
    method, path = str(entry["method"]), str(entry["path"])
    if method in ("GET", "HEAD"):
        return False
    return not (method == "POST" and any(p in path for p in READ_POSTS))


def run_process(
    command: list[str], cwd: Path, env: dict[str, str]
) -> tuple[float, int, str, float]:
    """(wall seconds, peak RSS KiB, output, CPU seconds) of one process; raises on a failing
    exit."""
    log = cwd / ".bench-output.log"
    with log.open("w") as out:
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if proc.returncode not in (0, 2):
        tail = "\n".join(text.splitlines()[-20:])
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode} in {cwd}:\n{tail}")
    return wall, int(usage.ru_maxrss), text, usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds a running process has used so far (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compile_sources() -> None:
    """Byte-compile spacectl's modules, as pip does when it installs the package. A checkout
    run with PYTHONDONTWRITEBYTECODE (this machine sets it) otherwise compiles every spacectl
    module from source in every process: measured 0.2 s of each `spacectl validate`."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "spacectl")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Side:
    """One side of the comparison: its own sandbox and how it deploys a workspace."""

    def __init__(self, name: str, sandbox: SandboxProcess) -> None:
        self.name = name
        self.sandbox = sandbox
        self.env = sandbox.env(xet=True, token=TOKEN)
        self.env.update({SECRET_ENV: "bench-secret-value", "SPACECTL_SECRET_KEY": "k" * 32})

    def measure(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
        self.sandbox.clear_requests()
        before = process_cpu(self.sandbox.pid)
        wall, peak, _, cpu = run_process(command, cwd, {**self.env, **(env or {})})
        after = process_cpu(self.sandbox.pid)
        log = self.sandbox.requests()
        writes = sum(1 for e in log if is_write(e))
        sent = sum(int(e["request_bytes"]) for e in log)
        received = sum(int(e["response_bytes"]) for e in log)
        sandbox_cpu = after - before if after is not None and before is not None else None
        return Sample(wall, len(log) - writes, writes, sent, received, peak, cpu, sandbox_cpu)

    def setup(self, command: list[str], cwd: Path, latency_ms: int) -> None:
        """Run `command` where its time is not what is measured: without injected latency,
        then back to `latency_ms`."""
        self.sandbox.set_faults(latency_ms=0)
        try:
            run_process(command, cwd, self.env)
        finally:
            self.sandbox.set_faults(latency_ms=latency_ms)


def spacectl(*args: str) -> list[str]:
    return [sys.executable, "-m", "spacectl", *args]


def script(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.baseline", "spec.json", *args]


def write_workspace(cwd: Path, owner: str, n: int, *, sdk: str = "static", files: int = 2) -> None:
    """A manifest and the baseline's spec for the same `n` Spaces: s000 has its own folder
    (`site0`, `files` files) so one file can change in one Space; the others share `site`."""
    cwd.mkdir(parents=True, exist_ok=True)
    for folder, count in (("site0", files), ("site", 2)):
        (cwd / folder).mkdir(exist_ok=True)
        if sdk == "docker":
            (cwd / folder / "Dockerfile").write_text(DOCKERFILE)
        (cwd / folder / "index.html").write_text("<h1>bench</h1>\n")
        for i in range(count - 1):
            (cwd / folder / f"asset-{i:05d}.js").write_text(f"console.log({i})\n")
    names = [f"s{i:03d}" for i in range(n)]
    spaces = "".join(
        f"  {name}: {{source: ./{'site0' if i == 0 else 'site'}, variables: {{INDEX: '{i}'}}}}\n"
        for i, name in enumerate(names)
    )
    (cwd / "spaces.yaml").write_text(
        f"version: 1\nowner: {owner}\ndefaults:\n  sdk: {sdk}\n  variables: {{STAGE: prod}}\n"
        f"  secrets:\n    API_KEY: {{from_env: {SECRET_ENV}}}\nspaces:\n{spaces}"
    )
    spec = {
        "owner": owner,
        "spaces": [
            {
                "name": name,
                "sdk": sdk,
                "folder": str(cwd / ("site0" if i == 0 else "site")),
                "variables": {"STAGE": "prod", "INDEX": str(i)},
                "secrets": {"API_KEY": SECRET_ENV},
            }
            for i, name in enumerate(names)
        ],
    }
    (cwd / "spec.json").write_text(json.dumps(spec))


def pages(n: int) -> int:
    return max(1, math.ceil(n / PAGE))


class Bench:
    def __init__(self, options: Options, work: Path) -> None:
        self.o = options
        self.work = work
        self.rows: dict[tuple[str, int, str], Row] = {}
        self.started = time.monotonic()
        self.skipped: list[str] = []
        self.startup = 0.0
        self.sections: list[tuple[str, float]] = []  # (what, wall seconds) in run order

    def section(self, what: str, run: Callable[[], object]) -> None:
        """Run one part of the benchmark, printing and keeping its wall time."""
        print(f"{what} ...", flush=True)
        started = time.monotonic()
        run()
        took = time.monotonic() - started
        self.sections.append((what, took))
        print(f"{what}: {took:.0f} s (load {os.getloadavg()[0]:.1f})", flush=True)

    def fits(self, what: str, estimate: float) -> bool:
        """Whether a part estimated to take `estimate` seconds ends within the budget."""
        if time.monotonic() - self.started + estimate > self.o.budget:
            self.skipped.append(f"{what} (estimated {estimate:.0f} s, over the budget)")
            return False
        return True

    def row(self, scenario: str, n: int, side: str) -> Row:
        return self.rows.setdefault((scenario, n, side), Row(scenario, n, side))

    def over_budget(self, what: str) -> bool:
        if time.monotonic() - self.started > self.o.budget:
            self.skipped.append(what)
            return True
        return False

    def floor(self, row: Row, calls: int, serial: int = 0, extra: float = 0.0) -> None:
        latency = self.o.latency_ms / 1000
        row.floor_calls = calls
        row.floor_seconds = (
            self.startup + serial * latency + (calls - serial) * latency / PARALLELISM + extra
        )

    def pair(self, rep: int, scenario: str, n: int, jobs: dict[str, Callable[[], Sample]]) -> None:
        """Run both sides' job for one repetition, the order alternating with `rep`. Above
        `script_max_n` Spaces the script runs only its apply from empty (each of its runs
        costs the same calls, and minutes)."""
        order = list(jobs) if rep % 2 == 0 else list(reversed(jobs))
        if n > self.o.script_max_n and scenario != "apply from empty":
            order.remove("script")
            note = f"{scenario}, N={n}: script not run (--script-max-n {self.o.script_max_n})"
            if note not in self.skipped:
                self.skipped.append(note)
        for side in order:
            self.row(scenario, n, side).samples.append(jobs[side]())

    def org(self, sides: dict[str, Side], n: int) -> None:
        """apply from empty, no-op apply, plan cold and warm, one changed file: per repetition
        on a new organisation of `n` Spaces."""
        for rep in range(self.o.repeat if n <= 10 else self.o.repeat_large):
            if self.over_budget(f"N={n} repetition {rep + 1}"):
                return
            owner = f"org{n}r{rep}"
            dirs = {name: self.work / name / owner for name in sides}
            for name in sides:
                write_workspace(dirs[name], owner, n)
            base, ctl = sides["script"], sides["spacectl"]
            cache = str(dirs["spacectl"] / "cache")
            env = {"SPACECTL_CACHE_DIR": cache}
            apply = spacectl("apply", "--yes")
            self.pair(
                rep,
                "apply from empty",
                n,
                {
                    "script": partial(base.measure, script(), dirs["script"]),
                    "spacectl": partial(ctl.measure, apply, dirs["spacectl"], env),
                },
            )
            self.pair(
                rep,
                "no-op apply (cold tree cache)",
                n,
                {
                    "script": partial(base.measure, script(), dirs["script"]),
                    "spacectl": partial(ctl.measure, apply, dirs["spacectl"], env),
                },
            )
            fresh = str(dirs["spacectl"] / f"plan-cache-{rep}")
            plan = spacectl("plan", "--cache-dir", fresh)
            for scenario in ("plan, cold tree cache", "plan, warm tree cache"):
                self.row(scenario, n, "spacectl").samples.append(
                    ctl.measure(plan, dirs["spacectl"])
                )
            for name in sides:
                with (dirs[name] / "site0" / "index.html").open("a") as handle:
                    handle.write(f"<!-- change {rep} -->\n")
            self.pair(
                rep,
                "one changed file in one Space",
                n,
                {
                    "script": partial(base.measure, script(), dirs["script"]),
                    "spacectl": partial(
                        ctl.measure,
                        spacectl("apply", "--yes", "--cache-dir", fresh),
                        dirs["spacectl"],
                    ),
                },
            )
        # Listing pages are serial (each page's cursor comes with the page before), as creates are.
        p = pages(n)
        # From empty the listing is one page, of nothing. Per created Space: the create, the
        # Hub's check of its README (preflight.py), its head read (the commit listing) and its
        # commit (2 calls: preupload, commit).
        self.floor(self.row("apply from empty", n, "spacectl"), 1 + 5 * n, serial=1 + n)
        self.floor(self.row("no-op apply (cold tree cache)", n, "spacectl"), p + 3 * n, serial=p)
        self.plan_floors(n)
        # +2: the changed Space's lock, taken and released (locking.py).
        self.floor(
            self.row("one changed file in one Space", n, "spacectl"), p + 2 * n + 4, serial=p
        )

    def plan_floors(self, n: int) -> None:
        p = pages(n)
        self.floor(self.row("plan, cold tree cache", n, "spacectl"), p + 3 * n, serial=p)
        self.floor(self.row("plan, warm tree cache", n, "spacectl"), p + 2 * n, serial=p)

    def plans(self, side: Side, n: int) -> None:
        """Plans only (cold and warm tree cache) of an organisation of `n` Spaces set up by
        `spacectl apply` without latency (the set-up is not measured); the script has no plan."""
        owner = f"plan{n}"
        cwd = self.work / side.name / owner
        write_workspace(cwd, owner, n)
        side.setup(spacectl("apply", "--yes", "--parallelism", "16"), cwd, self.o.latency_ms)
        plan = spacectl("plan", "--cache-dir", str(cwd / "plan-cache"))
        for scenario in ("plan, cold tree cache", "plan, warm tree cache"):
            self.row(scenario, n, side.name).samples.append(side.measure(plan, cwd))
        self.plan_floors(n)

    def many(self, sides: dict[str, Side]) -> None:
        """One changed file among `many_files` in one Space."""
        count = self.o.many_files
        scenario = f"one changed file among {count} in a Space"
        dirs = {name: self.work / name / "many" for name in sides}
        for name, side in sides.items():
            write_workspace(dirs[name], "many", 1, files=count)
            command = script() if name == "script" else spacectl("apply", "--yes")
            side.setup(command, dirs[name], self.o.latency_ms)
        for rep in range(self.o.repeat):
            if self.over_budget(f"{scenario}, repetition {rep + 1}"):
                return
            for name in sides:
                (dirs[name] / "site0" / f"asset-{rep:05d}.js").write_text(f"// change {rep}\n")
            self.pair(
                rep,
                scenario,
                1,
                {
                    "script": lambda: sides["script"].measure(script(), dirs["script"]),
                    "spacectl": lambda: sides["spacectl"].measure(
                        spacectl("apply", "--yes"), dirs["spacectl"]
                    ),
                },
            )
        self.floor(self.row(scenario, 1, "spacectl"), 1 + 3 + 2 + 2, serial=1)  # +2: the lock

    def wait(self, sides: dict[str, Side], build: float) -> None:
        """apply --wait of `wait_spaces` new Docker Spaces whose builds take `build` s."""
        n = self.o.wait_spaces
        scenario = f"apply --wait from empty, {build:g} s build"
        for side in sides.values():
            side.sandbox.configure(build_seconds=build)
        for rep in range(self.o.repeat if build < 5 else self.o.repeat_large):
            if self.over_budget(f"{scenario}, repetition {rep + 1}"):
                return
            owner = f"wait{int(build * 10)}r{rep}"
            dirs = {name: self.work / name / owner for name in sides}
            for name in sides:
                write_workspace(dirs[name], owner, n, sdk="docker")
            self.pair(
                rep,
                scenario,
                n,
                {
                    "script": partial(sides["script"].measure, script("--wait"), dirs["script"]),
                    "spacectl": partial(
                        sides["spacectl"].measure,
                        spacectl("apply", "--yes", "--wait", "--timeout", "300"),
                        dirs["spacectl"],
                    ),
                },
            )
        # Per Space: the create, its README check, its head read and its commit (2 calls).
        self.floor(self.row(scenario, n, "spacectl"), 1 + 5 * n, serial=1 + n, extra=build)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def render(bench: Bench, options: Options, command: str, machine: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `bench/run.py`; every number below was measured in that one run.",
        "",
        f"- Command: `{command}`",
        f"- Machine: {machine}",
        f"- Sandbox latency: {options.latency_ms} ms per request on both sides; spacectl "
        f"--parallelism {PARALLELISM} (its default); {options.repeat} repetition(s) of the small"
        f" runs, {options.repeat_large} at N >= 100 and of builds of 5 s or more; the two sides"
        " interleaved, their order swapped each repetition",
        f"- Start-up used in the floor model (`spacectl validate`, median): {bench.startup:.2f} s",
        "- Both sides' sandboxes and clients share the machine's cores, with whatever else runs"
        " there (the load average above): wall times follow the load; calls and bytes are exact.",
        "",
        "Floor: the calls the Hub API needs (listing pages of 50, then per Space what the"
        " scenario must read or write: a created Space's README is checked by the Hub and its head"
        " read once for its first commit; a changed existing Space is locked and unlocked, +2"
        " writes) and seconds = start-up + serial calls x latency + other"
        " calls x latency / parallelism (+ the build time when waiting). Serial: creates (the Hub"
        " runs one per user at a time) and listing pages (each page's cursor comes with the page"
        " before). The model has no CPU term: the last two columns are the CPU the measured"
        " process used in all, and its sandbox's CPU per request (both sides' sandboxes and"
        " clients share the machine's cores).",
        "",
        "| scenario | N | side | reads | writes | KiB | wall min s | wall median s | peak MiB "
        "| vs script | floor calls | floor s | vs floor | CPU s | sandbox CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (scenario, n, side), row in bench.rows.items():
        if not row.samples:
            continue
        s = row.samples
        median = _median([x.wall for x in s])
        baseline = bench.rows.get((scenario, n, "script"))
        versus = (
            f"{median / _median([x.wall for x in baseline.samples]):.2f}x"
            if side != "script" and baseline and baseline.samples
            else ""
        )
        floor = f"{median / row.floor_seconds:.2f}x" if row.floor_seconds else ""
        kib = _median([(x.sent + x.received) / 1024 for x in s])
        per_request = [
            x.sandbox_cpu * 1000 / (x.reads + x.writes)
            for x in s
            if x.sandbox_cpu is not None and x.reads + x.writes
        ]
        sandbox_cpu = f"{_median(per_request):.1f}" if per_request else ""
        lines.append(
            f"| {scenario} | {n} | {side} | {_median([x.reads for x in s]):.0f} "
            f"| {_median([x.writes for x in s]):.0f} | {kib:.0f} "
            f"| {min(x.wall for x in s):.2f} | {median:.2f} "
            f"| {max(x.peak_kib for x in s) / 1024:.0f} | {versus} "
            f"| {row.floor_calls if row.floor_calls is not None else ''} "
            f"| {f'{row.floor_seconds:.2f}' if row.floor_seconds else ''} | {floor} "
            f"| {_median([x.cpu for x in s]):.2f} | {sandbox_cpu} |"
        )
    total = time.monotonic() - bench.started
    lines += ["", f"## Parts of this run ({total / 60:.1f} minutes in all)", ""]
    lines += ["| part | wall s |", "|---|---|"]
    lines += [f"| {what} | {took:.0f} |" for what, took in bench.sections]
    if bench.skipped:
        lines += ["", f"Not run (--script-max-n, or the time budget of {options.budget:.0f} s):"]
        lines += [f"- {what}" for what in bench.skipped]
    return "\n".join(lines) + "\n"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}; load average {load} when the run ended"
    )


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="A small run (about a minute).")
    parser.add_argument("--sizes", help="Comma-separated N (default 10,100,300).")
    parser.add_argument("--repeat", type=int, help="Repetitions of small runs (default 2).")
    parser.add_argument(
        "--repeat-large", type=int, help="Repetitions at N >= 100 and of 5 s+ builds (1)."
    )
    parser.add_argument(
        "--script-max-n", type=int, default=100, help="Above it the script only applies."
    )
    parser.add_argument(
        "--plan-sizes", help="N of the plan-only runs, if the budget allows (default 1000)."
    )
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--builds", help="Build seconds of the --wait runs (default 1,10).")
    parser.add_argument("--wait-spaces", type=int, help="Spaces in the --wait runs (20).")
    parser.add_argument("--many-files", type=int, help="Files of the one big Space (2000).")
    parser.add_argument("--hash-mb", type=int, help="MiB of the hashing tree (1024).")
    parser.add_argument("--replan-files", type=int, help="Files of the warm re-plan (10000).")
    parser.add_argument("--startup-runs", type=int, help="Runs per start-up command (5).")
    parser.add_argument("--budget", type=float, default=540.0, help="Seconds; later runs skip.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    a = parser.parse_args(argv)
    quick = a.quick

    def pick(value: Any, full: Any, small: Any) -> Any:
        return value if value is not None else (small if quick else full)

    return Options(
        sizes=[int(x) for x in pick(a.sizes, "10,100,300", "10").split(",")],
        repeat=pick(a.repeat, 2, 1),
        repeat_large=pick(a.repeat_large, 1, 1),
        script_max_n=a.script_max_n,
        plan_sizes=[int(x) for x in pick(a.plan_sizes, "1000", "").split(",") if x],
        latency_ms=a.latency_ms,
        builds=[float(x) for x in pick(a.builds, "1,10", "1").split(",")],
        wait_spaces=pick(a.wait_spaces, 20, 5),
        many_files=pick(a.many_files, 2000, 200),
        hash_mb=pick(a.hash_mb, 1024, 64),
        replan_files=pick(a.replan_files, 10000, 1000),
        startup_runs=pick(a.startup_runs, 5, 3),
        budget=a.budget,
        out=a.out,
    )


# What follows this line in the output file is written by hand and kept by a new run.
KEEP_MARKER = "<!-- Below: written by hand, kept when bench/run.py regenerates the part above. -->"


def _kept_notes(out: Path) -> str:
    """The hand-written part of an existing output file (from KEEP_MARKER on), else ""."""
    try:
        old = out.read_text(encoding="utf-8")
    except OSError:
        return ""
    at = old.find(KEEP_MARKER)
    return "" if at < 0 else "\n" + old[at:]


def main(argv: list[str] | None = None) -> None:
    options = parse(sys.argv[1:] if argv is None else argv)
    command = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="spacectl-bench-") as tmp:
        work = Path(tmp)
        bench = Bench(options, work)
        rows: list[str] = []

        def startup() -> None:
            found, bench.startup = startup_rows(work / "startup", options.startup_runs)
            rows.extend([*found, ""])

        bench.section("start-up", startup)
        most = max(options.repeat, options.repeat_large)
        owners = [f"org{n}r{r}" for n in options.sizes for r in range(most)]
        owners += [f"wait{int(b * 10)}r{r}" for b in options.builds for r in range(most)]
        owners += ["many", *(f"plan{n}" for n in options.plan_sizes)]
        flags = {
            "build_seconds": 1.0,
            "latency_ms": options.latency_ms,
            "user": [f"{USER}:{TOKEN}"],
            "org": [f"{o}:{USER}" for o in owners],
        }
        with (
            sandbox_process(work / "sandbox-script", **flags) as left,
            sandbox_process(work / "sandbox-spacectl", **flags) as right,
        ):
            sides = {"script": Side("script", left), "spacectl": Side("spacectl", right)}
            # The cheap runs first: should the budget run out, it is the largest N that go.
            small = [n for n in sorted(options.sizes) if n <= 10]
            for n in small:
                bench.section(f"N={n}", partial(bench.org, sides, n))
            bench.section("many files", partial(bench.many, sides))
            for build in options.builds:
                bench.section(f"--wait, {build:g} s builds", partial(bench.wait, sides, build))

            def hashing() -> None:
                rows.extend(hashing_rows(work / "hash", options.hash_mb, options.replan_files))

            bench.section("local hashing", hashing)
            for n in sorted(set(options.sizes) - set(small)):
                bench.section(f"N={n}", partial(bench.org, sides, n))
            for n in options.plan_sizes:
                # Set-up and two plans: about 0.1 s per Space on 2 cores.
                if bench.fits(f"plans at N={n}", 0.1 * n):
                    bench.section(f"plans at N={n}", partial(bench.plans, sides["spacectl"], n))
    text = render(bench, options, command, machine())
    text += "\n" + "\n".join(rows) + "\n"
    text += _kept_notes(options.out)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(text)
    print(text)
    shutil.rmtree(work, ignore_errors=True)
