"""check_write_permissions decided from whoami (as doctor reads it), with auth_check only where
whoami cannot answer; the e2e proof against the sandbox is tests/e2e/test_permissions.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakehub import FakeHub

from spacectl.errors import AuthError
from spacectl.inputs import plan_inputs, read_needs, targeted
from spacectl.manifest_loader import parse_manifest
from spacectl.permissions import check_write_permissions
from spacectl.plan import Plan, compute_plan
from spacectl.state import Identity

MANIFEST = """
version: 1
owner: acme
spaces:
  acme/old: {sdk: docker, variables: {A: "1"}}
  acme/new: {sdk: docker}
  tester/mine: {sdk: docker}
"""


def _plan(hub: FakeHub, base: Path) -> Plan:
    manifest = parse_manifest(MANIFEST, "spaces.yaml", base_dir=base)
    inputs = plan_inputs(manifest, environ={}, targets=None)
    needs = {s.id: read_needs(s, inputs.files.get(s.id)) for s in targeted(manifest, None)}
    return compute_plan(manifest, hub.read_live(needs), inputs)


def _hub(raw: dict[str, Any], writable: set[str] | None = None) -> FakeHub:
    hub = FakeHub()
    hub.add_space("acme/old")
    asked: list[str] = []
    hub.whoami = lambda: Identity(raw["name"], (), raw["auth"]["accessToken"]["role"], raw)  # type: ignore[method-assign]

    def can_write(space_id: str) -> bool:
        asked.append(space_id)
        return writable is None or space_id in writable

    hub.can_write = can_write  # type: ignore[method-assign]
    hub.asked = asked  # type: ignore[attr-defined]
    return hub


def _whoami(role: str, org_role: str | None = "admin", **token: Any) -> dict[str, Any]:
    orgs = [] if org_role is None else [{"name": "acme", "roleInOrg": org_role}]
    return {"name": "tester", "orgs": orgs, "auth": {"accessToken": {"role": role, **token}}}


def test_a_writer_member_costs_one_whoami(tmp_path: Path) -> None:
    hub = _hub(_whoami("write"))
    assert check_write_permissions(_plan(hub, tmp_path), hub) == 1
    assert hub.asked == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (_whoami("read"), "acme: the token is read-only; tester: the token is read-only"),
        (_whoami("write", org_role=None), "acme: tester is not a member of acme"),
        (_whoami("write", org_role="read"), "tester has the 'read' role in acme"),
        (
            _whoami(
                "fineGrained",
                fineGrained={
                    "scoped": [{"entity": {"name": "tester"}, "permissions": ["repo.write"]}]
                },
            ),
            "acme: the fine-grained token has no repo.write permission on acme",
        ),
    ],
    ids=["read-only", "non-member", "org reader", "fine-grained elsewhere"],
)
def test_refusals_name_what_is_missing(tmp_path: Path, raw: dict[str, Any], says: str) -> None:
    hub = _hub(raw)
    with pytest.raises(AuthError) as caught:
        check_write_permissions(_plan(hub, tmp_path), hub)
    assert says in caught.value.message and "nothing was applied" in caught.value.message
    assert "\n" not in caught.value.message and caught.value.hint
    assert hub.calls == []  # nothing written


def test_a_fine_grained_token_scoped_to_every_owner_passes(tmp_path: Path) -> None:
    scoped = [{"entity": {"name": n}, "permissions": ["repo.write"]} for n in ("acme", "tester")]
    hub = _hub(_whoami("fineGrained", fineGrained={"scoped": scoped}))
    assert check_write_permissions(_plan(hub, tmp_path), hub) == 1


def test_a_contributor_is_checked_per_existing_space_only(tmp_path: Path) -> None:
    hub = _hub(_whoami("write", org_role="contributor"), writable=set())
    with pytest.raises(AuthError) as caught:
        check_write_permissions(_plan(hub, tmp_path), hub)
    assert "acme/old: tester is a contributor of acme" in caught.value.message
    assert hub.asked == ["acme/old"]  # type: ignore[attr-defined]  # not acme/new: a create

    allowed = _hub(_whoami("write", org_role="contributor"), writable={"acme/old"})
    assert check_write_permissions(_plan(allowed, tmp_path), allowed) == 2


def test_a_plan_that_writes_nothing_asks_nothing(tmp_path: Path) -> None:
    hub = _hub(_whoami("read"))
    assert check_write_permissions(Plan(()), hub) == 0
