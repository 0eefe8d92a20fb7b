"""Keyless mode's plan rules (pure): what a Space-scoped token cannot do is refused in the plan,
before any write, with the reason and the fix; the apply result shows those Spaces REFUSED."""

from __future__ import annotations

from spacectl.oidc import TOKEN_FIX, TRUST_FIX, refuse_keyless, with_refusals
from spacectl.operations import Action, CreateSpace, DeleteSpace, SetVariable
from spacectl.plan import Fingerprint, Plan, PlanHeader, SpaceChange
from spacectl.planjson import plan_from_dict, plan_to_dict
from spacectl.results import ApplyResult, Outcome, SpaceResult

SEEN = Fingerprint(exists=True, sha="abc")
HEADER = PlanHeader(manifest_path="spaces.yaml", endpoint="http://hub")


def _plan() -> Plan:
    return Plan(
        changes=(
            SpaceChange("o/update", Action.UPDATE, (), (SetVariable("K", "v"),), SEEN),
            SpaceChange("o/new", Action.CREATE, (), (CreateSpace("static"),), Fingerprint(False)),
            SpaceChange("o/gone", Action.DELETE, (), (DeleteSpace(),), SEEN),
        ),
        header=HEADER,
    )


def test_creates_deletes_and_untrusted_spaces_are_refused_without_a_token() -> None:
    refused = {"o/untrusted": "token exchange refused: invalid_grant: no trusted publisher"}
    plan, refusals = refuse_keyless(
        _plan(), refused, ["o/update", "o/new", "o/gone", "o/untrusted"], has_token=False
    )
    assert [(r.space_id, r.fix) for r in refusals] == [
        ("o/new", TRUST_FIX + " to create it"),
        ("o/gone", TOKEN_FIX),
        ("o/untrusted", TRUST_FIX),
    ]
    by_id = {c.space_id: c for c in plan.changes}
    assert by_id["o/update"].operations == (SetVariable("K", "v"),)
    for space_id in ("o/new", "o/gone", "o/untrusted"):
        change = by_id[space_id]
        assert change.action is Action.NOOP and change.operations == ()
        assert change.warnings[0].startswith(f"{space_id}: not applied keylessly: ")
        assert "; fix: " in change.warnings[0]
    assert plan.header == HEADER
    # Deletions stay last; the refused entries survive a saved plan's JSON round trip.
    assert plan.changes[-1].space_id != "o/update"
    assert plan_from_dict(plan_to_dict(plan)) == plan


def test_another_token_does_what_keyless_tokens_cannot() -> None:
    plan, refusals = refuse_keyless(_plan(), {}, ["o/update", "o/new", "o/gone"], has_token=True)
    assert refusals == ()
    assert plan.changes == _plan().changes


def test_refused_spaces_are_refused_in_the_apply_result() -> None:
    _, refusals = refuse_keyless(_plan(), {}, [], has_token=False)
    result = ApplyResult(
        (
            SpaceResult("o/update", Outcome.APPLIED, ["set variable K"]),
            SpaceResult("o/new", Outcome.UNCHANGED),
            SpaceResult("o/gone", Outcome.UNCHANGED),
        )
    )
    shown = with_refusals(result, refusals)
    assert [r.outcome for r in shown.spaces] == [Outcome.APPLIED, Outcome.REFUSED, Outcome.REFUSED]
    assert shown.spaces[1].error is not None and "creating a Space" in shown.spaces[1].error
    assert shown.spaces[2].hint == TOKEN_FIX
    assert not shown.ok
