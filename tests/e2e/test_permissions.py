"""Permissions before writes, through the real CLI against a sandbox process: a token that
cannot write where the plan writes is refused before the first write (the request log shows
none), with one line naming what is missing and the fix."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from spacectl.sandbox.testing import sandbox_process
from tests.e2e.conftest import BOT, BOT_TOKEN, CANARY, EXAMPLES, ORG, READ_TOKEN, Workspace

OUTSIDER = "outsider"
OUTSIDER_TOKEN = "hf_outsider_write_token_0123456789"


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Workspace]:
    """The examples against a sandbox where ci-bot (write and read tokens) is a member of the
    organisation and `outsider` (a write token) is not."""
    with sandbox_process(
        tmp_path / "sandbox",
        build_seconds=0.5,
        user=[f"{BOT}:{BOT_TOKEN}", f"{BOT}:{READ_TOKEN}:read", f"{OUTSIDER}:{OUTSIDER_TOKEN}"],
        org=[f"{ORG}:{BOT}"],
    ) as process:
        root = tmp_path / "repo"
        shutil.copytree(EXAMPLES, root)
        env = process.env(xet=False, token=BOT_TOKEN)
        env["GEMINI_API_KEY"] = CANARY
        env.pop("SPACECTL_SECRET_KEY", None)
        yield Workspace(root, process, env)


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (READ_TOKEN, f"{ORG}: the token is read-only"),
        (OUTSIDER_TOKEN, f"{ORG}: {OUTSIDER} is not a member of {ORG}"),
    ],
    ids=["read-only token", "non-member"],
)
def test_a_token_that_cannot_write_makes_zero_write_requests(
    guarded: Workspace, token: str, says: str
) -> None:
    ws = guarded
    # A private Space exists already: the read-only token plans an update of it, the outsider
    # (who cannot see it) a create.
    HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN).create_repo(
        f"{ORG}/vision-lab", repo_type="space", space_sdk="gradio", private=True
    )
    ws.sandbox.clear_requests()
    result = ws.run("apply", "--yes", env={"HF_TOKEN": token})
    assert result.code == 1, result.both
    errors = _error_lines(result.err)
    assert len(errors) == 1, result.err
    assert says in errors[0] and "nothing was applied" in errors[0], errors
    assert "Hint: create a token with write access" in result.err or "Hint: ask an admin" in (
        result.err
    )
    assert ws.writes() == [], ws.writes()
    whoamis = [r for r in ws.sandbox.requests() if r["path"] == "/api/whoami-v2"]
    assert len(whoamis) == 1  # the whole check is one whoami
    assert "Apply complete" not in result.out


def test_a_non_member_is_refused_where_the_plan_reads_too(guarded: Workspace) -> None:
    """A public Space's variables are not readable by a non-member: the plan stops there, one
    line naming the 403, before any write."""
    ws = guarded
    HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN).create_repo(
        f"{ORG}/platform", repo_type="space", space_sdk="docker"
    )
    ws.sandbox.clear_requests()
    result = ws.run("apply", "--yes", env={"HF_TOKEN": OUTSIDER_TOKEN})
    assert result.code == 1, result.both
    errors = _error_lines(result.err)
    assert len(errors) == 1 and "(403)" in errors[0], result.err
    assert "Hint: use a token with write access" in result.err
    assert ws.writes() == []


def test_a_writer_pays_one_whoami_and_applies(guarded: Workspace) -> None:
    ws = guarded
    ws.sandbox.clear_requests()
    result = ws.run("apply", "--yes", "--target", "platform")
    assert result.code == 0, result.both
    paths = [str(r["path"]) for r in ws.sandbox.requests()]
    assert paths.count("/api/whoami-v2") == 1
    assert not any("/auth-check" in p for p in paths)  # whoami answered it: no per-Space read
    # The check comes before the first write.
    assert paths.index("/api/whoami-v2") < paths.index("/api/repos/create")


def test_an_invalid_token_is_one_line_and_writes_nothing(guarded: Workspace) -> None:
    ws = guarded
    ws.sandbox.clear_requests()
    result = ws.run("apply", "--yes", env={"HF_TOKEN": "hf_not_a_token_at_all_000000"})
    assert result.code == 1, result.both
    errors = _error_lines(result.err)
    assert len(errors) == 1 and "(401)" in errors[0], result.err
    assert "hf_not_a_token" not in result.both  # the token is never echoed
    assert ws.writes() == []
