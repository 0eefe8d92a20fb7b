"""The healthcheck after `apply --wait` against the in-memory HubPort: what passes, what is asked
again and for how long, what fails at once; and that the Waiter runs it only for a RUNNING Space.
tests/e2e/test_healthcheck_wait.py asks the sandbox's simulated apps through the real CLI."""

from __future__ import annotations

from fakehub import FakeHub

from spacectl.health import check_health
from spacectl.manifest import HealthcheckSpec
from spacectl.results import WaitResult
from spacectl.waiting import Waiter

RUNNING = WaitResult("acme/app", "RUNNING", True)


class _Clock:
    """A fake monotonic clock that `sleep` moves forward."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _check(hub: FakeHub, check: HealthcheckSpec) -> tuple[WaitResult, _Clock]:
    clock = _Clock()
    return check_health(hub, RUNNING, check, clock=clock, sleep=clock.sleep), clock


def test_5xx_and_no_answer_are_asked_again_until_the_expected_status() -> None:
    hub = FakeHub()
    hub.app_statuses["acme/app"] = [None, 502, 503, 200]
    result, clock = _check(hub, HealthcheckSpec(path="/health", timeout=10))
    assert result.ok and result.check_status == 200 and result.error_message is None
    assert result.check_url == "http://acme-app.app.fake/health"
    assert len(hub.app_gets) == 4 and clock.sleeps == [1.0, 1.0, 1.0]


def test_a_5xx_until_the_timeout_fails_with_the_url_and_last_status() -> None:
    hub = FakeHub()
    hub.app_statuses["acme/app"] = [503]
    result, clock = _check(hub, HealthcheckSpec(path="/up", timeout=5))
    assert not result.ok and result.stage == "RUNNING" and result.check_status == 503
    assert result.error_message == (
        "healthcheck GET http://acme-app.app.fake/up answered 503 after 5 s, expected 200"
    )
    assert clock.now - 100.0 <= 5 and len(hub.app_gets) == 6  # at 0, 1, ..., 5 s


def test_no_answer_until_the_timeout_says_so() -> None:
    hub = FakeHub()
    hub.app_statuses["acme/app"] = [None]
    result, _ = _check(hub, HealthcheckSpec(timeout=2))
    assert not result.ok and result.check_status is None
    assert result.error_message == (
        "healthcheck GET http://acme-app.app.fake/ no answer (ConnectError) after 2 s, expected 200"
    )


def test_another_status_is_final_at_once() -> None:
    hub = FakeHub()
    hub.app_statuses["acme/app"] = [404, 200]
    result, clock = _check(hub, HealthcheckSpec(path="/health", expect=200, timeout=60))
    assert not result.ok and result.check_status == 404 and clock.sleeps == []
    assert result.error_message is not None and "answered 404, expected 200" in result.error_message
    hub.app_statuses["acme/app"] = [200]
    assert not _check(hub, HealthcheckSpec(expect=204))[0].ok


def test_the_waiter_checks_running_spaces_that_have_a_healthcheck_only() -> None:
    hub = FakeHub()
    for name in ("acme/app", "acme/plain", "acme/broken"):
        hub.add_space(name)
    hub.stages["acme/broken"] = ["BUILD_ERROR"]
    hub.app_statuses["acme/app"] = [500]
    check = HealthcheckSpec(path="/health", timeout=1)
    checks = {"acme/app": check, "acme/broken": check}
    lines: list[str] = []
    waiter = Waiter(
        hub, timeout=10, poll_min=0.01, report=lambda s, m: lines.append(m), checks=checks
    )
    for name in ("acme/app", "acme/plain", "acme/broken"):
        waiter.add(name, changed_code=False)
    waiter.close()
    results = waiter.results()
    assert not results["acme/app"].ok and results["acme/app"].check_status == 500
    assert results["acme/plain"].ok and results["acme/plain"].check_url is None
    assert (
        results["acme/broken"].stage == "BUILD_ERROR" and results["acme/broken"].check_url is None
    )
    assert {url.split("/")[2] for url in hub.app_gets} == {"acme-app.app.fake"}
    assert "healthcheck failed (500)" in lines
