"""`--format json` of apply, doctor and import, and colour switches, through the real CLI against a
sandbox process. Each JSON document is stdout alone (what `| jq` reads) with `format_version`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, CANARY, ORG, Workspace

SHA = re.compile(r"^[0-9a-f]{40}$")


def test_apply_json_carries_results_and_wait(workspace: Workspace) -> None:
    ws = workspace
    targets = ("--target", "docs", "--target", "team-a")
    result = ws.run("apply", "--yes", "--wait", "--timeout", "60", "--format", "json", *targets)
    assert result.code == 0, result.both
    document = json.loads(result.out)  # stdout holds the document and nothing else
    assert document["format_version"] == "1" and document["ok"] is True
    assert document["plan"]["summary"]["create"] == 2
    spaces = {space["id"]: space for space in document["spaces"]}
    assert set(spaces) == {f"{ORG}/docs", f"{ORG}/team-a"}
    for space in spaces.values():
        assert space["outcome"] == "applied" and space["error"] is None, space
        assert space["operations_done"] and SHA.match(space["committed"]), space
    assert document["summary"] == {"applied": 2, "unchanged": 0, "failed": 0, "refused": 0}
    waits = {wait["id"]: wait for wait in document["wait"]}
    assert waits[f"{ORG}/team-a"]["ok"] is True and waits[f"{ORG}/team-a"]["stage"] == "RUNNING"
    assert waits[f"{ORG}/team-a"]["page_url"] == f"{ws.sandbox.endpoint}/spaces/{ORG}/team-a"
    # The plan a person would confirm is on stderr, as text.
    assert f"# {ORG}/team-a will be created" in result.err

    again = ws.run("apply", "--yes", "--format", "json", *targets)
    assert again.code == 0, again.both
    settled = json.loads(again.out)
    assert settled["plan"]["has_changes"] is False
    assert settled["spaces"] == [] and settled["wait"] is None and settled["ok"] is True


def test_apply_json_reports_a_failed_build(workspace: Workspace) -> None:
    ws = workspace
    dockerfile = ws.root / "apps" / "platform" / "Dockerfile"
    dockerfile.write_text("RUN echo no base image\n")
    result = ws.run(
        "apply", "--yes", "--wait", "--timeout", "60", "--format", "json", "--target", "platform"
    )
    assert result.code == 1, result.both
    document = json.loads(result.out)
    assert document["ok"] is False and document["spaces"][0]["outcome"] == "applied"
    (wait,) = document["wait"]
    assert wait["stage"] == "BUILD_ERROR" and wait["ok"] is False
    assert wait["fix"] and any("FROM" in line for line in wait["log_tail"]), wait
    assert "Error: apply did not complete: not every changed Space is running" in result.err
    # The secret the plan sets is in the plan only as a fingerprint, never as its value.
    assert CANARY not in result.out


def test_doctor_json_lists_checks_with_verdicts(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    ok = ws.run("doctor", "--format", "json")
    assert ok.code == 0, ok.both
    document = json.loads(ok.out)
    assert document["format_version"] == "1" and document["ok"] is True
    checks = {check["name"]: check for check in document["checks"]}
    assert checks["token"]["verdict"] == "PASS" and checks["token"]["fix"] is None
    assert document["summary"]["FAIL"] == 0 and document["summary"]["PASS"] > 0
    assert "passed" in ok.err  # the counts are a note, not part of the document

    no_secret = ws.run("doctor", "--format", "json", env={"GEMINI_API_KEY": ""})
    assert no_secret.code == 1
    failed = [c for c in json.loads(no_secret.out)["checks"] if c["verdict"] == "FAIL"]
    assert [c["name"] for c in failed] == [f"secrets ({ORG}/platform)"]
    assert failed[0]["fix"].startswith("export GEMINI_API_KEY=")

    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nowner: ifcore-org\nspaces:\n  a:\n    sdk: rust\n")
    bad = ws.run("doctor", "--format", "json", "-f", str(broken))
    assert bad.code == 1
    (check,) = json.loads(bad.out)["checks"]
    assert check["name"] == "manifest" and check["verdict"] == "FAIL"


def test_import_json_names_what_was_merged(workspace: Workspace) -> None:
    ws = workspace
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    api.create_repo(
        f"{ORG}/demo",
        repo_type="space",
        space_sdk="gradio",
        space_secrets=[{"key": "API_KEY", "value": CANARY}],
    )
    printed = ws.run("import", ORG, "--format", "json")
    assert printed.code == 0, printed.both
    document = json.loads(printed.out)
    assert document["format_version"] == "1" and document["output"] is None
    assert document["added"] == [f"{ORG}/demo"] and document["updated"] == []
    assert "demo:" in document["manifest"] and document["secret_variables"] == ["API_KEY"]

    merged = ws.run("import", ORG, "--format", "json", "-o", "adopted.yaml")
    assert merged.code == 0, merged.both
    written = json.loads(merged.out)
    assert written["output"] == "adopted.yaml" and written["manifest"] is None
    assert "demo:" in (ws.root / "adopted.yaml").read_text()
    again = json.loads(ws.run("import", ORG, "--format", "json", "-o", "adopted.yaml").out)
    assert again["unchanged"] == [f"{ORG}/demo"] and again["added"] == []


def test_colour_follows_force_color_no_color_and_the_flag(workspace: Workspace) -> None:
    ws = workspace
    plan = ("plan", "--target", "docs")
    assert "\033[32m+" in ws.run(*plan, env={"FORCE_COLOR": "1"}).out
    assert "\033[" not in ws.run(*plan).out  # not a terminal
    assert "\033[" not in ws.run(*plan, "--no-color", env={"FORCE_COLOR": "1"}).out
    assert "\033[" not in ws.run("--no-color", *plan, env={"FORCE_COLOR": "1"}).out
    assert "\033[" not in ws.run(*plan, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).out
