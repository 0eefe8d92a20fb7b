"""Concurrent writers, through real processes against one sandbox: an out-of-band commit after
spacectl read a new Space's head makes its first commit (built on that head) refused, read again
and kept the other writer's file (the next plan shows it for review); two applies at once (of one
manifest, and of two versions) never leave a Space matching neither version: the loser refuses a
Space before its first write (its lock is held, or it changed since the plan) and says so, and a
third run converges."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace

KEY = {"SPACECTL_SECRET_KEY": "race-key"}


def _version(root: Path, version: int, spaces: int = 3) -> None:
    site = root / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text(f"<p>version {version}</p>\n")
    entries = "".join(f"  race-{i}: {{}}\n" for i in range(spaces))
    (root / "spaces.yaml").write_text(
        f"version: 1\nowner: {ORG}\ndefaults:\n  sdk: static\n  source: ./site\n"
        f"  variables: {{VERSION: '{version}'}}\nspaces:\n{entries}"
    )


def _start(ws: Workspace, root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "spacectl", "apply", "--yes", *args],
        cwd=root,
        env={**ws.env, **KEY},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _requests(ws: Workspace, space: str, part: str) -> list[dict[str, object]]:
    return [
        r
        for r in ws.sandbox.requests()
        if f"/{space}/" in str(r["path"]) and part in str(r["path"])
    ]


def test_an_out_of_band_commit_after_the_head_read_is_re_read_and_kept(
    workspace: Workspace,
) -> None:
    ws = workspace
    _version(ws.root, 1, spaces=1)
    space = f"{ORG}/race-0"
    # spacectl's commit waits 3 s in the sandbox (only its path, `/commit/main`, is delayed):
    # once spacectl has read the new Space's head, another writer commits through the client.
    ws.sandbox.set_faults(latency_ms=3000, only_paths="/commit/main")
    ws.sandbox.clear_requests()
    process = _start(ws, ws.root, "--format", "json")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _requests(ws, space, "/commits/main"):
            break
        time.sleep(0.02)
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    api.upload_file(
        path_or_fileobj=b"theirs\n",
        path_in_repo="theirs.txt",
        repo_id=space,
        repo_type="space",
        revision="refs/heads/main",  # not the delayed path
    )
    out, err = process.communicate(timeout=120)
    ws.sandbox.set_faults(latency_ms=0, only_paths=None)
    assert process.returncode == 0, out + err
    # The first commit carried the head it read as its parent: the Hub refused it (412) once the
    # other writer's commit moved the head; spacectl read the head again and committed on it.
    commits = _requests(ws, space, "/commit/main")
    assert [r["status"] for r in commits] == [412, 200], commits
    assert len(_requests(ws, space, "/commits/main")) == 2
    assert "reading its head again" in err
    result = json.loads(out)["spaces"][0]
    assert result["outcome"] == "applied"
    assert result["notes"] == ["kept 1 file(s) another writer added or changed: theirs.txt"]
    files = set(api.list_repo_files(space, repo_type="space"))
    # Only the template's files unchanged since the Hub's initial commit are deleted.
    assert "theirs.txt" in files and "style.css" not in files, files

    plan = ws.run("plan", env=KEY)
    assert "- files/theirs.txt" in plan.out  # the deletion is now shown, for review
    assert ws.run("apply", "--yes", env=KEY).code == 0
    assert ws.run("plan", "--detailed-exitcode", env=KEY).code == 0


def _state(api: HfApi, space: str) -> tuple[str | None, str]:
    variables = api.get_space_variables(space)
    page = Path(api.hf_hub_download(space, "index.html", repo_type="space")).read_text()
    return (variables["VERSION"].value if "VERSION" in variables else None), page


REFUSALS = (
    "another spacectl apply holds its lock (branch spacectl-lock); nothing was written to it",
    "changed on the Hub after the plan was made",
    "cannot create it: a Space with this name already exists",  # the other created it first
)


def _race(ws: Workspace, versions: tuple[int, int], tmp: Path) -> list[list[dict[str, Any]]]:
    """Two applies at once (folder copies with `versions`); returns each one's Space results.
    Each Space of each writer is applied (or unchanged), or refused before its first write with
    one of REFUSALS: never written in part (FAILED)."""
    roots = []
    for n, version in enumerate(versions):
        root = tmp / f"writer-{n}-{version}"
        shutil.copytree(ws.root, root)
        _version(root, version)
        roots.append(root)
    ws.sandbox.set_faults(latency_ms=30)  # widen the window where they overlap
    processes = [_start(ws, root, "--format", "json") for root in roots]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert "Traceback" not in err and process.returncode in (0, 1), err
        spaces = json.loads(out)["spaces"]
        for space in spaces:
            # unchanged: planned once the other had applied it already (of the same version)
            assert space["outcome"] in ("applied", "unchanged", "refused"), (space, err)
            if space["outcome"] == "refused":
                assert space["operations_done"] == [], space
                assert any(why in space["error"] for why in REFUSALS), space
        results.append(spaces)
    ws.sandbox.set_faults(latency_ms=0)
    return results


def _refused(results: list[list[dict[str, Any]]]) -> int:
    return sum(1 for spaces in results for s in spaces if s["outcome"] == "refused")


def test_two_applies_of_one_manifest_at_once_agree(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    results = _race(ws, (1, 1), tmp_path)
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    for i in range(3):
        assert _state(api, f"{ORG}/race-{i}") == ("1", "<p>version 1</p>\n"), results
    _version(ws.root, 1)
    assert ws.run("plan", "--detailed-exitcode", env=KEY).code == 0, results


# `SPACECTL_RACE_RUNS=10` measures (not in CI by default): the test prints each race's count.
RACES = int(os.environ.get("SPACECTL_RACE_RUNS", "2"))


def test_two_versions_at_once_never_leave_files_of_neither(
    workspace: Workspace, tmp_path: Path
) -> None:
    ws = workspace
    _version(ws.root, 0)
    assert ws.run("apply", "--yes", env=KEY).code == 0  # the Spaces exist: both update them
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    refused = 0
    for race in range(RACES):
        versions = (2 * race + 1, 2 * race + 2)
        results = _race(ws, versions, tmp_path)
        mixed = []
        for i in range(3):
            space = f"{ORG}/race-{i}"
            variable, page = _state(api, space)
            assert page in (f"<p>version {v}</p>\n" for v in versions), (space, page, results)
            if page != f"<p>version {variable}</p>\n":
                mixed.append(space)
        counts = f"{len(mixed)} of 3 Spaces mixed, {_refused(results)} refused"
        print(f"race {race + 1} of {RACES}: {counts}")
        assert mixed == [], results
        refused += _refused(results)
        # A third run (of the later version) converges.
        _version(ws.root, versions[1])
        assert ws.run("apply", "--yes", env=KEY).code == 0
        assert ws.run("plan", "--detailed-exitcode", env=KEY).code == 0
    assert refused >= 1  # the applies did overlap: a loser refused at least one Space


def _branches(api: HfApi, space: str) -> list[str]:
    return [b.name for b in api.list_repo_refs(space, repo_type="space").branches]


def _applied(ws: Workspace, spaces: int) -> HfApi:
    """Version 1 of `spaces` Spaces applied; the client to look at them."""
    _version(ws.root, 1, spaces=spaces)
    assert ws.run("apply", "--yes", env=KEY).code == 0
    return HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)


def test_a_held_lock_refuses_until_unlock_and_nothing_else_sees_it(workspace: Workspace) -> None:
    ws = workspace
    api = _applied(ws, 2)
    held = f"{ORG}/race-0"
    assert _branches(api, held) == ["main"]  # the apply released its locks
    api.create_branch(held, branch="spacectl-lock", repo_type="space")  # a killed apply's
    # Read-only commands do not trip over the lock, nor show it.
    plan = ws.run("plan", "--detailed-exitcode", "--format", "json", env=KEY)
    assert plan.code == 0 and "spacectl-lock" not in plan.both, plan.both
    assert ws.run("status").code == 0
    imported = ws.run("import", ORG, "--space", "race-0")
    assert imported.code == 0 and "spacectl-lock" not in imported.both, imported.both
    _version(ws.root, 2, spaces=2)
    ws.sandbox.clear_requests()
    refused = ws.run("apply", "--yes", env=KEY)
    assert refused.code == 1, refused.both
    assert (
        f"  {held}: refused: {held}: another spacectl apply holds its lock (branch "
        "spacectl-lock); nothing was written to it\n"
    ) in refused.out
    assert f"run `spacectl unlock {held}`" in refused.out
    assert f"{ORG}/race-1: applied" in refused.out  # the other Space is not held up
    writes = [str(r["path"]) for r in ws.writes() if f"/{held}/" in str(r["path"])]
    assert writes == [f"/api/spaces/{held}/branch/spacectl-lock"], writes  # the refused try
    assert _branches(api, held) == ["main", "spacectl-lock"]  # not ours: left alone

    unlocked = ws.run("unlock", "race-0", "--format", "json")
    assert unlocked.code == 0, unlocked.both
    assert json.loads(unlocked.out)["spaces"] == [{"id": held, "unlocked": True}]
    again = ws.run("unlock", held)
    assert again.code == 0 and again.out == f"{held}: was not locked\n", again.both
    unknown = ws.run("unlock", "no-such-space")
    assert unknown.code == 1 and unknown.err.startswith(
        "Error: unlock: no-such-space is not OWNER/NAME nor a Space of the manifest"
    ), unknown.both
    assert ws.run("apply", "--yes", env=KEY).code == 0
    assert ws.run("plan", "--detailed-exitcode", env=KEY).code == 0
    assert _branches(api, held) == ["main"]


def test_lock_timeout_waits_for_the_lock_and_no_lock_ignores_it(workspace: Workspace) -> None:
    ws = workspace
    api = _applied(ws, 1)
    space = f"{ORG}/race-0"
    api.create_branch(space, branch="spacectl-lock", repo_type="space")
    _version(ws.root, 2, spaces=1)
    process = _start(ws, ws.root, "--lock-timeout", "60")
    time.sleep(3)  # it asks, is refused, and waits
    assert process.poll() is None
    api.delete_branch(space, branch="spacectl-lock", repo_type="space")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err
    assert _state(api, space) == ("2", "<p>version 2</p>\n")
    # --no-lock: the caller serialises applies; a lock present is neither asked for nor touched.
    api.create_branch(space, branch="spacectl-lock", repo_type="space")
    _version(ws.root, 3, spaces=1)
    ws.sandbox.clear_requests()
    assert ws.run("apply", "--yes", "--no-lock", env=KEY).code == 0
    assert not [r for r in ws.sandbox.requests() if "/branch/" in str(r["path"])]
    assert _state(api, space) == ("3", "<p>version 3</p>\n")
