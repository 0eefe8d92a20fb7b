"""Golden tests of the three plan formats, rendered from one realistic plan.

Set UPDATE_GOLDENS=1 to rewrite tests/golden/* after an intended change; review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml_cases
from test_plan import _plan

from spacectl import __version__
from spacectl.planjson import plan_to_dict
from spacectl.render import render_json, render_markdown, render_text

GOLDEN = Path(__file__).parent / "golden"
CASE = Path(__file__).parent / "cases" / "render_mixed.yaml"


@pytest.fixture
def mixed_plan(tmp_path: Path):
    return _plan(yaml_cases.load(CASE), tmp_path), tmp_path


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDENS"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; UPDATE_GOLDENS=1 rewrites it"


def test_text_golden(mixed_plan) -> None:
    plan, _ = mixed_plan
    _check("plan.txt", render_text(plan))


def test_text_colour_only_decorates(mixed_plan) -> None:
    plan, _ = mixed_plan
    coloured = render_text(plan, color=True)
    assert "\x1b[32m+\x1b[0m" in coloured
    assert coloured.replace("\x1b[32m", "").replace("\x1b[33m", "").replace("\x1b[31m", "").replace(
        "\x1b[0m", ""
    ) == render_text(plan)


def test_markdown_golden(mixed_plan) -> None:
    plan, _ = mixed_plan
    _check("plan.md", render_markdown(plan))


def test_json_golden(mixed_plan) -> None:
    plan, tmp_path = mixed_plan
    text = render_json(plan)
    assert str(tmp_path) not in text  # file paths in a plan are relative to the manifest
    # The plan records which spacectl made it; the golden does not change with every release.
    stamp = f'"spacectl_version": "{__version__}",'
    assert stamp in text
    _check("plan.json", text.replace(stamp, '"spacectl_version": "<version>",'))
    assert json.loads(render_json(plan)) == plan_to_dict(plan)


def test_no_secret_value_in_any_format(mixed_plan) -> None:
    plan, _ = mixed_plan
    for rendered in (render_text(plan), render_markdown(plan)):
        assert "canary-value-9d2" not in rendered
        assert "secrets.API_KEY = (sensitive value)" in rendered
    as_json = render_json(plan)
    assert "canary-value-9d2" not in as_json
    secret_fields = [
        field
        for space in json.loads(as_json)["spaces"]
        for field in space["fields"]
        if field["path"].startswith("secrets.")
    ]
    assert secret_fields and all(
        field["sensitive"] is True and "before" not in field and "after" not in field
        for field in secret_fields
    )


def _case_plan(name: str, tmp_path: Path):
    return _plan(yaml_cases.load(CASE.parent / "plan" / f"{name}.yaml"), tmp_path)


def test_a_secret_without_its_variable_is_shown_not_verified_in_every_format(
    tmp_path: Path,
) -> None:
    """A plan made without a secret's variable (a fork's pull request) says so on the secret's
    line in the three formats, and its warnings say no write is planned for it."""
    line = "secrets.API_KEY = (sensitive value)  # not verified: $API_KEY is not set"
    plan = _case_plan("secrets_unset_not_verified", tmp_path)
    text = render_text(plan)
    assert text.startswith("spacectl will perform the following actions:\n")
    assert f"\n        {line}\n" in text
    assert "Warning: acme/app: secret(s) API_KEY ($API_KEY is not set) not verified" in text
    markdown = render_markdown(plan)
    assert f"\n        {line}\n" in markdown and "> [!WARNING]" in markdown
    field = plan_to_dict(plan)["spaces"][0]["fields"][1]
    assert field == {
        "path": "secrets.API_KEY",
        "action": "no-op",
        "sensitive": True,
        "reason": "not verified: $API_KEY is not set",
    }


def test_a_plan_with_only_unverified_secrets_has_no_changes_and_shows_them(
    tmp_path: Path,
) -> None:
    plan = _case_plan("secrets_unset_noop", tmp_path)
    assert plan.is_empty
    assert render_text(plan) == (
        "No changes. The Hub matches the manifest as far as could be verified:\n"
        "\n"
        "  # acme/app has nothing to change, as far as could be verified\n"
        "    acme/app\n"
        "        secrets.API_KEY = (sensitive value)  # not verified: $API_KEY is not set\n"
        "\n"
        "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged.\n"
        f"Warning: {plan.warnings[0]}\n"
    )
    markdown = render_markdown(plan)
    assert "**No changes.** The Hub matches the manifest as far as could be verified." in markdown
    assert "        secrets.API_KEY = (sensitive value)  # not verified" in markdown
