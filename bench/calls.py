"""Measure what spacectl costs against a real sandbox process: HTTP calls, bytes and seconds.

Run: `python -m bench.calls` (about a minute). Every number printed is measured from
the sandbox's request log or a wall clock in this run; nothing is estimated.

- plan of N Spaces: calls against the floor of 1 listing + 3 reads (variables, secrets, tree)
  per Space;
- apply of the example organisation: write calls of a fresh apply and of a no-op apply;
- apply of 30 Spaces: seconds, with and without 20 % injected faults (14 % 5xx/429 answers,
  3 % connection resets before the work, 3 % answers lost after it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spacectl.sandbox.testing import SandboxProcess, sandbox_process

ROOT = Path(__file__).resolve().parent.parent
ORG = "bench-org"
USER = "bench-bot"
TOKEN = "hf_bench_bot_token_0123456789"
READ_POSTS = ("/preupload/", "/paths-info/", "/api/validate-yaml", "/info/lfs/objects/batch")


def is_write(entry: dict[str, object]) -> bool:
    method, path = str(entry["method"]), str(entry["path"])
    if method in ("GET", "HEAD"):
        return False
    return not (method == "POST" and any(p in path for p in READ_POSTS))


def run(sandbox: SandboxProcess, cwd: Path, *args: str) -> float:
    env = sandbox.env(xet=False, token=TOKEN)
    env["GEMINI_API_KEY"] = "bench-secret-value"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "spacectl", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if proc.returncode not in (0, 2):
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise SystemExit(f"spacectl {' '.join(args)} failed:\n{tail}")
    return elapsed


def org_manifest(cwd: Path, n: int, owner: str = ORG) -> None:
    site = cwd / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text("<h1>bench</h1>\n")
    (site / "app.js").write_text("console.log('bench')\n")
    spaces = "".join(
        f"  s{i:03d}:\n    variables: {{INDEX: {i}}}\n    card: {{title: Bench {i}}}\n"
        for i in range(n)
    )
    (cwd / "spaces.yaml").write_text(
        f"version: 1\nowner: {owner}\ndefaults:\n  sdk: static\n  source: ./site\n"
        "  variables: {STAGE: prod}\n  secrets:\n    API_KEY: {from_env: GEMINI_API_KEY}\n"
        f"spaces:\n{spaces}"
    )


def summarize(entries: list[dict[str, object]]) -> tuple[int, int, int, int]:
    writes = sum(1 for e in entries if is_write(e))
    sent = sum(int(e["request_bytes"]) for e in entries)  # type: ignore[call-overload]
    received = sum(int(e["response_bytes"]) for e in entries)  # type: ignore[call-overload]
    return len(entries), writes, sent, received


def bench_plan(sandbox: SandboxProcess, work: Path) -> None:
    print("plan: HTTP calls for N Spaces (floor = 1 listing + 3 reads per Space)")
    print(
        f"{'N':>5} {'calls':>6} {'floor':>6} {'writes':>6} {'sent B':>9} {'recv B':>10} {'sec':>6}"
    )
    for n in (10, 50, 100):
        cwd = work / f"plan-{n}"
        cwd.mkdir()
        org_manifest(cwd, n, owner=f"{ORG}{n}")
        run(sandbox, cwd, "apply", "--yes", "--parallelism", "8")
        sandbox.clear_requests()
        seconds = run(sandbox, cwd, "plan", "--detailed-exitcode")
        calls, writes, sent, received = summarize(sandbox.requests())
        pages = (n + 49) // 50  # the sandbox pages /api/spaces by 50, like the Hub's default
        floor = pages + 3 * n
        print(f"{n:>5} {calls:>6} {floor:>6} {writes:>6} {sent:>9} {received:>10} {seconds:>6.2f}")


def bench_example(sandbox: SandboxProcess, work: Path) -> None:
    cwd = work / "example"
    shutil.copytree(ROOT / "examples", cwd)
    sandbox.clear_requests()
    fresh_seconds = run(sandbox, cwd, "apply", "--yes")
    fresh = sandbox.requests()
    sandbox.clear_requests()
    noop_seconds = run(sandbox, cwd, "apply", "--yes")
    noop = sandbox.requests()
    print("\napply of examples/spaces.yaml (6 Spaces to create, 1 absent)")
    print(f"{'run':>8} {'calls':>6} {'writes':>6} {'sent B':>9} {'recv B':>10} {'sec':>6}")
    for name, entries, seconds in (("fresh", fresh, fresh_seconds), ("no-op", noop, noop_seconds)):
        calls, writes, sent, received = summarize(entries)
        print(f"{name:>8} {calls:>6} {writes:>6} {sent:>9} {received:>10} {seconds:>6.2f}")
    kinds: dict[str, int] = {}
    for e in fresh:
        if is_write(e):
            path = str(e["path"])
            kind = "commit" if "/commit/" in path else path.rsplit("/", 1)[-1]
            kinds[f"{e['method']} {kind}"] = kinds.get(f"{e['method']} {kind}", 0) + 1
    print("fresh writes by kind:", ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))


def bench_thirty(sandbox: SandboxProcess, work: Path) -> None:
    print("\napply of 30 new Spaces (static, 2 files, 2 variables, 1 secret each), parallelism 8")
    cases = (
        ("no faults", f"{ORG}-calm", {}),
        (
            "20% faults",
            f"{ORG}-faulty",
            {"error_rate": 0.14, "reset_rate": 0.03, "lost_response_rate": 0.03},
        ),
    )
    for label, owner, faults in cases:
        cwd = work / owner
        cwd.mkdir()
        org_manifest(cwd, 30, owner=owner)
        sandbox.set_faults(error_statuses=[500, 503, 429], **faults)
        sandbox.clear_requests()
        seconds = run(sandbox, cwd, "apply", "--yes", "--parallelism", "8")
        calls, writes, _, _ = summarize(sandbox.requests())
        failed = sum(
            1
            for e in sandbox.requests()
            if e["status"] is None or int(e["status"]) >= 500 or e["status"] == 429
        )  # type: ignore[call-overload]
        sandbox.set_faults(error_rate=0.0, reset_rate=0.0, lost_response_rate=0.0)
        print(f"  {label:>10}: {seconds:6.2f} s, {calls} calls ({writes} writes, {failed} faulted)")


def main() -> None:
    owners = [f"{ORG}{n}" for n in (10, 50, 100)] + [f"{ORG}-calm", f"{ORG}-faulty", "ifcore-org"]
    with tempfile.TemporaryDirectory(prefix="spacectl-bench-") as tmp:
        work = Path(tmp)
        with sandbox_process(
            work / "sandbox",
            build_seconds=0.5,
            user=[f"{USER}:{TOKEN}"],
            org=[f"{o}:{USER}" for o in owners],
        ) as sandbox:
            print(f"spacectl benchmark against {sandbox.endpoint} ({os.cpu_count()} cores)\n")
            bench_plan(sandbox, work)
            bench_example(sandbox, work)
            bench_thirty(sandbox, work)


if __name__ == "__main__":
    main()
