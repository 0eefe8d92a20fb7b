"""Crash trials: `spacectl apply` killed with SIGKILL at a seeded point of its writes, then run
again, converges (the next plan is empty) and lands nothing twice. Through the real CLI against
one sandbox process; the kill point is the N-th write request in the sandbox's request log (N
drawn from a seeded generator), so each trial stops at a known stage of the apply whatever the
machine's speed. A kill while apply holds a Space's lock (the `spacectl-lock` branch) leaves it:
the next apply refuses that Space and names `spacectl unlock`, which the trial runs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace, is_write

TRIALS = 20
SPACES = 3
KEY = {"SPACECTL_SECRET_KEY": "crash-trials-key"}


def _manifest(ws: Workspace, trial: int, prefix: str) -> None:
    """`SPACES` static Spaces named `prefix-N`, whose variable and files depend on `trial`."""
    site = ws.root / "site"
    site.mkdir(exist_ok=True)
    for name in ("index.html", "app.js", "style.css"):
        (site / name).write_text(f"/* {name} of trial {trial} */\n")
    spaces = "".join(f"  {prefix}-{i}:\n    variables: {{INDEX: '{i}'}}\n" for i in range(SPACES))
    ws.manifest.write_text(
        f"version: 1\nowner: {ORG}\n"
        "defaults:\n  sdk: static\n  source: ./site\n"
        f"  variables: {{TRIAL: '{trial}'}}\n"
        "  secrets: {API_KEY: {from_env: GEMINI_API_KEY}}\n"
        f"spaces:\n{spaces}"
    )


def _kill_at_write(ws: Workspace, nth: int) -> tuple[int, int]:
    """Start an apply, SIGKILL it once the sandbox logged its `nth` write (or let it finish);
    returns (writes seen when it stopped, its exit status)."""
    ws.sandbox.clear_requests()
    # Every request takes 40 ms more: the kill lands inside the apply, not after it.
    ws.sandbox.set_faults(latency_ms=40)
    process = subprocess.Popen(
        [sys.executable, "-m", "spacectl", "apply", "--yes", "--parallelism", "3"],
        cwd=ws.root,
        env={**ws.env, **KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    writes = 0
    while process.poll() is None and time.monotonic() < deadline:
        writes = sum(1 for r in ws.sandbox.requests() if is_write(r))
        if writes >= nth:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    status = process.wait(timeout=60)
    # Requests the killed process had sent still land (each waits 40 ms in the sandbox): the
    # state it leaves is the one after them.
    time.sleep(1.0)
    ws.sandbox.set_faults(latency_ms=0)
    return writes, status


@pytest.mark.slow
def test_seeded_sigkill_during_apply_converges(workspace: Workspace) -> None:
    ws = workspace
    rng = random.Random(20)
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    killed = converged = locks_left = lock_refusals = 0
    for trial in range(TRIALS):
        # Even trials create fresh Spaces (kills between create and first commit), odd ones
        # update the previous trial's Spaces (kills between settings and commit).
        prefix = f"t{trial:02d}" if trial % 2 == 0 else f"t{trial - 1:02d}"
        _manifest(ws, trial, prefix)
        # Per Space: a create and a commit; or lock, a settings write, a commit and unlock.
        nth = rng.randint(1, (2 if trial % 2 == 0 else 4) * SPACES)
        seen, status = _kill_at_write(ws, nth)
        killed += status == -signal.SIGKILL
        spaces = [f"{ORG}/{prefix}-{i}" for i in range(SPACES)]
        left = [space for space in spaces if _locked(api, space)]
        locks_left += bool(left)
        again = ws.run("apply", "--yes", env=KEY)
        if left:
            # The lock a killed apply left refuses its Space if that Space still has changes
            # (a kill after its last write leaves nothing to do there), and says how to free it.
            held = [space for space in left if f"  {space}: refused: " in again.out]
            for space in held:
                assert (
                    f"  {space}: refused: {space}: another spacectl apply holds its lock "
                    "(branch spacectl-lock); nothing was written to it\n"
                ) in again.out, again.both
                assert f"`spacectl unlock {space}`" in again.out, again.both
            assert not [s for s in left if s not in held and f"  {s}: applied" in again.out]
            assert again.code == (1 if held else 0), (trial, nth, again.both)
            lock_refusals += bool(held)
            unlocked = ws.run("unlock", *left)
            assert unlocked.code == 0 and unlocked.out.count("unlocked") == len(left), unlocked
            again = ws.run("apply", "--yes", env=KEY)
        assert again.code == 0, (trial, nth, again.both)
        assert not any(_locked(api, space) for space in spaces)  # apply released every lock
        after = ws.run("plan", "--detailed-exitcode", env=KEY)
        assert after.code == 0, (trial, nth, seen, after.out)
        for i in range(SPACES):
            space = f"{ORG}/{prefix}-{i}"
            assert api.get_space_variables(space)["TRIAL"].value == str(trial)
            files = set(api.list_repo_files(space, repo_type="space"))
            assert files == {".gitattributes", "README.md", "index.html", "app.js", "style.css"}
            # The Hub's initial commit, then one commit per trial that changed files: a commit
            # whose answer the kill cut off is never repeated.
            commits = api.list_repo_commits(space, repo_type="space")
            assert len(commits) <= 1 + (1 if trial % 2 == 0 else 2), (trial, space, commits)
        converged += 1
    print(
        f"crash trials: {killed} of {TRIALS} applies killed mid-way, {locks_left} left a lock "
        f"({lock_refusals} refused by it, then unlocked), {converged} converged"
    )
    assert converged == TRIALS
    assert killed >= TRIALS * 3 // 4  # the kills really landed inside the applies
    assert lock_refusals >= 1  # a kill inside a locked Space's writes was tried, and refused


def _locked(api: HfApi, space: str) -> bool:
    """Whether `space` carries apply's lock (False for a Space the kill left uncreated)."""
    try:
        refs = api.list_repo_refs(space, repo_type="space")
    except RepositoryNotFoundError:
        return False
    return any(branch.name == "spacectl-lock" for branch in refs.branches)
