"""plan and apply through the real CLI against a running sandbox process."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

from huggingface_hub import HfApi

import spacectl
from tests.e2e.conftest import BOT_TOKEN, CANARY, ORG, Workspace, is_write

SPACES = ["platform", "team-a", "team-b", "team-c", "docs", "vision-lab"]


def _api(ws: Workspace) -> HfApi:
    return HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)


def test_example_plans_applies_and_converges(workspace: Workspace) -> None:
    ws = workspace
    plan = ws.run("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.both
    assert "Plan: 6 to create, 0 to update, 0 to delete, 1 unchanged." in plan.out
    assert "+ secrets.GEMINI_API_KEY" in plan.out and "(sensitive value)" in plan.out

    ws.sandbox.clear_requests()
    first = ws.run("apply", "--yes")
    assert first.code == 0, first.both
    assert "Apply complete: 6 applied, 1 unchanged, 0 failed, 0 refused." in first.out
    writes = ws.writes()
    creates = [w for w in writes if w["path"] == "/api/repos/create"]
    commits = [w for w in writes if "/commit/" in str(w["path"])]
    assert len(creates) == 6 and len(commits) == 6, writes

    ws.sandbox.clear_requests()
    second = ws.run("apply", "--yes")
    assert second.code == 0, second.both
    assert "No changes. The Hub matches the manifest." in second.out
    assert ws.writes() == []

    again = ws.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.both

    live = {s.id: s for s in _api(ws).list_spaces(author=ORG, expand=["sdk", "runtime"])}
    assert sorted(live) == sorted(f"{ORG}/{name}" for name in SPACES)
    assert live[f"{ORG}/vision-lab"].runtime.requested_hardware == "t4-small"


def test_secrets_and_variables_are_set_before_the_first_commit(workspace: Workspace) -> None:
    ws = workspace
    # Create the Space empty-handed first, so that apply must set settings on an existing Space.
    _api(ws).create_repo(f"{ORG}/platform", repo_type="space", space_sdk="docker")
    ws.sandbox.clear_requests()
    result = ws.run("apply", "--yes", "--target", "platform")
    assert result.code == 0, result.both
    paths = [(w["method"], str(w["path"])) for w in ws.writes()]
    first_commit = next(i for i, (_, p) in enumerate(paths) if "/commit/" in p)
    settings = [i for i, (_, p) in enumerate(paths) if p.endswith(("/secrets", "/variables"))]
    assert settings, paths
    assert max(settings) < first_commit, paths
    hardware = [i for i, (_, p) in enumerate(paths) if p.endswith(("/hardware", "/sleeptime"))]
    assert hardware and max(hardware) < first_commit, paths


def test_plan_formats_and_saved_plan_hold_no_secret(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    out = tmp_path / "plan.json"
    text = ws.run("plan", "--out", str(out))
    assert text.code == 0, text.both
    data = json.loads(out.read_text())
    assert data["format_version"] == "1" and data["has_changes"] is True
    assert data["spacectl_version"] == spacectl.__version__
    assert CANARY not in out.read_text()
    as_json = ws.run("plan", "--format", "json")
    assert json.loads(as_json.out)["summary"] == {"create": 6, "update": 0, "delete": 0, "no-op": 1}
    markdown = ws.run("plan", "--format", "markdown")
    assert markdown.out.startswith("### spacectl plan")
    assert "```diff" in markdown.out
    assert "\x1b[" not in text.out  # no colour without a terminal


def test_target_limits_plan_and_apply(workspace: Workspace) -> None:
    ws = workspace
    result = ws.run("apply", "--yes", "--target", "docs", "--target", f"{ORG}/team-a")
    assert result.code == 0, result.both
    names = {s.id for s in _api(ws).list_spaces(author=ORG)}
    assert names == {f"{ORG}/docs", f"{ORG}/team-a"}
    unknown = ws.run("plan", "--target", "nope")
    assert unknown.code == 1
    assert "--target nope matches no Space" in unknown.err


def test_apply_without_terminal_or_yes_refuses(workspace: Workspace) -> None:
    result = workspace.run("apply")
    assert result.code == 1
    assert "refusing to apply without confirmation" in result.err
    assert workspace.writes() == []


def test_secret_drift_env_change_and_out_of_band_edit(workspace: Workspace) -> None:
    ws = workspace
    key = {"SPACECTL_SECRET_KEY": "ci-only-hmac-key-5d1f"}
    assert ws.run("apply", "--yes", "--target", "platform", env=key).code == 0
    clean = ws.run("plan", "--detailed-exitcode", "--target", "platform", env=key)
    assert clean.code == 0, clean.both  # no false drift right after spacectl's own write

    rotated = {**key, "GEMINI_API_KEY": "rotated-value-e2e"}
    plan = ws.run("plan", "--detailed-exitcode", "--target", "platform", env=rotated)
    assert plan.code == 2, plan.both
    assert "~ secrets.GEMINI_API_KEY" in plan.out and "changed" in plan.out
    assert "rotated-value-e2e" not in plan.both
    assert ws.run("apply", "--yes", "--target", "platform", env=rotated).code == 0
    assert ws.run("plan", "--detailed-exitcode", "--target", "platform", env=rotated).code == 0

    # Someone sets the secret on the Hub by hand (a day later, on the sandbox's clock).
    ws.sandbox.control("PUT", "clock", {"advance_seconds": 86400})
    _api(ws).add_space_secret(f"{ORG}/platform", "GEMINI_API_KEY", "typed-in-the-ui")
    drift = ws.run("plan", "--detailed-exitcode", "--target", "platform", env=rotated)
    assert drift.code == 2, drift.both
    assert "secrets.GEMINI_API_KEY" in drift.out
    assert "typed-in-the-ui" not in drift.both
    assert ws.run("apply", "--yes", "--target", "platform", env=rotated).code == 0
    assert ws.run("plan", "--detailed-exitcode", "--target", "platform", env=rotated).code == 0


def test_removed_variable_is_deleted_only_with_prune(workspace: Workspace) -> None:
    ws = workspace
    assert ws.run("apply", "--yes", "--target", "platform", "--target", "team-a").code == 0
    text = ws.manifest.read_text()
    # platform has prune: true; team-a does not. Drop one variable from each.
    ws.manifest.write_text(
        text.replace('      FEATURES_ENABLED: true # -> "true"\n', "").replace(
            "TEAM_NAME: team-a, ", ""
        )
    )
    plan = ws.run("plan", "--target", "platform", "--target", "team-a")
    assert "- variables.FEATURES_ENABLED" in plan.out, plan.out
    assert "variables.TEAM_NAME" not in plan.out
    assert ws.run("apply", "--yes", "--target", "platform", "--target", "team-a").code == 0
    api = _api(ws)
    assert "FEATURES_ENABLED" not in api.get_space_variables(f"{ORG}/platform")
    assert "TEAM_NAME" in api.get_space_variables(f"{ORG}/team-a")


def test_stale_saved_plan_is_refused_whole_before_any_output(
    workspace: Workspace, tmp_path: Path
) -> None:
    """One refusal naming each Space that changed and what, before anything of the plan is
    printed or written: not the plan in full, then a refusal Space by Space."""
    ws = workspace
    assert ws.run("apply", "--yes").code == 0
    ws.manifest.write_text(ws.manifest.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
    planfile = tmp_path / "tfplan.json"
    assert ws.run("plan", "--out", str(planfile)).code == 0
    # Someone changes team-b and team-c by hand after the plan was saved.
    _api(ws).add_space_variable(f"{ORG}/team-b", "MODEL_ID", "someone/else")
    _api(ws).update_repo_settings(f"{ORG}/team-c", private=True, repo_type="space")
    ws.sandbox.clear_requests()
    result = ws.run("apply", str(planfile))
    assert result.code == 1, result.both
    assert result.out == ""
    error, hint = result.err.splitlines()
    assert error.startswith("Error: the saved plan is stale"), error
    assert "nothing was applied: " in error
    assert f"{ORG}/team-b (variables)" in error and f"{ORG}/team-c (visibility)" in error
    assert f"{ORG}/team-a" not in error
    assert hint == ("Hint: run `spacectl plan --out FILE` again, review it, and apply the new plan")
    assert ws.writes() == []


def test_saved_plan_applies_without_asking_and_only_once(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The saved plan is the approval: no prompt, no --yes (and no terminal here). Applied, it
    no longer matches the Hub: a second apply of it is refused before any output."""
    ws = workspace
    planfile = tmp_path / "p.json"
    targets = ("--target", "docs", "--target", "team-a")
    assert ws.run("plan", "--out", str(planfile), *targets).code == 0
    result = ws.run("apply", str(planfile))
    assert result.code == 0, result.both
    assert "Apply complete: 2 applied" in result.out
    assert "Apply these changes?" not in result.both
    ws.sandbox.clear_requests()
    again = ws.run("apply", str(planfile))
    assert again.code == 1 and again.out == "", again.both
    error = again.err.splitlines()[0]
    assert error.startswith("Error: the saved plan is stale"), error
    assert "(applied already, or the Hub changed since it was made)" in error
    assert f"{ORG}/docs (it now exists on the Hub)" in error
    assert f"{ORG}/team-a (it now exists on the Hub)" in error
    assert ws.writes() == []


