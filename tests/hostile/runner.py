"""The corpus worker: runs many `spacectl` invocations in ONE process (start-up paid once),
each in its own folder with its own environment, output captured, under a per-case alarm.

    python -m tests.hostile.runner CASES.json RESULTS.json

CASES.json is a list of {id, cwd, argv, env}; RESULTS.json gets, per case, {id, code, out,
err, seconds, max_rss_kb, writes}: `writes` are the state-changing requests the sandbox logged
during the case (its request log is read and cleared after each). The caller sets the memory limit
(RLIMIT_AS) for the whole process, so every case runs under it. No pytest here.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.e2e.conftest import is_write

CASE_SECONDS = 20


class CaseTimeout(BaseException):
    """Raised by the alarm: a BaseException, so the CLI's own `except Exception` cannot eat it."""


def _alarm(signum: int, frame: object) -> None:
    raise CaseTimeout


def _sandbox_log(endpoint: str, method: str) -> Any:
    request = urllib.request.Request(f"{endpoint}/_sandbox/requests", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    from spacectl.cli import app
    from spacectl.cli.boundary import run_app

    saved_env = dict(os.environ)
    os.environ.update(case["env"])
    for name in case.get("unset", ()):
        os.environ.pop(name, None)
    os.chdir(case["cwd"])
    sys.argv = ["spacectl", *case["argv"]]
    out, err = io.StringIO(), io.StringIO()
    code: int | str = 0
    start = time.perf_counter()
    signal.alarm(CASE_SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run_app(app)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except CaseTimeout:
        code = "timeout"
    finally:
        signal.alarm(0)
        os.environ.clear()
        os.environ.update(saved_env)
    return {
        "id": case["id"],
        "code": code,
        "out": out.getvalue(),
        "err": err.getvalue(),
        "seconds": round(time.perf_counter() - start, 3),
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,  # the process's so far
    }


def main(argv: list[str]) -> None:
    cases = json.loads(Path(argv[0]).read_text())
    endpoint = os.environ["HF_ENDPOINT"]
    signal.signal(signal.SIGALRM, _alarm)
    results = []
    _sandbox_log(endpoint, "DELETE")
    for case in cases:
        result = run_case(case)
        log = _sandbox_log(endpoint, "GET")
        result["writes"] = [f"{r['method']} {r['path']}" for r in log if is_write(r)]
        _sandbox_log(endpoint, "DELETE")
        results.append(result)
    Path(argv[1]).write_text(json.dumps(results, ensure_ascii=True))


if __name__ == "__main__":
    main(sys.argv[1:])
