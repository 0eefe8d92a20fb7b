"""Preview Spaces through the real CLI against a running sandbox (issue 13, must-show 2): `up`
makes private copies with the pull request's files and no secrets, a second `up` after a file
change one commit per changed copy, `down` deletes exactly its copies (never a Space of the
manifest, whatever its name or variables), `prune` only expired previews."""

from __future__ import annotations

import json

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace

NAMES = ["platform", "team-a", "team-b", "team-c", "docs", "vision-lab"]


def _api(ws: Workspace) -> HfApi:
    return HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)


def _commits(ws: Workspace) -> list[str]:
    return [str(w["path"]) for w in ws.writes() if "/commit/" in str(w["path"])]


def test_preview_lifecycle(workspace: Workspace) -> None:
    ws = workspace
    api = _api(ws)
    # A manifest Space named like a preview, even carrying the marker by hand, is never one.
    text = ws.manifest.read_text()
    ws.manifest.write_text(
        text.replace(
            "  old-demo:\n",
            "  docs-pr-8:\n    sdk: static\n    source: ./apps/docs\n\n  old-demo:\n",
        )
    )
    assert ws.run("apply", "--yes", "--target", "docs-pr-8", "--target", "docs").code == 0
    api.add_space_variable(f"{ORG}/docs-pr-8", "SPACECTL_PREVIEW", "pr-8")
    api.create_repo(f"{ORG}/team-a-pr-7-notes", repo_type="space", space_sdk="static")

    ws.sandbox.clear_requests()
    up = ws.run("preview", "up", "pr-7", "--format", "json")
    assert up.code == 0, up.both
    rows = json.loads(up.out)["spaces"]
    copies = {f"{ORG}/{n}-pr-7" for n in NAMES} | {f"{ORG}/docs-pr-8-pr-7"}
    assert {r["id"] for r in rows} == copies
    assert all(r["outcome"] == "applied" for r in rows)
    assert all(r["page_url"] == f"{ws.sandbox.endpoint}/spaces/{r['id']}" for r in rows)
    assert len([w for w in ws.writes() if w["path"] == "/api/repos/create"]) == len(copies)
    assert "/secrets" not in " ".join(str(w["path"]) for w in ws.writes())

    listed = {s.id: s for s in api.list_spaces(author=ORG, expand=["private", "runtime"])}
    for space_id in copies:
        assert listed[space_id].private is True, space_id
        assert api.get_space_secrets(space_id) == {}  # none by default
        variables = api.get_space_variables(space_id)
        assert variables["SPACECTL_PREVIEW"].value == "pr-7"
    assert listed[f"{ORG}/vision-lab-pr-7"].runtime.requested_hardware == "cpu-basic"
    assert listed[f"{ORG}/platform-pr-7"].runtime.requested_hardware == "cpu-basic"
    files = set(api.list_repo_files(f"{ORG}/platform-pr-7", repo_type="space"))
    assert {"Dockerfile", "app/server.py", "README.md"} <= files

    # A change in the pull request: one commit per copy built from that folder, nothing else.
    app = ws.root / "apps" / "team-template" / "app.py"
    app.write_text(app.read_text() + "\n# changed in the pull request\n")
    ws.sandbox.clear_requests()
    again = ws.run("preview", "up", "pr-7")
    assert again.code == 0, again.both
    commits = _commits(ws)
    assert sorted(commits) == sorted(
        f"/api/spaces/{ORG}/{n}-pr-7/commit/main" for n in ("team-a", "team-b", "team-c")
    ), commits
    assert f"{ORG}/team-a-pr-7: {ws.sandbox.endpoint}/spaces/{ORG}/team-a-pr-7" in again.out

    # down: exactly the marked copies of pr-7.
    ws.sandbox.clear_requests()
    down = ws.run("preview", "down", "pr-7")
    assert down.code == 0, down.both
    assert f"Deleted {len(copies)} Space(s) of preview pr-7." in down.out
    left = {s.id for s in api.list_spaces(author=ORG)}
    assert not copies & left
    assert {f"{ORG}/docs", f"{ORG}/docs-pr-8", f"{ORG}/team-a-pr-7-notes"} <= left
    assert ws.run("preview", "down", "pr-8").code == 0  # the marked manifest Space stays
    assert f"{ORG}/docs-pr-8" in {s.id for s in api.list_spaces(author=ORG)}


def test_prune_removes_only_expired_previews(workspace: Workspace) -> None:
    ws = workspace
    assert ws.run("preview", "up", "pr-1", "--target", "docs").code == 0
    ws.sandbox.control("PUT", "clock", {"advance_seconds": 8 * 86400})
    assert ws.run("preview", "up", "pr-2", "--target", "docs").code == 0
    listed = json.loads(ws.run("preview", "list", "--format", "json").out)["previews"]
    assert [(p["id"], p["preview"]) for p in listed] == [
        (f"{ORG}/docs-pr-1", "pr-1"),
        (f"{ORG}/docs-pr-2", "pr-2"),
    ]
    pruned = ws.run("preview", "prune", "--older-than", "7d", "--format", "json")
    assert pruned.code == 0, pruned.both
    assert json.loads(pruned.out)["deleted"] == [{"id": f"{ORG}/docs-pr-1", "preview": "pr-1"}]
    left = {s.id for s in _api(ws).list_spaces(author=ORG)}
    assert f"{ORG}/docs-pr-2" in left and f"{ORG}/docs-pr-1" not in left
    # A Space of that name without the marker is someone else's: up refuses to touch it.
    _api(ws).create_repo(f"{ORG}/docs-pr-3", repo_type="space", space_sdk="static")
    ws.sandbox.clear_requests()
    taken = ws.run("preview", "up", "pr-3", "--target", "docs")
    assert taken.code == 1, taken.both
    assert f"{ORG}/docs-pr-3 exists and is not preview pr-3" in taken.err
    assert ws.writes() == []
    bad = ws.run("preview", "prune", "--older-than", "a week")
    assert bad.code == 1 and "write a number and d, h or m" in bad.err


def test_preview_up_waits_out_the_rate_limit(workspace: Workspace) -> None:
    """The Hub's limits answer 429 with RateLimit headers: preview up waits and finishes (the
    behaviour docs/ci.md describes for a pull request's burst of creates)."""
    ws = workspace
    ws.sandbox.set_faults(rate_limit="6/2")
    ws.sandbox.clear_requests()
    up = ws.run("preview", "up", "pr-9", "--target", "docs", "--target", "team-a")
    assert up.code == 0, up.both
    assert 429 in [r["status"] for r in ws.sandbox.requests()]
    ws.sandbox.set_faults(rate_limit=None)
    names = {s.id for s in _api(ws).list_spaces(author=ORG)}
    assert {f"{ORG}/docs-pr-9", f"{ORG}/team-a-pr-9"} <= names
