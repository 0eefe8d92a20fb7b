"""Deploy actions through the real CLI against a running sandbox: `restart: factory_on_change`
is one planned operation, shown in the plan and run once after the commit (issue 13,
must-show 4, the restart half)."""

from __future__ import annotations

from tests.e2e.conftest import ORG, Workspace


def test_factory_on_change_shows_in_the_plan_and_restarts_once(workspace: Workspace) -> None:
    ws = workspace
    text = ws.manifest.read_text()
    ws.manifest.write_text(
        text.replace("  team-a:\n", "  team-a:\n    restart: factory_on_change\n", 1)
    )
    assert ws.run("apply", "--yes", "--target", "team-a").code == 0
    assert ws.run("plan", "--detailed-exitcode", "--target", "team-a").code == 0

    app = ws.root / "apps" / "team-template" / "app.py"
    app.write_text(app.read_text() + "\n# rebuilt from scratch\n")
    plan = ws.run("plan", "--detailed-exitcode", "--target", "team-a")
    assert plan.code == 2, plan.both
    assert '+ restart      = "factory reboot"  # restart: factory_on_change' in plan.out, plan.out
    ws.sandbox.clear_requests()
    applied = ws.run("apply", "--yes", "--target", "team-a")
    assert applied.code == 0, applied.both
    writes = [(str(w["method"]), str(w["path"])) for w in ws.writes()]
    restarts = [i for i, (_, path) in enumerate(writes) if path.endswith("/restart")]
    commits = [i for i, (_, path) in enumerate(writes) if "/commit/" in path]
    assert len(restarts) == 1 and len(commits) == 1 and commits[0] < restarts[0], writes
    assert writes[restarts[0]] == ("POST", f"/api/spaces/{ORG}/team-a/restart"), writes
    factory = [r for r in ws.sandbox.requests() if str(r["path"]).endswith("/restart")]
    assert "factory=true" in str(factory[0].get("query", "")), factory
    assert ws.run("plan", "--detailed-exitcode", "--target", "team-a").code == 0
