"""Environments through the real CLI against a running sandbox: `--env staging` and `--env prod`
of the example manifest make two sets of Spaces with their overrides, each converges, and a plan
saved for one is refused for the other (issue 13, must-show 1)."""

from __future__ import annotations

import json
from pathlib import Path

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace

NAMES = ["platform", "team-a", "team-b", "team-c", "docs", "vision-lab"]
STAGING_KEY = {"GEMINI_API_KEY_STAGING": "staging-only-key-value"}


def test_staging_and_prod_from_one_manifest(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    plan = ws.run("plan", "--env", "staging", "--detailed-exitcode", env=STAGING_KEY)
    assert plan.code == 2, plan.both
    assert plan.out.startswith("Environment: staging\n"), plan.out
    assert f"+ {ORG}/platform-staging\n" in plan.out
    assert "Plan: 6 to create, 0 to update, 0 to delete, 1 unchanged." in plan.out

    staging = ws.run("apply", "--env", "staging", "--yes", env=STAGING_KEY)
    assert staging.code == 0, staging.both
    assert "staging-only-key-value" not in staging.both
    prod = ws.run("apply", "--env", "prod", "--yes")
    assert prod.code == 0, prod.both

    spaces = {s.id: s for s in api.list_spaces(author=ORG, expand=["private", "runtime"])}
    assert sorted(spaces) == sorted(
        [f"{ORG}/{n}" for n in NAMES] + [f"{ORG}/{n}-staging" for n in NAMES]
    )
    # Staging's overrides: every Space private, its own hardware, variable and secret.
    assert all(spaces[f"{ORG}/{n}-staging"].private for n in NAMES)
    assert spaces[f"{ORG}/docs"].private is False and spaces[f"{ORG}/platform"].private is False
    assert spaces[f"{ORG}/vision-lab-staging"].runtime.requested_hardware == "cpu-upgrade"
    assert spaces[f"{ORG}/vision-lab"].runtime.requested_hardware == "t4-small"
    staged = {v.key: v.value for v in api.get_space_variables(f"{ORG}/platform-staging").values()}
    made = {v.key: v.value for v in api.get_space_variables(f"{ORG}/platform").values()}
    assert staged["LOG_LEVEL"] == "debug" and made["LOG_LEVEL"] == "warning"

    for env, extra in (("staging", STAGING_KEY), ("prod", {})):
        again = ws.run("plan", "--env", env, "--detailed-exitcode", env=extra)
        assert again.code == 0, again.both
        assert again.out.startswith(f"Environment: {env}\nNo changes."), again.out
    markdown = ws.run("plan", "--env", "prod", "--format", "markdown")
    assert markdown.out.startswith("### spacectl plan: `spaces.yaml` (environment `prod`)")

    # A saved plan records its environment and is refused for another.
    ws.manifest.write_text(ws.manifest.read_text().replace("LOG_LEVEL: debug", "LOG_LEVEL: trace"))
    saved = tmp_path / "staging.plan.json"
    made_plan = ws.run("plan", "--env", "staging", "--out", str(saved), env=STAGING_KEY)
    assert made_plan.code == 0, made_plan.both
    assert json.loads(saved.read_text())["environment"] == "staging"
    ws.sandbox.clear_requests()
    refused = ws.run("apply", str(saved), "--env", "prod", env=STAGING_KEY)
    assert refused.code == 1, refused.both
    assert "the plan was made for environment 'staging', not 'prod'" in refused.err
    assert ws.writes() == []
    applied = ws.run("apply", str(saved), env=STAGING_KEY)  # its own environment
    assert applied.code == 0, applied.both
    assert "Apply complete: 6 applied" in applied.out, applied.out
    staged = {v.key: v.value for v in api.get_space_variables(f"{ORG}/platform-staging").values()}
    made = {v.key: v.value for v in api.get_space_variables(f"{ORG}/platform").values()}
    assert staged["LOG_LEVEL"] == "trace" and made["LOG_LEVEL"] == "warning"


def test_import_writes_what_an_environment_has_into_its_overrides(workspace: Workspace) -> None:
    ws = workspace
    assert ws.run("apply", "--env", "staging", "--yes", env=STAGING_KEY).code == 0
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    # Changed by hand on staging only.
    api.request_space_hardware(f"{ORG}/vision-lab-staging", "a10g-small")
    api.add_space_variable(f"{ORG}/team-a-staging", "EXTRA", "by-hand")
    api.add_space_variable(f"{ORG}/team-a-staging", "TEAM_NAME", "team-a-renamed")
    drift = ws.run("plan", "--env", "staging", "--detailed-exitcode", env=STAGING_KEY)
    assert drift.code == 2, drift.both
    before = ws.manifest.read_text()

    names = ("vision-lab-staging", "team-a-staging", "platform-staging", "docs")
    spaces = [arg for name in names for arg in ("--space", name)]
    for name in ("vision-lab", "docs"):  # docs: a manifest Space, not one of staging's
        api.create_repo(f"{ORG}/{name}", repo_type="space", space_sdk="static", exist_ok=True)
    imported = ws.run("import", ORG, "--env", "staging", "-o", "spaces.yaml", *spaces)
    assert imported.code == 0, imported.both
    assert f"{ORG}/docs: not a Space of environment staging; skipped" in imported.err
    text = ws.manifest.read_text()
    # Only the environment's overrides changed; the manifest's own Spaces are as they were.
    assert text.split("\nenvironments:")[0] == before.split("\nenvironments:")[0]
    staging = text.split("\nenvironments:")[1]
    assert "vision-lab: {hardware: a10g-small, sleep_time: 600}" in staging, staging
    assert "team-a:" in staging and "EXTRA: by-hand" in staging
    assert "TEAM_NAME: team-a-renamed" in staging
    assert "GEMINI_API_KEY: {from_env: GEMINI_API_KEY_STAGING}" in staging

    clean = ws.run("plan", "--env", "staging", "--detailed-exitcode", env=STAGING_KEY)
    assert clean.code == 0, clean.both
    without = ws.run("import", ORG, "--env", "staging")
    assert without.code == 1 and "import --env staging writes into a manifest" in without.err
