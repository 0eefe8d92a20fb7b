"""Fields that humans own, through the real CLI against a running sandbox: `ignore_changes`
leaves a hardware change made in the Hub's settings alone, `manage: create_only` a secret
rotated there (issue 13, must-show 5)."""

from __future__ import annotations

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace

KEY = {"SPACECTL_SECRET_KEY": "ci-only-hmac-key-5d1f"}


def test_a_hand_made_hardware_change_and_secret_rotation_are_left_alone(
    workspace: Workspace,
) -> None:
    ws = workspace
    targets = ("--target", "platform", "--target", "vision-lab")
    assert ws.run("apply", "--yes", *targets, env=KEY).code == 0
    api = HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)

    # Someone flips the GPU up for a demo and rotates the key in the UI, a day later.
    ws.sandbox.control("PUT", "clock", {"advance_seconds": 86400})
    api.request_space_hardware(f"{ORG}/vision-lab", "a10g-small")
    api.add_space_secret(f"{ORG}/platform", "GEMINI_API_KEY", "rotated-in-the-ui")
    fought = ws.run("plan", "--detailed-exitcode", *targets, env=KEY)
    assert fought.code == 2, fought.both  # without the new keys, apply would revert both
    assert '~ hardware = "a10g-small" -> "t4-small"' in fought.out, fought.out
    assert "~ secrets.GEMINI_API_KEY" in fought.out

    text = ws.manifest.read_text()
    # The example hands vision-lab's sleep_time over already; its hardware joins it.
    assert "    ignore_changes: [sleep_time]\n" in text
    text = text.replace(
        "    ignore_changes: [sleep_time]\n", "    ignore_changes: [sleep_time, hardware]\n"
    ).replace(
        "        description: Google Gemini API key\n",
        "        description: Google Gemini API key\n        manage: create_only\n",
    )
    ws.manifest.write_text(text)
    ws.sandbox.clear_requests()
    plan = ws.run("plan", "--detailed-exitcode", *targets, env=KEY)
    assert plan.code == 0, plan.both
    assert "No changes. The Hub matches the manifest." in plan.out
    assert f"Ignored (ignore_changes) in {ORG}/vision-lab: hardware" in plan.out
    markdown = ws.run("plan", "--format", "markdown", *targets, env=KEY)
    assert f"Ignored (ignore_changes) in `{ORG}/vision-lab`: `hardware`" in markdown.out
    applied = ws.run("apply", "--yes", *targets, env=KEY)
    assert applied.code == 0, applied.both
    assert ws.writes() == []
    runtime = api.get_space_runtime(f"{ORG}/vision-lab")
    assert runtime.requested_hardware == "a10g-small"

    # Handed over, not forgotten: the other fields still converge.
    ws.manifest.write_text(text.replace("MODEL_ID: Salesforce/blip", "MODEL_ID: acme/blip"))
    changed = ws.run("plan", "--detailed-exitcode", *targets, env=KEY)
    assert changed.code == 2 and "~ variables.MODEL_ID" in changed.out, changed.out
    assert "hardware =" not in changed.out and "secrets." not in changed.out.split("Plan:")[0]
