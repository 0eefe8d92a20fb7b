"""apply --wait's poller against the in-memory HubPort: when a Space counts as settled, when
polling stops, and when one listing answers for many Spaces. tests/e2e waits for real builds."""

from __future__ import annotations

import time

from fakehub import FakeHub

from spacectl.waiting import Waiter


def _waiter(hub: FakeHub, **options: float) -> tuple[Waiter, list[tuple[str, str]]]:
    lines: list[tuple[str, str]] = []
    defaults: dict[str, float] = {"timeout": 10, "poll_min": 0.01, "grace": 0.3}
    waiter = Waiter(
        hub, report=lambda sid, msg: lines.append((sid, msg)), **{**defaults, **options}
    )  # type: ignore[arg-type]
    return waiter, lines


def test_a_build_seen_then_running_settles_at_once_and_polling_stops() -> None:
    hub = FakeHub()
    hub.add_space("acme/app")
    hub.stages["acme/app"] = ["BUILDING", "APP_STARTING", "RUNNING"]
    waiter, lines = _waiter(hub)
    started = time.monotonic()
    waiter.add("acme/app", changed_code=True)
    waiter.close()
    result = waiter.results()["acme/app"]
    assert result.ok and result.stage == "RUNNING"
    assert hub.runtime_reads == ["acme/app"] * 3  # no poll after the outcome is known
    assert time.monotonic() - started < 0.3  # no grace spent: a build stage was seen
    assert [m.split(" ")[0] for _, m in lines] == ["waiting", "BUILDING", "APP_STARTING", "RUNNING"]


def test_a_running_stage_right_after_a_commit_counts_only_after_the_grace() -> None:
    hub = FakeHub()
    hub.add_space("acme/app")
    hub.stages["acme/app"] = ["RUNNING"]  # the old build's stage, or a build that was quicker
    waiter, _ = _waiter(hub, grace=0.3)
    started = time.monotonic()
    waiter.add("acme/app", changed_code=True)
    waiter.close()
    assert waiter.results()["acme/app"].ok
    assert time.monotonic() - started >= 0.3
    # Without a code change (settings only, a static Space) the first answer counts.
    hub.runtime_reads.clear()
    waiter, _ = _waiter(hub, grace=5)
    waiter.add("acme/app", changed_code=False)
    waiter.close()
    assert waiter.results()["acme/app"].ok
    assert hub.runtime_reads == ["acme/app"]


def test_failure_and_timeout_are_results() -> None:
    hub = FakeHub()
    hub.add_space("acme/bad")
    hub.add_space("acme/slow")
    hub.stages["acme/bad"] = ["BUILDING", "BUILD_ERROR"]
    hub.stages["acme/slow"] = ["BUILDING"]
    waiter, _ = _waiter(hub, timeout=0.2)
    waiter.add("acme/bad", changed_code=True)
    waiter.add("acme/slow", changed_code=True)
    waiter.close()
    results = waiter.results()
    assert (results["acme/bad"].ok, results["acme/bad"].stage) == (False, "BUILD_ERROR")
    slow = results["acme/slow"]
    assert not slow.ok and slow.error_message is not None and "--timeout" in slow.error_message


def test_many_spaces_of_one_owner_are_polled_through_one_listing() -> None:
    hub = FakeHub()
    for i in range(10):
        hub.add_space(f"acme/s{i}")
        hub.stages[f"acme/s{i}"] = ["BUILDING", "RUNNING"]
    waiter, _ = _waiter(hub, bulk_at=5, poll_min=0.2)
    for i in range(10):
        waiter.add(f"acme/s{i}", changed_code=True)
    waiter.close()
    results = waiter.results()
    assert all(r.ok for r in results.values()) and len(results) == 10
    singles = [r for r in hub.runtime_reads if not r.startswith("list:")]
    assert "list:acme" in hub.runtime_reads and len(singles) < 10, hub.runtime_reads
