"""The `--data` store of a real sandbox process: the bytes a write costs do not grow with the
store, SIGKILL at random moments of a stream of writes through the real client loses no
acknowledged write and leaves the state readable, and an old state.json keeps working."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from spacectl.sandbox.testing import SandboxProcess, sandbox_process

ALICE = "alice:hf_alice_write"
AUTH = {"Authorization": "Bearer hf_alice_write", "Content-Type": "application/json"}
WRITER = Path(__file__).with_name("store_writer.py")
LEGACY = Path(__file__).with_name("data") / "legacy-v1"
TRIALS = 12


def _post(sandbox: SandboxProcess, path: str, body: dict[str, Any]) -> None:
    status, _, answer = sandbox.http("POST", path, json.dumps(body).encode(), AUTH)
    assert status == 200, answer


def _create(sandbox: SandboxProcess, name: str) -> None:
    _post(sandbox, "/api/repos/create", {"name": name, "type": "space", "sdk": "docker"})


def _written_bytes(pid: int) -> int:
    """Bytes the process has passed to write(2) so far (files and sockets alike)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/PID/io")


def _median_write_cost(sandbox: SandboxProcess, repo: str, count: int = 21) -> float:
    """The median of bytes the sandbox writes to answer one variable write to `repo`."""
    costs = []
    for index in range(count):
        before = _written_bytes(sandbox.pid)
        _post(sandbox, f"/api/spaces/{repo}/variables", {"key": "K", "value": f"{index:06d}"})
        costs.append(_written_bytes(sandbox.pid) - before)
    return statistics.median(costs)


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/PID/io")
def test_a_write_costs_the_same_bytes_at_1000_spaces_as_at_10(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, data=tmp_path / "data", user=[ALICE]) as sandbox:
        for index in range(10):
            _create(sandbox, f"s{index:04d}")
        at_10 = _median_write_cost(sandbox, "alice/s0001")
        for index in range(10, 1000):
            _create(sandbox, f"s{index:04d}")
        at_1000 = _median_write_cost(sandbox, "alice/s0001")
    # The one-file store wrote the whole state (~700 bytes per Space) on every write.
    print(f"bytes written per variable write: {at_10:.0f} at 10 Spaces, {at_1000:.0f} at 1,000")
    assert at_1000 < 20_000, (at_10, at_1000)
    assert at_1000 <= at_10 * 1.25 + 1024, (at_10, at_1000)


def _model(ops: list[list[str]]) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Variables, files and extra Spaces after `ops`, in order."""
    variables: dict[str, str] = {}
    files: dict[str, str] = {}
    spaces: set[str] = set()
    for op in ops:
        if op[0] == "var":
            variables[op[1]] = op[2]
        elif op[0] == "unvar":
            variables.pop(op[1], None)
        elif op[0] == "file":
            files[op[1]] = op[2]
        else:
            spaces.add(op[1])
    return variables, files, spaces


def _run_writer_until_killed(sandbox: SandboxProcess, repo: str, rng: random.Random) -> Any:
    """Start the writer, SIGKILL the sandbox a random time after its first acknowledged
    write, and return (acknowledged ops, the op in flight or None)."""
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), repo, str(rng.randrange(1 << 30))],
        env=sandbox.env(xet=False, token="hf_alice_write"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert writer.stdout is not None
    lines = []
    deadline = None
    for line in writer.stdout:
        lines.append(json.loads(line))
        if deadline is None and "ack" in lines[-1]:
            deadline = time.monotonic() + rng.uniform(0.0, 1.5)
        if deadline is not None and time.monotonic() >= deadline:
            sandbox.kill()
            break
    # The client would retry against the dead sandbox for a while: what it printed before it
    # is killed is in the pipe still, and nothing it sends later can land.
    writer.kill()
    writer.wait()
    lines += [json.loads(line) for line in writer.stdout]
    acked = [entry["ack"] for entry in lines if "ack" in entry]
    sent = [entry["send"] for entry in lines if "send" in entry]
    assert sent[: len(acked)] == acked
    return acked, (sent[len(acked)] if len(sent) > len(acked) else None)


def _check_state(sandbox: SandboxProcess, repo: str, acked: Any, in_flight: Any) -> None:
    """Every acknowledged write is there; the one in flight is there or not, wholly."""
    done = _model(acked)
    maybe = _model([*acked, in_flight]) if in_flight else done
    status, _, body = sandbox.http("GET", f"/api/spaces/{repo}/variables", headers=AUTH)
    assert status == 200, body
    live = {key: value["value"] for key, value in json.loads(body).items()}
    assert live in (done[0], maybe[0])
    for path in set(done[1]) | set(maybe[1]):
        status, _, content = sandbox.http("GET", f"/spaces/{repo}/resolve/main/{path}")
        # A file only the write in flight added may be missing (404), never half there.
        assert status in (200, 404), (status, content)
        found = content.decode() if status == 200 else None
        assert found in (done[1].get(path), maybe[1].get(path)), (path, found)
    for created in done[2]:
        assert sandbox.http("GET", f"/api/spaces/{created}", headers=AUTH)[0] == 200
    status, _, listing = sandbox.http("GET", "/api/spaces?author=alice", headers=AUTH)
    assert status == 200 and json.loads(listing)  # the listing reads every Space


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    data = tmp_path / "data"
    sandbox = SandboxProcess(tmp_path, {"data": data, "user": [ALICE], "build_seconds": 0.1})
    acknowledged = 0
    sandbox.start()
    try:
        for trial in range(TRIALS):
            repo = f"alice/crash-{trial}"
            _create(sandbox, repo.split("/")[1])
            acked, in_flight = _run_writer_until_killed(sandbox, repo, rng)
            assert acked, "the writer made no write before the kill"
            acknowledged += len(acked)
            sandbox.start()  # reads the state the killed process left; the next trial uses it
            _check_state(sandbox, repo, acked, in_flight)
            for earlier in range(trial):  # and what earlier trials left is still there
                assert sandbox.http("GET", f"/api/spaces/alice/crash-{earlier}")[0] == 200
            with closing(sqlite3.connect(data / "state.sqlite3")) as db:
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        sandbox.stop()
    print(f"{TRIALS} SIGKILL trials, {acknowledged} acknowledged writes, all present")
    assert acknowledged >= TRIALS * 2


def test_a_data_folder_of_the_one_file_store_keeps_working(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(LEGACY, data)
    token = {"Authorization": "Bearer hf_alice_legacy_write_token_01"}
    with sandbox_process(tmp_path, data=data) as sandbox:  # no --user: the stored one
        assert sandbox.users == {"alice": "hf_alice_legacy_write_token_01"}
        variables = "/api/spaces/acme/legacy-app/variables"
        status, _, body = sandbox.http("GET", variables, headers=token)
        assert status == 200 and json.loads(body)["MODE"]["value"] == "legacy"
        status, _, body = sandbox.http("GET", "/spaces/acme/legacy-app/resolve/main/app.py")
        assert status == 200 and body == b"print('from the one-file store')\n"
        assert sandbox.http("GET", "/api/spaces/alice/site", headers=token)[0] == 200
        sandbox.restart()  # the converted state is what a restart reads
        assert sandbox.http("GET", "/api/spaces/alice/site", headers=token)[0] == 200
    assert (data / "state.json.migrated").exists() and not (data / "state.json").exists()
