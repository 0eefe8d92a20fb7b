"""import, status, logs and doctor through the real CLI against a running sandbox process.

The seeded Spaces are made by hand through `HfApi` (never through spacectl), as an organisation's
existing Spaces are."""

from __future__ import annotations

import json
import time
from pathlib import Path

from huggingface_hub import HfApi, Volume

from tests.e2e.conftest import BOT_TOKEN, CANARY, ORG, READ_TOKEN, Workspace

HAND_MADE = ["broken", "docker-api", "gradio-demo", "site"]
NO_FROM = "# forgot the base image\nRUN pip install fastapi\nCMD uvicorn app:app --port 7860\n"
DOCKER_README = """---
title: Docker API
emoji: 🐳
colorFrom: blue
colorTo: gray
sdk: docker
app_port: 8000
license: mit
tags: [api, fastapi]
---

# Docker API
"""
COMMENTED = """\
# Our Spaces. Reviewed by the platform team.
version: 1
owner: ifcore-org # the organisation

defaults:
  visibility: public # most of ours are public

x-note: &note {title: shared} # an anchor nobody uses any more

spaces:
  # The demo everyone links to.
  gradio-demo:
    sdk: gradio
    hardware: cpu-basic # upgraded by hand since
  # Planned, not on the Hub yet.
  planned:
    sdk: static
    visibility: private # until launch
"""


def _api(ws: Workspace) -> HfApi:
    return HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)


def _seed(ws: Workspace) -> None:
    api = _api(ws)
    api.create_repo(
        f"{ORG}/gradio-demo",
        repo_type="space",
        space_sdk="gradio",
        space_hardware="cpu-upgrade",
        space_sleep_time=3600,
        space_variables=[
            {"key": "MODEL_ID", "value": "org/model"},
            {"key": "DEBUG", "value": "true"},
            {"key": "WORKERS", "value": "4"},
        ],
        space_secrets=[{"key": "API_KEY", "value": CANARY, "description": "Key for X"}],
    )
    api.create_repo(f"{ORG}/site", repo_type="space", space_sdk="static", private=True)
    api.create_repo(
        f"{ORG}/docker-api",
        repo_type="space",
        space_sdk="docker",
        visibility="protected",
        space_hardware="t4-small",
        space_volumes=[Volume(type="bucket", source=f"{ORG}/api-data", mount_path="/data")],
    )
    api.upload_file(
        path_or_fileobj=DOCKER_README.encode(),
        path_in_repo="README.md",
        repo_id=f"{ORG}/docker-api",
        repo_type="space",
    )
    api.upload_file(
        path_or_fileobj=b"FROM python:3.12\nEXPOSE 8000\nCMD uvicorn app:app --port 8000\n",
        path_in_repo="Dockerfile",
        repo_id=f"{ORG}/docker-api",
        repo_type="space",
    )
    api.create_repo(f"{ORG}/broken", repo_type="space", space_sdk="docker")
    api.upload_file(
        path_or_fileobj=NO_FROM.encode(),
        path_in_repo="Dockerfile",
        repo_id=f"{ORG}/broken",
        repo_type="space",
    )


def _settings_changes(plan_json: str) -> list[str]:
    data = json.loads(plan_json)
    return [
        f"{space['id']} {field['path']}"
        for space in data["spaces"]
        for field in space["fields"]
        if not field["path"].startswith("secrets.")
    ]


