"""Deploy actions through the real CLI against a running sandbox: `restart: factory_on_change`
is one planned operation, shown in the plan and run once after the commit (issue 13,
must-show 4, the restart half)."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace


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


def test_a_space_created_from_a_template_has_its_files_and_the_manifests_settings(
    workspace: Workspace,
) -> None:
    ws = workspace
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    template = f"{ORG}/chat-template"
    api.create_repo(template, repo_type="space", space_sdk="gradio")
    api.upload_file(
        path_or_fileobj=b"import gradio as gr\n# the template's app\n",
        path_in_repo="app.py",
        repo_id=template,
        repo_type="space",
    )
    ws.manifest.write_text(
        "version: 1\nowner: ifcore-org\nspaces:\n"
        "  chat:\n"
        f"    template: {template}\n"
        "    visibility: private\n"
        "    hardware: cpu-upgrade\n"
        "    variables: {MODEL: tiny}\n"
        "    secrets: {GEMINI_API_KEY: {from_env: GEMINI_API_KEY}}\n"
    )
    plan = ws.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.both
    assert f"+ {ORG}/chat\n" in plan.out
    assert f'+ template               = "{template}"  # duplicated' in plan.out, plan.out
    ws.sandbox.clear_requests()
    applied = ws.run("apply", "--yes")
    assert applied.code == 0, applied.both
    writes = [str(w["path"]) for w in ws.writes()]
    assert writes[0] == f"/api/spaces/{template}/duplicate", writes
    assert "/api/repos/create" not in writes
    assert (
        b"the template's app"
        in Path(api.hf_hub_download(f"{ORG}/chat", "app.py", repo_type="space")).read_bytes()
    )
    [chat] = [
        s
        for s in api.list_spaces(author=ORG, expand=["private", "runtime"])
        if s.id.endswith("/chat")
    ]
    assert chat.private is True and chat.runtime.requested_hardware == "cpu-upgrade"
    assert api.get_space_variables(f"{ORG}/chat")["MODEL"].value == "tiny"
    assert "GEMINI_API_KEY" in api.get_space_secrets(f"{ORG}/chat")
    again = ws.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.both
