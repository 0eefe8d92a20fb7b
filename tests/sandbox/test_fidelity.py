"""The sandbox answers like the Hub where huggingface_hub's own tests look (issue 10): the real
client, with its default install, against a `spacectl sandbox serve` process; the checks are
in fidelity_scenarios.py."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import get_args

from huggingface_hub.hf_api import ExpandSpaceProperty_T

from spacectl.sandbox.shapes import SPACE_EXPAND
from spacectl.sandbox.testing import sandbox_process

SCENARIOS = Path(__file__).with_name("fidelity_scenarios.py")


def _defined_checks() -> set[str]:
    """The names of the scenario file's `@check` functions, read from its source."""
    tree = ast.parse(SCENARIOS.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(d, ast.Name) and d.id == "check" for d in node.decorator_list)
    }


def test_every_fidelity_check_passes_through_the_real_client(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, build_seconds=0.2, user=["alice:hf_alice_write"]) as sandbox:
        env = sandbox.env(xet=True, token="hf_alice_write")
        done = subprocess.run(
            [sys.executable, str(SCENARIOS)], env=env, capture_output=True, text=True, timeout=240
        )
        log = sandbox.requests()
    checks = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    failures = {c["check"]: c["error"] for c in checks if not c["ok"]}
    assert not failures, "\n".join(f"--- {name}\n{err}" for name, err in failures.items())
    # Every check ran (none skipped by an early crash), and the process agrees.
    assert {c["check"] for c in checks} == _defined_checks(), done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    assert not [e for e in log if e["status"] >= 500]


def test_the_expand_values_are_the_ones_the_client_knows() -> None:
    """The client's literal is synced from the Hub, and the client sends `xetEnabled` too
    (recorded: the Hub answers it 200); `host` is a key, not an expand value."""
    assert set(get_args(ExpandSpaceProperty_T)) | {"xetEnabled"} == SPACE_EXPAND


def test_branches_tags_region_and_redirects_survive_a_restart(tmp_path: Path) -> None:
    """What the fidelity fixes added to a Space is persisted under `--data`."""
    auth = {"Authorization": "Bearer hf_alice_write", "Content-Type": "application/json"}
    with sandbox_process(tmp_path, data=tmp_path / "data", user=["alice:hf_alice_write"]) as sb:

        def call(method: str, path: str, body: object = None) -> tuple[int, bytes]:
            data = None if body is None else json.dumps(body).encode()
            status, _, raw = sb.http(method, path, data, auth)
            return status, raw

        create = {"name": "kept", "type": "space", "sdk": "static", "region": "eu"}
        assert call("POST", "/api/repos/create", create)[0] == 200
        space = "/api/spaces/alice/kept"
        assert call("POST", f"{space}/branch/dev", {})[0] == 200
        commit = b'{"key":"header","value":{"summary":"on dev"}}\n'
        commit += b'{"key":"file","value":{"path":"d.txt","content":"ZA==","encoding":"base64"}}\n'
        status, _, _ = sb.http("POST", f"{space}/commit/dev", commit, auth)
        assert status == 200
        assert call("POST", f"{space}/tag/dev", {"tag": "v1"})[0] == 200
        move = {"fromRepo": "alice/kept", "toRepo": "alice/renamed", "type": "space"}
        assert call("POST", "/api/repos/move", move)[0] == 200
        before = json.loads(call("GET", "/api/spaces/alice/renamed/refs")[1])
        sb.restart()
        after = json.loads(call("GET", "/api/spaces/alice/renamed/refs")[1])
        assert after == before and [t["name"] for t in after["tags"]] == ["v1"], after
        status, tree = call("GET", "/api/spaces/alice/renamed/tree/v1")
        assert status == 200 and "d.txt" in [e["path"] for e in json.loads(tree)]
        info = json.loads(call("GET", "/api/spaces/alice/renamed?expand=region")[1])
        assert info["region"] == "eu"
        # urllib follows the old name's 307 to the new one.
        assert json.loads(call("GET", "/api/spaces/alice/kept?expand=sha")[1])["id"] == (
            "alice/renamed"
        )