def test_import_then_plan_shows_no_settings_changes(workspace: Workspace) -> None:
    ws = workspace
    _seed(ws)
    (ws.root / "adopted").mkdir()
    ws.sandbox.clear_requests()
    result = ws.run("import", ORG, "--output", "adopted/spaces.yaml")
    assert result.code == 0, result.both
    assert "4 added, 0 updated, 0 unchanged" in result.err
    # One bulk listing, then variables and secrets per Space; nothing written.
    calls = ws.sandbox.requests()
    assert len(calls) == 1 + 2 * 4, [c["path"] for c in calls]
    assert all(c["method"] == "GET" for c in calls)
    text = (ws.root / "adopted" / "spaces.yaml").read_text()
    assert CANARY not in text
    assert "API_KEY: {from_env: API_KEY, description: Key for X}" in text

    # Secrets set by hand carry no spacectl marker: the first plan sets them once, nothing else.
    plan = ws.run("plan", "-f", "adopted/spaces.yaml", "--format", "json", env={"API_KEY": "v"})
    assert plan.code == 0, plan.both
    assert _settings_changes(plan.out) == []
    changed = [s["id"] for s in json.loads(plan.out)["spaces"] if s["fields"]]
    assert changed == [f"{ORG}/gradio-demo"]

    # The manifest spells settings as a person would: no hardware on a static Space, -1 for a
    # paid Space that never sleeps, the fixed free-tier sleep time left out.
    stdout = ws.run("import", ORG, "--space", "site", "--space", "docker-api")
    assert stdout.code == 0, stdout.both
    assert stdout.out.startswith("# Spaces of ifcore-org")
    site = stdout.out.split("  site:\n", 1)[1].split("\n\n", 1)[0]
    assert "hardware" not in site and "sleep_time" not in site
    assert "    hardware: t4-small\n    sleep_time: -1\n" in stdout.out
    assert "app_port: 8000" in stdout.out and "tags: [api, fastapi]" in stdout.out

    unknown = ws.run("import", ORG, "--space", "nope")
    assert unknown.code == 1
    assert unknown.err.startswith("Error: no Space ifcore-org/nope") and unknown.out == ""


def test_import_with_download_sets_source_and_plans_no_file_changes(workspace: Workspace) -> None:
    ws = workspace
    _seed(ws)
    result = ws.run(
        "import", ORG, "-o", "mine.yaml", "--space", "docker-api", "--download", "apps2"
    )
    assert result.code == 0, result.both
    text = (ws.root / "mine.yaml").read_text()
    assert "source: ./apps2/docker-api" in text
    assert (ws.root / "apps2" / "docker-api" / "Dockerfile").is_file()
    # The downloaded README already holds the card: it is not repeated in the manifest.
    assert "app_port" not in text
    plan = ws.run("plan", "-f", "mine.yaml", "--detailed-exitcode")
    assert plan.code == 0, plan.both


def test_second_import_keeps_comments_byte_for_byte(workspace: Workspace) -> None:
    ws = workspace
    _seed(ws)
    manifest = ws.root / "commented.yaml"
    manifest.write_text(COMMENTED)
    first = ws.run("import", ORG, "-o", str(manifest), "--space", "gradio-demo", "--space", "site")
    assert first.code == 0, first.both
    assert "1 added, 1 updated, 0 unchanged" in first.err
    after = manifest.read_text()
    # Untouched parts are byte-identical: everything before the edited value, the edited line
    # keeps its comment, the next Space (with its comments) follows the edited entry unchanged.
    head, rest = COMMENTED.split("    hardware: cpu-basic # upgraded by hand since\n")
    assert after.startswith(head + "    hardware: cpu-upgrade # upgraded by hand since\n")
    planned = rest.split("  # Planned, not on the Hub yet.\n", 1)[1]
    assert "  # Planned, not on the Hub yet.\n" + planned + "\n  site:\n" in after
    for line in COMMENTED.splitlines():
        if "#" in line:
            assert line.split("#", 1)[1] in after, line
    # defaults already say public: the public demo does not repeat it, the private site does.
    demo = after.split("  gradio-demo:\n", 1)[1].split("  # Planned", 1)[0]
    assert "visibility" not in demo
    assert "    visibility: private\n" in after.split("  site:\n", 1)[1]

    again = ws.run("import", ORG, "-o", str(manifest), "--space", "gradio-demo", "--space", "site")
    assert again.code == 0, again.both
    assert "0 added, 0 updated, 2 unchanged" in again.err
    assert manifest.read_text() == after  # idempotent, byte for byte

    plan = ws.run(
        "plan", "-f", str(manifest), "--format", "json", "--target", "gradio-demo",
        "--target", "site", env={"API_KEY": "v"},
    )  # fmt: skip
    assert plan.code == 0, plan.both
    assert _settings_changes(plan.out) == []