def test_saved_plan_from_another_manifest_or_endpoint_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    ws = workspace
    planfile = tmp_path / "p.json"
    assert ws.run("plan", "--out", str(planfile)).code == 0
    ws.manifest.write_text(ws.manifest.read_text() + "\n# edited\n")
    edited = ws.run("apply", str(planfile), "--yes")
    assert edited.code == 1 and "different version" in edited.err
    ws.manifest.write_text(ws.manifest.read_text().replace("\n# edited\n", ""))
    other = ws.run("apply", str(planfile), "--yes", env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert other.code == 1 and "was made against" in other.err
    assert [w for w in ws.writes() if is_write(w)] == []


def _run_on_terminal(ws: Workspace, answer: bytes, *args: str) -> tuple[int, str]:
    """Run spacectl with a pseudo-terminal as stdin/stdout and type `answer` at the prompt."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "spacectl", *args],
        cwd=ws.root,
        env=ws.env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    output = b""
    answered = False
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"Apply these changes?" in output:
            os.write(master, answer)
            answered = True
    code = proc.wait(timeout=120)
    os.close(master)
    return code, output.decode(errors="replace")


def test_apply_asks_on_a_terminal(workspace: Workspace) -> None:
    ws = workspace
    code, output = _run_on_terminal(ws, b"n\n", "apply", "--target", "docs")
    assert code == 1 and "apply cancelled; nothing was changed" in output
    assert ws.writes() == []
    assert "\x1b[32m+\x1b[0m" in output  # colour on a terminal
    code, output = _run_on_terminal(ws, b"y\n", "apply", "--target", "docs")
    assert code == 0, output
    assert "Apply complete: 1 applied" in output
    # On a terminal, progress is a live per-Space table, not the plain lines of a CI log.
    assert "ifcore-org/docs: create Space" not in output
    # The table is transient: drawn, then erased (how many of its steps show depends on timing).
    assert "\x1b[2K" in output


def test_saved_plan_applies_from_another_checkout(workspace: Workspace, tmp_path: Path) -> None:
    """CI often plans in one job and applies in another: paths in the plan are relative."""
    ws = workspace
    planfile = tmp_path / "ci-plan.json"
    assert ws.run("plan", "--out", str(planfile), "--target", "docs").code == 0
    assert str(ws.root) not in planfile.read_text()
    other = tmp_path / "second-checkout"
    shutil.copytree(ws.root, other)
    shutil.rmtree(ws.root)
    moved = Workspace(other, ws.sandbox, ws.env)
    result = moved.run("apply", str(planfile))
    assert result.code == 0, result.both
    assert moved.run("plan", "--detailed-exitcode", "--target", "docs").code == 0
    narrowed = moved.run("apply", str(planfile), "--yes", "--target", "docs")
    assert narrowed.code == 1 and "--target cannot narrow a saved plan" in narrowed.err


def test_names_match_the_hub_case_insensitively(workspace: Workspace) -> None:
    """The Hub has `ifcore-org/Docs`; a manifest saying `docs` (or `IFCORE-ORG`) means it."""
    ws = workspace
    _api(ws).create_repo(f"{ORG}/Docs", repo_type="space", space_sdk="static")
    ws.manifest.write_text(
        "owner: IFCORE-ORG\nspaces:\n  docs: {sdk: static, visibility: private}\n"
    )
    plan = ws.run("plan")
    assert "will be created" not in plan.out, plan.out
    assert "~ visibility" in plan.out
    assert ws.run("apply", "--yes").code == 0
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_secret_edited_seconds_after_spacectl_is_drift(workspace: Workspace) -> None:
    """Stamps use the Hub's clock, so the window in which an edit goes unseen is seconds."""
    ws = workspace
    key = {"SPACECTL_SECRET_KEY": "ci-only-hmac-key-5d1f"}
    assert ws.run("apply", "--yes", "--target", "platform", env=key).code == 0
    ws.sandbox.control("PUT", "clock", {"advance_seconds": 15})
    api = _api(ws)
    marker = api.get_space_secrets(f"{ORG}/platform")["GEMINI_API_KEY"].description
    # The same description, so only the time can tell.
    api.add_space_secret(f"{ORG}/platform", "GEMINI_API_KEY", "hand-edited", description=marker)
    drift = ws.run("plan", "--detailed-exitcode", "--target", "platform", env=key)
    assert drift.code == 2, drift.both
    assert "changed on the Hub outside spacectl" in drift.out


def test_saved_plan_refuses_what_changed_locally_after_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Apply uploads what the plan showed, or nothing: a file edited since, a secret whose
    value changed, or a variable no longer set stops that Space before any write."""
    ws = workspace
    key = {"SPACECTL_SECRET_KEY": "ci-only-hmac-key-5d1f"}
    planfile = tmp_path / "p.json"
    targets = ("--target", "docs", "--target", "platform")
    assert ws.run("plan", "--out", str(planfile), *targets, env=key).code == 0
    (ws.root / "apps" / "docs" / "index.html").write_text("<h1>edited after the plan</h1>\n")
    ws.sandbox.clear_requests()
    result = ws.run("apply", str(planfile), "--yes", env={**key, "GEMINI_API_KEY": "rotated"})
    assert result.code == 1, result.both
    assert "ifcore-org/docs: refused" in result.out
    assert "the local file changed after the plan was made" in result.out
    assert "ifcore-org/platform: refused" in result.out
    assert "the value of GEMINI_API_KEY changed after the plan was made" in result.out
    assert ws.writes() == []
    # CI turns an unset secret into an empty variable: that is missing too.
    missing = ws.run("apply", str(planfile), "--yes", env={**key, "GEMINI_API_KEY": ""})
    assert missing.code == 1
    assert "environment variable GEMINI_API_KEY for secret GEMINI_API_KEY is empty" in missing.out
    assert ws.writes() == []


def test_status_and_import_find_spaces_whatever_the_letter_case(workspace: Workspace) -> None:
    ws = workspace
    _api(ws).create_repo(f"{ORG}/Docs", repo_type="space", space_sdk="static")
    ws.manifest.write_text("owner: ifcore-org\nspaces:\n  docs: {sdk: static}\n")
    status = ws.run("status", "--format", "json")
    assert status.code == 0, status.both
    assert json.loads(status.out)["spaces"][0]["stage"] != "absent"
    imported = ws.run("import", ORG, "--space", "docs", "--output", "spaces.yaml")
    assert imported.code == 0, imported.both
    assert "0 added, 1 updated" in imported.err or "0 added, 0 updated, 1 unchanged" in imported.err


def test_dev_mode_is_managed_from_the_manifest(workspace: Workspace) -> None:
    """dev_mode through the CLI: set right after the create call, read back from the runtime,
    a no-op when it matches, one call to turn it off, refused on a static Space."""
    ws = workspace
    space = f"{ORG}/devbox"
    ws.manifest.write_text(
        f"version: 1\nowner: {ORG}\nspaces:\n  devbox: {{sdk: docker, dev_mode: true}}\n"
    )
    plan = ws.run("plan")
    assert "+ dev_mode" in plan.out, plan.out
    ws.sandbox.clear_requests()
    assert ws.run("apply", "--yes").code == 0
    assert [w["path"] for w in ws.writes() if "dev-mode" in str(w["path"])] == [
        f"/api/spaces/{space}/dev-mode"
    ]
    assert _api(ws).get_space_runtime(space).dev_mode is True
    assert ws.run("plan", "--detailed-exitcode").code == 0

    ws.manifest.write_text(ws.manifest.read_text().replace("dev_mode: true", "dev_mode: false"))
    plan = ws.run("plan", "--detailed-exitcode")
    assert plan.code == 2 and "~ dev_mode = true -> false" in plan.out, plan.out
    assert ws.run("apply", "--yes").code == 0
    assert _api(ws).get_space_runtime(space).dev_mode is False
    assert ws.run("plan", "--detailed-exitcode").code == 0

    ws.manifest.write_text(
        f"version: 1\nowner: {ORG}\nspaces:\n  site: {{sdk: static, dev_mode: true}}\n"
    )
    result = ws.run("validate")
    assert result.code == 1
    assert "spaces.yaml:4:" in result.err and "A static Space has no dev mode" in result.err


def test_a_readme_the_hub_refuses_stops_the_plan_before_any_write(workspace: Workspace) -> None:
    """The Hub's validator is asked at plan time, for the READMEs the plan uploads: a card it
    refuses is one line at plan and at apply, and the Space is never created half-way."""
    ws = workspace
    site = ws.root / "badcard"
    site.mkdir()
    (site / "index.html").write_text("<p>hi</p>\n")
    (site / "README.md").write_text("---\ntitle: Bad\ncolorFrom: chartreuse\n---\n# Bad\n")
    ws.manifest.write_text(
        f"version: 1\nowner: {ORG}\nspaces:\n  badcard:\n    sdk: static\n"
        "    source: ./badcard\n    variables: {STAGE: one}\n"
    )
    ws.sandbox.clear_requests()
    for command in (("plan",), ("apply", "--yes")):
        result = ws.run(*command)
        assert result.code == 1, result.both
        errors = [line for line in result.err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and f"{ORG}/badcard: the Hub refuses its README.md" in errors[0]
        assert '"colorFrom" must be one of' in errors[0], errors
    assert ws.writes() == []
    assert any(r["path"] == "/api/validate-yaml" for r in ws.sandbox.requests())
    # Fixed, it plans and applies; the unchanged README is not sent to the validator again.
    (site / "README.md").write_text("---\ntitle: Good\ncolorFrom: blue\n---\n# Good\n")
    assert ws.run("apply", "--yes").code == 0
    ws.sandbox.clear_requests()
    assert ws.run("plan", "--detailed-exitcode").code == 0
    assert not any(r["path"] == "/api/validate-yaml" for r in ws.sandbox.requests())
