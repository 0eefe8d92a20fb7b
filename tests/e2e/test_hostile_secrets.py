"""Secret hygiene and spacectl's own credentials, end to end: the real CLI, the real client, a
real sandbox process (the `workspace` fixture; its `run` also refuses the canary in any output
and any traceback)."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, CANARY, ORG, Workspace

# The canary as the client might carry it: raw, base64 (an Authorization-style header, a
# commit's base64 payload) and URL-encoded (a query string).
FORMS = (
    CANARY,
    base64.b64encode(CANARY.encode()).decode(),
    urllib.parse.quote(CANARY, safe=""),
)


def _clean(text: str, where: str) -> None:
    for form in FORMS:
        assert form not in text, f"the secret ({form}) appears in {where}"


def test_hf_debug_logs_no_secret_value(workspace: Workspace) -> None:
    ws = workspace
    result = ws.run("apply", "--yes", "--target", "platform", env={"HF_DEBUG": "1"})
    assert result.code == 0, result.both
    # The client did log request bodies (so the test can fail), and the secret's was redacted.
    assert "Send: curl" in result.err
    assert "<secret value redacted by spacectl>" in result.err
    _clean(result.both, "the HF_DEBUG log")


def test_no_command_or_format_prints_a_secret(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    debug = {"SPACECTL_DEBUG": "1"}
    saved = tmp_path / "plan.json"
    runs = [
        ("validate",),
        ("validate", "--format", "json"),
        ("plan",),
        ("plan", "--format", "json"),
        ("plan", "--format", "markdown"),
        ("plan", "--out", str(saved)),
        ("apply", str(saved)),
        ("apply", "--yes", "--format", "json"),
        ("status",),
        ("status", "--format", "json"),
        ("doctor",),
        ("import", ORG),
        ("import", ORG, "--format", "json"),
        ("plan", "--detailed-exitcode"),
    ]
    for args in runs:
        result = ws.run(*args, env=debug)
        assert result.code in (0, 1, 2), (args, result.both)
        _clean(result.both, " ".join(args))
    _clean(saved.read_text(), "the saved plan")
    # The Space did get the secret (the runs above could not have leaked what they never read).
    secrets = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN).get_space_secrets(
        f"{ORG}/platform"
    )
    assert "GEMINI_API_KEY" in {getattr(s, "key", s) for s in secrets}
    _clean(json.dumps(ws.sandbox.requests()), "the sandbox's request log")
    _clean((ws.sandbox.workdir / "sandbox-stderr.log").read_text(), "the sandbox's log")


def test_the_deploy_token_is_never_handed_to_a_space(workspace: Workspace) -> None:
    ws = workspace
    manifest = ws.root / "token.yaml"
    base = f"version: 1\nowner: {ORG}\nspaces:\n  leak:\n    sdk: docker\n    secrets:\n"
    manifest.write_text(base + "      HF_TOKEN: {from_env: HF_TOKEN}\n")
    ws.sandbox.clear_requests()
    refused = ws.run("apply", "--yes", "-f", str(manifest))
    assert refused.code == 1 and "own credential" in refused.err, refused.both
    assert "allow_token: true" in refused.err and BOT_TOKEN not in refused.both
    # Under another name, with the token's value: refused as well.
    manifest.write_text(base + "      DEPLOY: {from_env: COPY}\n")
    copied = ws.run("apply", "--yes", "-f", str(manifest), env={"COPY": BOT_TOKEN})
    assert copied.code == 1 and "token spacectl is using" in copied.err, copied.both
    assert ws.writes() == []
    # Deliberately: the manifest says so.
    manifest.write_text(base + "      HF_TOKEN: {from_env: HF_TOKEN, allow_token: true}\n")
    allowed = ws.run("plan", "-f", str(manifest))
    assert allowed.code == 0, allowed.both
    assert BOT_TOKEN not in allowed.both


def test_import_names_a_token_secret_so_apply_cannot_send_the_deploy_token(
    workspace: Workspace,
) -> None:
    ws = workspace
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)
    api.create_repo(f"{ORG}/bot-app", repo_type="space", space_sdk="docker")
    api.add_space_secret(f"{ORG}/bot-app", "HF_TOKEN", "the-space-own-token")
    result = ws.run("import", ORG, "--space", "bot-app", "--output", "imported.yaml")
    assert result.code == 0, result.both
    text = (ws.root / "imported.yaml").read_text()
    assert "HF_TOKEN: {from_env: SPACE_BOT_APP_HF_TOKEN}" in text, text
    ws.sandbox.clear_requests()
    # With only the deploy token in the environment, the imported secret is "not set", and a
    # plan never reads HF_TOKEN for it.
    plan = ws.run("plan", "-f", "imported.yaml", "--format", "json")
    assert plan.code == 0, plan.both
    assert "SPACE_BOT_APP_HF_TOKEN is not set" in plan.out
    assert ws.writes() == []
