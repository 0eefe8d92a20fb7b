"""A Space's `healthcheck:` after `apply --wait`: once its build runs, GET its app until it answers.

Contract (`check_health`): the app is asked `GET path` at the host the Hub names for the Space
(`HubPort.get_app`, which also decides whether the token may go along). The check passes on the
first answer equal to `expect`. An answer of 5xx or no answer at all (connection refused, time
out: an app still starting) is asked again every `interval` seconds until `timeout` seconds have
passed since the first try; any other status is final at once (a 404 does not heal by waiting).
A failed check is a failed wait result, like a failed build: the Space's stage, the URL and the
last status (None when nothing answered), and a one-line reason. The Waiter asks only a Space
that settled RUNNING (a SLEEPING one would be woken up by the request).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from spacectl.errors import SpacectlError
from spacectl.manifest import HealthcheckSpec
from spacectl.port import HubPort
from spacectl.results import AppAnswer, WaitResult

# One GET never outlasts this many seconds (a hanging app must not eat the whole timeout at once).
REQUEST_SECONDS = 10.0


def check_health(
    hub: HubPort,
    result: WaitResult,
    check: HealthcheckSpec,
    *,
    interval: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """`result` (a Space that runs) with the healthcheck's verdict; see the module docstring."""
    deadline = clock() + check.timeout
    while True:
        budget = max(0.5, min(REQUEST_SECONDS, deadline - clock()))
        try:
            answer = hub.get_app(result.space_id, check.path, timeout=budget)
        except SpacectlError as exc:
            return replace(result, ok=False, error_message=f"healthcheck: {exc.message}")
        if answer.status == check.expect:
            return replace(result, check_url=answer.url, check_status=answer.status)
        again = answer.status is None or answer.status >= 500
        if not again or clock() + interval > deadline:
            return _failed(result, answer, check, waited=again)
        sleep(interval)


def _failed(
    result: WaitResult, answer: AppAnswer, check: HealthcheckSpec, *, waited: bool
) -> WaitResult:
    got = (
        f"answered {answer.status}" if answer.status is not None else f"no answer ({answer.error})"
    )
    after = f" after {check.timeout} s" if waited else ""
    message = f"healthcheck GET {answer.url} {got}{after}, expected {check.expect}"
    return replace(
        result,
        ok=False,
        error_message=message,
        check_url=answer.url,
        check_status=answer.status,
    )
