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
