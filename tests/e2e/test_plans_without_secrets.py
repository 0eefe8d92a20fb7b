"""Plans without production secrets, through the real CLI against a running sandbox: a pull
request from a fork (no secret reaches its job), pre-commit's `validate`, `--target`."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace

KEY = {"SPACECTL_SECRET_KEY": "ci-only-hmac-key-5d1f"}
NOT_VERIFIED = (
    "secrets.GEMINI_API_KEY = (sensitive value)  # not verified: $GEMINI_API_KEY is not set"
)


def _lines(out: str) -> list[str]:
    """The output's lines without the padding that aligns the `=` of a Space's fields."""
    return [re.sub(r" +=", " =", line.strip(), count=1) for line in out.splitlines()]


def _fork(ws: Workspace) -> Workspace:
    """The same checkout in a fork's job: neither the secret nor spacectl's HMAC key is set."""
    env = {k: v for k, v in ws.env.items() if k not in ("GEMINI_API_KEY", *KEY)}
    return replace(ws, env=env)


def test_a_fork_plans_without_the_secret_and_shows_no_false_change(workspace: Workspace) -> None:
    ws, fork = workspace, _fork(workspace)
    assert fork.run("validate").code == 0  # pre-commit: offline and secret-free

    # Nothing exists yet: the secret must be created, so the write is planned, and apply
    # refuses that Space (before any write to it) while the others are applied.
    first = fork.run("plan", "--detailed-exitcode")
    assert first.code == 2, first.both
    assert (
        "+ secrets.GEMINI_API_KEY = (sensitive value)  # missing on the Hub; $GEMINI_API_KEY "
        "is not set: apply needs it" in _lines(first.out)
    ), first.out
    assert "apply refuses this Space until the variable is set" in first.out
    ws.sandbox.clear_requests()
    refused = fork.run("apply", "--yes")
    assert refused.code == 1, refused.both
    assert (
        f"{ORG}/platform: failed: {ORG}/platform: environment variable GEMINI_API_KEY for "
        "secret GEMINI_API_KEY is not set" in refused.out
    ), refused.out
    assert "5 applied" in refused.out
    assert len([w for w in ws.writes() if w["path"] == "/api/repos/create"]) == 5
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    assert f"{ORG}/platform" not in {s.id for s in api.list_spaces(author=ORG)}

    assert ws.run("apply", "--yes", env=KEY).code == 0  # the main branch's job has the value
    assert ws.run("plan", "--detailed-exitcode", env=KEY).code == 0

    # The fork's plan: no change, the secret shown as not verified, and no write.
    ws.sandbox.clear_requests()
    plan = fork.run("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.both
    assert f"\n        {NOT_VERIFIED}\n" in plan.out, plan.out
    assert plan.out.startswith("No changes. The Hub matches the manifest as far as could be")
    assert "not verified: without the value this plan cannot tell" in plan.out
    markdown = fork.run("plan", "--format", "markdown")
    assert NOT_VERIFIED in markdown.out, markdown.out
    data = json.loads(fork.run("plan", "--format", "json").out)
    [platform] = [s for s in data["spaces"] if s["id"] == f"{ORG}/platform"]
    assert platform["fields"] == [
        {
            "path": "secrets.GEMINI_API_KEY",
            "action": "no-op",
            "sensitive": True,
            "reason": "not verified: $GEMINI_API_KEY is not set",
        }
    ]
    assert data["has_changes"] is False
    # A visible change in the fork still plans exactly, the unverified secret beside it.
    ws.manifest.write_text(ws.manifest.read_text().replace("WORKERS: 4", "WORKERS: 8"))
    changed = fork.run("plan", "--detailed-exitcode", "--target", "platform")
    assert changed.code == 2, changed.both
    assert '~ variables.WORKERS = "4" -> "8"' in _lines(changed.out), changed.out
    assert NOT_VERIFIED in _lines(changed.out)
    # Applying that plan where the secret is missing writes the variable and leaves the
    # secret as it is: nothing was planned for it.
    assert fork.run("apply", "--yes", "--target", "platform").code == 0
    secret_writes = [w for w in ws.writes() if "/secrets" in str(w["path"])]
    assert secret_writes == []

    # The next plan made with the value finds nothing spurious.
    again = ws.run("plan", "--detailed-exitcode", env=KEY)
    assert again.code == 0, again.both
    assert "not verified" not in again.both


def test_target_reads_only_its_targets_variables(workspace: Workspace) -> None:
    fork = _fork(workspace)
    plan = fork.run("plan", "--target", "docs")
    assert plan.code == 0, plan.both
    assert "GEMINI_API_KEY" not in plan.both
