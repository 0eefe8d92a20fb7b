"""Data-driven plan tests: each tests/cases/plan/*.yaml gives a manifest, the live state and the
expected changes (pyinfra style). Every resource kind has a `*_noop` case."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml_cases

from spacectl.inputs import plan_inputs
from spacectl.manifest_loader import parse_manifest
from spacectl.plan import PlanHeader, compute_plan
from spacectl.planjson import plan_from_dict, plan_to_dict
from spacectl.state import LiveFile, LiveSecret, LiveSpace, LiveVariable, LiveVolume

CASES = sorted((Path(__file__).parent / "cases" / "plan").glob("*.yaml"))


def _blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _live_file(path: str, spec: Any) -> LiveFile:
    if isinstance(spec, dict) and "lfs" in spec:
        data = spec["lfs"].encode()
        sha = hashlib.sha256(data).hexdigest()
        pointer = (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {len(data)}\n"
        )
        return LiveFile(path, len(data), _blob(pointer.encode()), sha)
    data = str(spec).encode()
    return LiveFile(path, len(data), _blob(data))


def _live(space_id: str, data: dict[str, Any]) -> LiveSpace:
    return LiveSpace(
        id=space_id,
        sdk=data.get("sdk"),
        visibility=data.get("visibility", "public"),
        sha=data.get("sha", "0" * 40),
        stage=data.get("stage", "RUNNING"),
        requested_hardware=data.get("requested_hardware"),
        current_hardware=data.get("current_hardware"),
        sleep_time=data.get("sleep_time"),
        volumes=tuple(LiveVolume(**v) for v in data.get("volumes", [])),
        card_data=data.get("card_data", {}),
        variables=(
            {k: LiveVariable(str(v)) for k, v in data["variables"].items()}
            if "variables" in data
            else None
        ),
        secrets=(
            {
                k: LiveSecret(v.get("description"), _time(v.get("updated_at")))
                for k, v in data["secrets"].items()
            }
            if "secrets" in data
            else None
        ),
        files=(
            {p: _live_file(p, c) for p, c in data["files"].items()} if "files" in data else None
        ),
        readme=data.get("readme"),
        dev_mode=data.get("dev_mode", False),
    )


def _plan(case: dict[str, Any], tmp_path: Path):
    for folder, files in (case.get("folders") or {}).items():
        for rel, content in files.items():
            target = tmp_path / folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
    environ = {str(k): str(v) for k, v in (case.get("env") or {}).items()}
    manifest = parse_manifest(case["manifest"], "spaces.yaml", base_dir=tmp_path)
    specs = list(manifest.spaces)
    targets = frozenset(case["targets"]) if case.get("targets") else None
    inputs = plan_inputs(manifest, environ=environ, targets=targets)
    header = PlanHeader("spaces.yaml", "test", "http://hub.test", "2026-01-01T00:00:00Z")
    live = {sid: _live(sid, data) for sid, data in (case.get("live") or {}).items()}
    return compute_plan(manifest, {s.id: live.get(s.id) for s in specs}, inputs).with_header(header)


def _field_line(field: dict[str, Any]) -> str:
    # "=": shown but not changed (a secret that could not be verified).
    symbol = {"create": "+", "update": "~", "delete": "-", "no-op": "="}[field["action"]]
    return f"{symbol} {field['path']}"


@pytest.mark.parametrize("case_path", CASES, ids=[p.stem for p in CASES])
def test_plan_case(case_path: Path, tmp_path: Path) -> None:
    case = yaml_cases.load(case_path)
    plan = _plan(case, tmp_path)
    data = plan_to_dict(plan)
    got = {
        space["id"]: {
            "action": space["action"],
            "operations": [op["kind"] for op in space["operations"]],
            "fields": [_field_line(f) for f in space["fields"]],
        }
        for space in data["spaces"]
    }
    expected = case["expect"]
    for space_id, want in expected.items():
        assert space_id in got, f"{space_id} missing from plan: {sorted(got)}"
        assert got[space_id]["action"] == want["action"], got[space_id]
        assert got[space_id]["operations"] == want.get("operations", []), got[space_id]
        if "ignored" in want:  # the differences `ignore_changes` left alone
            space = next(s for s in data["spaces"] if s["id"] == space_id)
            assert space["ignored"] == want["ignored"], space["ignored"]
        if "fields" in want:
            lines = [f if isinstance(f, str) else next(iter(f)) for f in want["fields"]]
            assert got[space_id]["fields"] == lines, got[space_id]
            fields = next(s for s in data["spaces"] if s["id"] == space_id)["fields"]
            for field, stated in zip(fields, want["fields"], strict=True):
                # A case may state a field's before, after and reason: `{"~ path": {...}}`.
                details = {} if isinstance(stated, str) else next(iter(stated.values()))
                for key, value in details.items():
                    assert field.get(key, "(absent)") == value, (field, key)
    assert set(got) == set(expected)
    for needle in case.get("warnings", []):
        assert any(needle in w for w in data["warnings"]), data["warnings"]
    if case.get("no_warnings"):
        assert data["warnings"] == []
    for space in data["spaces"]:
        for field in space["fields"]:
            if field["path"].startswith("secrets."):
                assert field.get("sensitive") is True
                assert "before" not in field and "after" not in field
    # The JSON form round-trips to the same plan: a saved plan applies exactly what was shown.
    assert plan_to_dict(plan_from_dict(data)) == data
    for value in (case.get("env") or {}).values():
        assert not value or str(value) not in repr(data), "a secret value leaked into the plan"


def test_every_resource_kind_has_a_noop_case() -> None:
    names = {p.stem for p in CASES}
    for kind in (
        "space",
        "visibility",
        "hardware",
        "sleep_time",
        "volumes",
        "variables",
        "secrets",
        "files",
        "card",
        "sdk",
        "dev_mode",
        "absent",
    ):
        assert f"{kind}_noop" in names, f"no no-op case for {kind}"