def test_status_and_logs_including_a_build_error(workspace: Workspace) -> None:
    ws = workspace
    _seed(ws)
    assert ws.run("import", ORG, "-o", "adopted.yaml").code == 0
    text = (ws.root / "adopted.yaml").read_text()
    # Drift: the manifest wants docker-api private; and one declared Space is not on the Hub.
    text = text.replace("visibility: protected", "visibility: private")
    (ws.root / "adopted.yaml").write_text(text + "\n  ghost:\n    sdk: static\n")
    time.sleep(1.0)  # let the 0.5 s builds settle

    ws.sandbox.clear_requests()
    result = ws.run("status", "-f", "adopted.yaml", "--format", "json")
    assert result.code == 0, result.both
    requests = ws.sandbox.requests()
    assert [(r["method"], r["path"]) for r in requests] == [("GET", "/api/spaces")], requests
    document = json.loads(result.out)
    assert document["format_version"] == "1"
    rows = {row["id"]: row for row in document["spaces"]}
    assert list(rows) == [f"{ORG}/{name}" for name in [*HAND_MADE, "ghost"]]
    broken = rows[f"{ORG}/broken"]
    assert broken["stage"] == "BUILD_ERROR"
    assert "no FROM instruction" in broken["error_message"]
    assert broken["sleep_time"] == 172800 and broken["hardware"]["requested"] == "cpu-basic"
    assert rows[f"{ORG}/docker-api"]["drift"] == ["visibility"]
    assert rows[f"{ORG}/docker-api"]["warning"].startswith("1 change pending")
    assert rows[f"{ORG}/docker-api"]["sleep_time"] == -1
    assert rows[f"{ORG}/ghost"]["stage"] == "absent"
    site = rows[f"{ORG}/site"]
    assert site["stage"] == "RUNNING" and site["sleep_time"] is None
    assert site["page_url"] == f"{ws.sandbox.endpoint}/spaces/{ORG}/site"
    assert site["app_url"] is None  # the sandbox serves no app: no *.hf.space link
    assert len(site["last_commit"]["sha"]) == 40 and site["last_commit"]["date"]

    table = ws.run("status", "-f", "adopted.yaml")
    assert table.code == 0, table.both
    assert table.out.startswith("SPACE ")
    assert f"! {ORG}/broken: BUILD_ERROR: Build failed" in table.out
    assert f"~ {ORG}/docker-api: 1 change pending: visibility" in table.out

    # --detailed-exitcode: 2 for the BUILD_ERROR and for `ghost`, declared but not on the Hub;
    # 0 once neither is in the manifest (drift alone is plan's business).
    assert ws.run("status", "-f", "adopted.yaml", "--detailed-exitcode").code == 2
    healthy = f"version: 1\nowner: {ORG}\nspaces:\n  site: {{sdk: static}}\n  docker-api: {{}}\n"
    (ws.root / "healthy.yaml").write_text(healthy)
    fine = ws.run("status", "-f", "healthy.yaml", "--detailed-exitcode")
    assert fine.code == 0, fine.both

    build = ws.run("logs", "broken", "--build", "-f", "adopted.yaml")
    assert build.code == 0, build.both
    assert "failed to parse Dockerfile" in build.out and "no FROM instruction" in build.out
    last = ws.run("logs", f"{ORG}/broken", "--build", "--tail", "1")
    assert last.out == "Build failed: the Dockerfile has no FROM instruction\n", last.both
    run = ws.run("logs", f"{ORG}/docker-api", "--follow")
    assert run.code == 0 and "Running on local URL:  http://0.0.0.0:8000" in run.out, run.both
    tail_follow = ws.run("logs", f"{ORG}/docker-api", "--follow", "--tail", "1")
    assert tail_follow.out.splitlines() == ["* Running on local URL:  http://0.0.0.0:8000"]
    missing = ws.run("logs", f"{ORG}/nope")
    assert missing.code == 1 and missing.err.startswith("Error: ") and missing.out == ""


