"""Ctrl-C during apply, through the real CLI: it stops starting Spaces, each running one stops
after its current operation, prints one summary of what was applied, and exits 130; the next
apply finishes the rest."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from spacectl.errors import EXIT_INTERRUPTED
from tests.e2e.conftest import CANARY, Workspace, is_write


def test_ctrl_c_prints_what_was_applied_and_exits_130(workspace: Workspace) -> None:
    ws = workspace
    ws.sandbox.set_faults(latency_ms=150)  # the apply of six Spaces takes a few seconds
    ws.sandbox.clear_requests()
    process = subprocess.Popen(
        [sys.executable, "-m", "spacectl", "apply", "--yes", "--parallelism", "1"],
        cwd=ws.root,
        env=ws.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        paths = [str(r["path"]) for r in ws.sandbox.requests() if is_write(r)]
        if any("/commit/" in p for p in paths):  # the first Space is (nearly) done
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert CANARY not in out + err and "Traceback" not in err, err
    assert process.returncode == EXIT_INTERRUPTED, (out, err)
    summary = [line for line in out.splitlines() if line.startswith("Stopped by Ctrl-C: ")]
    assert len(summary) == 1, out
    assert "Apply complete" not in out
    assert ": applied " in out  # the Space(s) finished before the interrupt are listed
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "apply interrupted (Ctrl-C)" in errors[0], err
    assert "not started: " in errors[0]

    writes = len([r for r in ws.sandbox.requests() if is_write(r)])
    creates = [r for r in ws.sandbox.requests() if r["path"] == "/api/repos/create"]
    assert len(creates) < 6  # it stopped starting Spaces
    time.sleep(0.5)
    assert len([r for r in ws.sandbox.requests() if is_write(r)]) == writes  # nothing after exit

    ws.sandbox.set_faults(latency_ms=0)
    again = ws.run("apply", "--yes")
    assert again.code == 0, again.both
    assert ws.run("plan", "--detailed-exitcode").code == 0
