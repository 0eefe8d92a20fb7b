"""`healthcheck:` after `apply --wait`, through the real CLI against a sandbox process: the app is
asked at the `host` the Hub answers (the sandbox's simulated app, which answers 200, or the
status of the Space's SANDBOX_APP_STATUS variable)."""

from __future__ import annotations

import json

from tests.e2e.conftest import ORG, Workspace


def _write_manifest(ws: Workspace, body: str) -> None:
    ws.manifest.write_text(f"version: 1\nowner: {ORG}\n{body}")


def _app_gets(ws: Workspace, space: str) -> list[dict[str, object]]:
    prefix = f"/sandbox-app/{ORG}/{space}"
    return [r for r in ws.sandbox.requests() if str(r["path"]).startswith(prefix)]


def test_a_passing_healthcheck_exits_0(workspace: Workspace) -> None:
    ws = workspace  # the example's platform Space: healthcheck {path: /health, expect: 200}
    result = ws.run("apply", "--yes", "--wait", "--timeout", "60", "--target", "platform")
    assert result.code == 0, result.both
    url = f"{ws.sandbox.endpoint}/sandbox-app/{ORG}/platform/health"
    assert f"{ORG}/platform: running, healthcheck passed ({url}: 200)" in result.out
    gets = _app_gets(ws, "platform")
    assert [(g["method"], g["path"], g["status"]) for g in gets] == [
        ("GET", f"/sandbox-app/{ORG}/platform/health", 200)
    ]
    assert gets[0]["token"] is None  # a public app is asked without the token


def test_a_failing_healthcheck_exits_1_with_the_url_and_status(workspace: Workspace) -> None:
    ws = workspace
    _write_manifest(
        ws,
        "spaces:\n  api:\n    sdk: docker\n    source: ./apps/platform\n    visibility: public\n"
        "    variables: {SANDBOX_APP_STATUS: 503}\n"
        "    healthcheck: {path: /health, timeout: 3}\n",
    )
    result = ws.run("apply", "--yes", "--wait", "--timeout", "60")
    assert result.code == 1, result.both
    url = f"{ws.sandbox.endpoint}/sandbox-app/{ORG}/api/health"
    assert f"{ORG}/api: RUNNING, healthcheck failed ({url}: 503)" in result.out
    assert f"error: healthcheck GET {url} answered 503 after 3 s, expected 200" in result.out
    assert f"Error: apply did not complete: healthcheck failed: {ORG}/api" in result.err
    assert len(_app_gets(ws, "api")) >= 2  # 5xx is asked again until the timeout

    as_json = ws.run("apply", "--yes", "--wait", "--format", "json")
    assert as_json.code == 0 and json.loads(as_json.out)["wait"] is None  # nothing changed


def test_a_wrong_status_fails_at_once_and_a_private_app_gets_the_token(
    workspace: Workspace,
) -> None:
    ws = workspace  # team-a is private: its simulated app is 404 to a caller without its token
    manifest = ws.manifest.read_text()
    manifest = manifest.replace(
        "    variables: {TEAM_NAME: team-a,",
        "    healthcheck: {path: /ready?full=1, expect: 204}\n    variables: {TEAM_NAME: team-a,",
    )
    ws.manifest.write_text(manifest)
    result = ws.run(
        "apply", "--yes", "--wait", "--timeout", "60", "--format", "json", "--target", "team-a"
    )
    assert result.code == 1, result.both
    (wait,) = json.loads(result.out)["wait"]
    url = f"{ws.sandbox.endpoint}/sandbox-app/{ORG}/team-a/ready?full=1"
    assert wait["ok"] is False and wait["stage"] == "RUNNING"
    assert wait["healthcheck"] == {"url": url, "status": 200}
    assert wait["error_message"] == f"healthcheck GET {url} answered 200, expected 204"
    (get,) = _app_gets(ws, "team-a")  # a status other than 5xx is final: asked once
    assert get["token"] is not None  # the private Space's own host got the token (else 404)
