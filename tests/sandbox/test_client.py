"""The real huggingface_hub client against a `spacectl sandbox serve` process, Xet on and off."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spacectl.sandbox.testing import SandboxProcess, sandbox_process

SCENARIOS = Path(__file__).with_name("client_scenarios.py")
USERS = ["alice:hf_alice_write", "bob:hf_bob_write", "alice:hf_alice_read:read"]


def run_scenario(
    sandbox: SandboxProcess, scenario: str, *, xet: bool, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = sandbox.env(xet=xet, token="hf_alice_write")
    env["SANDBOX_BOB_TOKEN"] = "hf_bob_write"
    env["SANDBOX_READ_TOKEN"] = "hf_alice_read"
    return subprocess.run(
        [sys.executable, str(SCENARIOS), scenario],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def results(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    "xet", [pytest.param(True, id="xet-on"), pytest.param(False, id="xet-off")]
)
def test_every_hfapi_method_through_the_real_client(tmp_path: Path, xet: bool) -> None:
    with sandbox_process(tmp_path, build_seconds=0.4, user=USERS, org=["acme:alice"]) as sandbox:
        done = run_scenario(sandbox, "full", xet=xet)
        log = sandbox.requests()
    checks = results(done.stdout)
    failures = {c["check"]: c["error"] for c in checks if not c["ok"]}
    assert not failures, "\n".join(f"--- {name}\n{err}" for name, err in failures.items())
    assert len(checks) >= 18 and done.returncode == 0, done.stderr[-3000:]

    paths = [(entry["method"], entry["path"]) for entry in log]
    lfs_puts = [p for m, p in paths if m == "PUT" and p.startswith("/sandbox-lfs/")]
    batches = [p for m, p in paths if p.endswith(".git/info/lfs/objects/batch")]
    cas = [(m, p.split("/", 3)[3]) for m, p in paths if p.startswith("/sandbox-xet/")]
    if xet:
        # Large files went through Xet storage: token, xorbs, a shard, a reconstruction.
        assert not lfs_puts and not batches
        assert any("xet-write-token" in p for _, p in paths)
        assert ("POST", "v1/shards") in cas
        assert any(m == "POST" and p.startswith("v1/xorbs/default/") for m, p in cas)
        assert any(p.startswith("v1/reconstructions/") for _, p in cas)
        assert any(p.startswith("fetch/") for _, p in cas)
    else:
        assert lfs_puts and batches and not cas
    assert all(entry["status"] for entry in log)
    # A simulated app's 503 (not running, or SANDBOX_APP_STATUS) is an answer, not a failure.
    failed = [e for e in log if e["status"] >= 500 and not e["path"].startswith("/sandbox-app/")]
    assert not failed, failed