def test_doctor_passes_on_the_example_and_fails_each_problem(workspace: Workspace) -> None:
    ws = workspace
    ok = ws.run("doctor")
    assert ok.code == 0, ok.both
    assert "PASS  token: valid, user ci-bot (write token)" in ok.out
    assert "PASS  write access (ifcore-org):" in ok.out
    assert "PASS  port (ifcore-org/platform): serves 7860 (EXPOSE)" in ok.out
    assert "PASS  readme (ifcore-org/platform): front matter valid for the Hub" in ok.out
    assert "WARN  platform limits (ifcore-org/team-a): cpu-basic sleeps after 48 h" in ok.out
    assert "FAIL" not in ok.out

    read_only = ws.run("doctor", env={"HF_TOKEN": READ_TOKEN})
    assert read_only.code == 1
    assert "FAIL  write access (ifcore-org): the token is read-only" in read_only.out

    no_secret = ws.run("doctor", env={"GEMINI_API_KEY": ""})
    assert no_secret.code == 1
    assert "FAIL  secrets (ifcore-org/platform): empty: GEMINI_API_KEY" in no_secret.out
    assert "      fix: export GEMINI_API_KEY=" in no_secret.out

    bad_token = ws.run("doctor", env={"HF_TOKEN": "hf_not_a_token"})
    assert bad_token.code == 1 and "FAIL  token:" in bad_token.out

    # Break the platform app the ways newcomers do.
    platform = ws.root / "apps" / "platform"
    dockerfile = platform / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("EXPOSE 7860", "EXPOSE 8080"))
    (platform / "db.py").write_text("DSN = 'postgresql://app@db.internal:5432/app'\n")
    manifest = ws.manifest.read_text().replace("hardware: t4-small", "hardware: t4-smal")
    ws.manifest.write_text(manifest.replace("./apps/docs", "./apps/gone"))
    broken = ws.run("doctor")
    assert broken.code == 1
    assert "FAIL  port (ifcore-org/platform): the Dockerfile serves 8080 (EXPOSE)" in broken.out
    assert "WARN  database ports (ifcore-org/platform): database connection(s) at db.py:1" in (
        broken.out
    )
    assert "FAIL  hardware (ifcore-org/vision-lab): unknown hardware 't4-smal'" in broken.out
    assert "fix: use a flavour the Hub lists: did you mean t4-small" in broken.out
    assert "FAIL  source (ifcore-org/docs):" in broken.out and "does not exist" in broken.out
    dockerfile.unlink()
    gone = ws.run("doctor")
    assert "FAIL  dockerfile (ifcore-org/platform): no Dockerfile" in gone.out


def test_doctor_reports_every_missing_variable_and_bad_manifest(
    workspace: Workspace, tmp_path: Path
) -> None:
    ws = workspace
    manifest = tmp_path / "two.yaml"
    manifest.write_text(
        "version: 1\nowner: ifcore-org\nspaces:\n  a:\n    sdk: static\n    secrets:\n"
        "      ONE: {from_env: ONE_VAR}\n      TWO: {from_env: TWO_VAR}\n"
    )
    result = ws.run("doctor", "-f", str(manifest))
    assert result.code == 1
    assert "FAIL  secrets (ifcore-org/a): not set: ONE_VAR, TWO_VAR" in result.out
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nowner: ifcore-org\nspaces:\n  a:\n    sdk: rust\n")
    bad = ws.run("doctor", "-f", str(broken))
    assert bad.code == 1 and bad.out.startswith("FAIL  manifest: ")
