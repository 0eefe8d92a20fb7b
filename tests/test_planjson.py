"""The JSON plan's reader refuses anything that is not a plan it wrote: a damaged or edited plan
file is one PlanFileError (exit 1), never a traceback, and never a value of another type."""

from __future__ import annotations

from typing import Any

import pytest

from spacectl.errors import PlanFileError
from spacectl.planjson import plan_from_dict

HEADER = {
    "format_version": "1",
    "manifest": "spaces.yaml",
    "manifest_digest": "d",
    "endpoint": "http://hub.test",
    "created_at": "2026-01-01T00:00:00Z",
}


def _space(**changes: Any) -> dict[str, Any]:
    space = {
        "id": "acme/app",
        "action": "update",
        "fields": [],
        "operations": [],
        "fingerprint": {"exists": True, "sha": "0" * 40},
    }
    return {**space, **changes}


COMMIT = {"kind": "commit", "parent": None, "message": "m", "additions": [], "deletions": []}


@pytest.mark.parametrize(
    ("space", "why"),
    [
        (_space(operations=["set_visibility"]), "an operation must be an object"),
        (_space(operations=[None]), "an operation must be an object"),
        (_space(operations={"kind": "delete_space"}), "an operation must be an object"),
        (_space(fingerprint=None), "a fingerprint must be an object"),
        (_space(fingerprint=["exists"]), "a fingerprint must be an object"),
        (_space(operations=[{"kind": "set_dev_mode", "enabled": "false"}]), "expected bool"),
        (_space(operations=[{**COMMIT, "mirror_new_space": "false"}]), "expected bool"),
        (_space(operations=[{"kind": "set_hardware", "hardware": None, "sleep_time": "9"}]), "int"),
        (_space(operations=[{"kind": "rm -rf"}]), "unknown operation"),
        (_space(operations=[{"kind": "set_visibility"}]), "visibility"),
    ],
)
def test_a_damaged_plan_file_is_one_clear_error(space: dict[str, Any], why: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        plan_from_dict({**HEADER, "spaces": [space]})
    assert why in caught.value.message


def test_a_card_date_reaches_the_json_plan_as_text(tmp_path: Any) -> None:
    """A YAML date in the card (an extra front-matter key) is compared and shown as the Hub
    reports cardData: ISO text."""
    import yaml_cases  # noqa: F401  (tests/ on the path)
    from test_plan import _plan

    case = {
        "manifest": "owner: acme\nspaces:\n  app: {sdk: docker, card: {released: 2024-01-01}}\n",
        "live": {"acme/app": {"sdk": "docker", "card_data": {"sdk": "docker"}}},
    }
    from spacectl.planjson import plan_to_dict

    fields = plan_to_dict(_plan(case, tmp_path))["spaces"][0]["fields"]
    assert {"path": "card.released", "action": "create", "after": "2024-01-01"} in fields
    same = {
        **case,
        "live": {
            "acme/app": {"sdk": "docker", "card_data": {"sdk": "docker", "released": "2024-01-01"}}
        },
    }
    assert [f["path"] for f in plan_to_dict(_plan(same, tmp_path))["spaces"][0]["fields"]] == []
