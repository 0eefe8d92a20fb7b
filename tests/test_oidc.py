"""Keyless mode's plan rules (pure): what a Space-scoped token cannot do is refused in the plan,
before any write, with the reason and the fix; the apply result shows those Spaces REFUSED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spacectl.errors import AuthError
from spacectl.oidc import (
    REFRESH_MARGIN,
    TOKEN_FIX,
    TRUST_FIX,
    KeylessHub,
    refuse_keyless,
    with_refusals,
)
from spacectl.operations import Action, CreateSpace, DeleteSpace, SetVariable
from spacectl.plan import Fingerprint, Plan, PlanHeader, SpaceChange
from spacectl.planjson import plan_from_dict, plan_to_dict
from spacectl.results import ApplyResult, Outcome, SpaceResult
from tests.fakehub import FakeHub

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


# --- KeylessHub's token lifecycle, over tests/fakehub.py (the e2e tests run it for real) ---------


class _Exchanging(FakeHub):
    """A FakeHub that also exchanges id tokens: one token per call, lasting `seconds`."""

    def __init__(self, seconds: float = 3600) -> None:
        super().__init__()
        self.seconds = seconds
        self.exchanged: list[tuple[str, str]] = []  # (id token, Space)

    def exchange_id_token(self, id_token: str, space_id: str) -> tuple[str, float]:
        self.exchanged.append((id_token, space_id))
        return f"token-{len(self.exchanged)}", self.seconds


class _Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def _keyless(base: _Exchanging, clock: _Clock, *, remint: bool) -> tuple[KeylessHub, list[str]]:
    minted: list[str] = []

    def mint() -> tuple[str, bool]:
        minted.append(f"id-{len(minted) + 1}")
        return minted[-1], remint

    def space_hub(token: str) -> _Exchanging:
        """A Hub of its own for each token, over the same Spaces."""
        scoped = _Exchanging()
        scoped.spaces, scoped.fail, scoped.calls = base.spaces, base.fail, base.calls
        return scoped

    hub = KeylessHub(base, has_token=False, mint=mint, space_hub=space_hub, now=clock)
    return hub, minted


def test_each_space_gets_its_own_token_once_then_again_before_it_expires() -> None:
    base, clock = _Exchanging(), _Clock()
    base.add_space("o/a")
    base.add_space("o/b")
    hub, minted = _keyless(base, clock, remint=True)
    hub.set_variable("o/a", "K", "1")
    hub.set_variable("o/b", "K", "1")
    hub.set_variable("o/a", "K", "2")
    assert base.exchanged == [("id-1", "o/a"), ("id-1", "o/b")]  # one id token, one per Space
    clock.at += timedelta(seconds=3600) - REFRESH_MARGIN - timedelta(seconds=1)
    hub.set_variable("o/a", "K", "3")
    assert len(base.exchanged) == 2  # still fresh
    clock.at += timedelta(seconds=2)
    hub.set_variable("o/a", "K", "4")
    assert base.exchanged[2:] == [("id-2", "o/a")]  # re-minted for the refresh
    assert minted == ["id-1", "id-2"]
    assert hub.exchanges == 3


def test_a_given_id_token_is_reused_for_refreshes() -> None:
    base, clock = _Exchanging(), _Clock()
    base.add_space("o/a")
    hub, minted = _keyless(base, clock, remint=False)
    hub.set_variable("o/a", "K", "1")
    clock.at += timedelta(hours=1)
    hub.set_variable("o/a", "K", "2")
    assert base.exchanged == [("id-1", "o/a"), ("id-1", "o/a")]
    assert minted == ["id-1"]


def test_a_401_is_answered_by_one_new_exchange_and_the_call_repeated() -> None:
    base, clock = _Exchanging(), _Clock()
    base.add_space("o/a")
    hub, _ = _keyless(base, clock, remint=True)
    hub.set_variable("o/a", "K", "1")
    base.fail[("o/a", "set_variable")] = AuthError("expired", status=401)
    with pytest.raises(AuthError):  # the fake keeps failing: one repeat, then the error
        hub.set_variable("o/a", "K", "2")
    assert len(base.exchanged) == 2
    del base.fail[("o/a", "set_variable")]
    hub.set_variable("o/a", "K", "3")
    assert base.spaces["o/a"].variables["K"] == "3"


def test_keyless_tokens_refuse_what_needs_an_owner_token() -> None:
    base, clock = _Exchanging(), _Clock()
    hub, _ = _keyless(base, clock, remint=True)
    for call in (
        lambda: hub.create_space("o/new", CreateSpace("static"), []),
        lambda: hub.delete_space("o/a"),
        lambda: hub.list_owner("o"),
        hub.whoami,
    ):
        with pytest.raises(AuthError) as caught:
            call()
        assert caught.value.hint == TOKEN_FIX
    assert base.calls == [] and base.exchanged == []
