"""`apply --wait`: wait until each changed Space settles, starting the moment its own apply is done.

One poller thread serves every Space (a `Waiter`): a Space joins with `add` when apply finishes
it, and is polled with a backoff suited to build times (every `poll_min` seconds at first, then
a tenth of the time it has been building, at most `poll_max`), so a short build is seen within
half a second and a long one costs a few calls a minute. While `bulk_at` or more Spaces of one
owner are waiting, one listing of the owner's runtimes (`HubPort.runtimes`) answers for all of
them whenever one is due, instead of a read each. A Space stops being polled as soon as its
outcome is known.

Which RUNNING counts: right after a commit the Hub may still report the previous build's stage
for a moment (the runtime names no commit, so nothing tells the two RUNNINGs apart). When the
code changed, RUNNING counts once a build stage was seen for the Space, or once `grace` seconds
have passed since its commit landed (the Hub has switched stages by then). A Space whose build is
slower than the first poll shows BUILDING at once, so in practice the grace is only spent on a
Space whose whole build fits between its commit and its first poll.

A Space with a `healthcheck` (the `checks` given) that reaches RUNNING is then asked by its app
(health.py) on a thread of its own, so a slow app holds up no other Space's polling; its result is
the check's verdict.

Progress goes to `report(space_id, message)`: the stage and the seconds since the Space's apply,
on each change of stage and every 10 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from spacectl.errors import HubError, SpacectlError
from spacectl.health import check_health
from spacectl.manifest import HealthcheckSpec
from spacectl.operations import Action
from spacectl.plan import SpaceChange
from spacectl.port import HubPort
from spacectl.results import Outcome, SpaceResult, WaitResult
from spacectl.state import BUILD_FAILURE_STAGES, FAILED_STAGES, INTERMEDIATE_STAGES, Runtime

Reporter = Callable[[str, str], None]


def _quiet(space_id: str, message: str) -> None:
    """Default reporter: say nothing."""


@dataclass
class _Waiting:
    space_id: str
    changed_code: bool
    since: float  # when its apply finished (monotonic)
    next_poll: float
    seen_build: bool = False
    stage: str | None = None
    reported: tuple[str | None, int] | None = None  # (stage, tens of seconds) last reported


class Waiter:
    """The poller behind `apply --wait`; see the module docstring. Thread-safe: apply's workers
    call `add`; `results()` (after `close()`) blocks until every added Space has a result."""

    def __init__(
        self,
        hub: HubPort,
        *,
        timeout: float,
        report: Reporter = _quiet,
        poll_min: float = 0.5,
        poll_max: float = 10.0,
        grace: float = 15.0,
        bulk_at: int = 8,
        parallelism: int = 8,
        log_lines: int = 30,
        checks: Mapping[str, HealthcheckSpec] | None = None,
    ) -> None:
        self._hub = hub
        self._timeout = timeout
        self._report = report
        self._poll_min, self._poll_max, self._grace = poll_min, poll_max, grace
        self._bulk_at, self._parallelism, self._log_lines = bulk_at, parallelism, log_lines
        self._cond = threading.Condition()
        self._waiting: dict[str, _Waiting] = {}
        self._done: dict[str, WaitResult] = {}
        self._closed = False
        self._checks = dict(checks or {})
        self._checking: list[Future[WaitResult]] = []
        self._health_pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
        self._thread = threading.Thread(target=self._run, name="spacectl-wait", daemon=True)
        self._thread.start()

    def add(self, space_id: str, *, changed_code: bool) -> None:
        """Start waiting for `space_id`, whose apply just finished; `changed_code`: it got a
        commit that rebuilds it (see the module docstring)."""
        now = time.monotonic()
        with self._cond:
            self._waiting[space_id] = _Waiting(space_id, changed_code, now, now)
            self._cond.notify()
        self._report(space_id, "waiting for the build")

    def offer(self, change: SpaceChange, result: SpaceResult) -> None:
        """apply's `on_done`: wait for the Space if this apply changed it (APPLIED, not
        deleted). A new commit counts as changed code, except on a static Space, which serves
        its files at once."""
        if result.outcome is not Outcome.APPLIED or change.action is Action.DELETE:
            return
        changed_code = result.committed is not None and change.sdk != "static"
        self.add(change.space_id, changed_code=changed_code)

    def close(self) -> None:
        """No more Spaces will be added."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def results(self) -> dict[str, WaitResult]:
        """Every added Space's result, once all are known (call `close` first)."""
        self._thread.join()
        for future in self._checking:
            checked = future.result()
            self._done[checked.space_id] = checked
        self._health_pool.shutdown()
        return dict(self._done)

    # --- the poller -------------------------------------------------------------------------

    def _run(self) -> None:
        with ThreadPoolExecutor(max_workers=max(1, self._parallelism)) as pool:
            while True:
                with self._cond:
                    if not self._waiting and self._closed:
                        return
                    now = time.monotonic()
                    due = [w for w in self._waiting.values() if w.next_poll <= now]
                    if not due:
                        nearest = min((w.next_poll for w in self._waiting.values()), default=None)
                        self._cond.wait(None if nearest is None else nearest - now)
                        continue
                for waiting, seen in self._poll(due, pool):
                    self._observe(waiting, seen)

    def _poll(
        self, due: list[_Waiting], pool: ThreadPoolExecutor
    ) -> list[tuple[_Waiting, Runtime | SpacectlError]]:
        """The runtime of each due Space: for an owner with `bulk_at` or more Spaces waiting,
        one listing answers for all of them (due or not: they are observed, and their next
        poll moves, together); other Spaces are read one by one (`parallelism` at a time)."""
        with self._cond:
            waiting_of: dict[str, list[_Waiting]] = {}
            for waiting in self._waiting.values():
                waiting_of.setdefault(waiting.space_id.split("/", 1)[0], []).append(waiting)
        seen: list[tuple[_Waiting, Runtime | SpacectlError]] = []
        single: list[_Waiting] = []
        for owner in dict.fromkeys(w.space_id.split("/", 1)[0] for w in due):
            group = waiting_of.get(owner, [])
            if len(group) < self._bulk_at:
                single += [w for w in due if w.space_id.split("/", 1)[0] == owner]
                continue
            try:
                listed = {sid.lower(): rt for sid, rt in self._hub.runtimes(owner).items()}
            except SpacectlError:
                # Each read on its own retries and reports its own error.
                single += [w for w in due if w.space_id.split("/", 1)[0] == owner]
                continue
            for waiting in group:
                runtime = listed.get(waiting.space_id.lower())
                if runtime is not None:
                    seen.append((waiting, runtime))
                elif waiting in due:
                    single.append(waiting)

        def read(waiting: _Waiting) -> tuple[_Waiting, Runtime | SpacectlError]:
            try:
                return waiting, self._hub.runtime(waiting.space_id)
            except SpacectlError as exc:
                return waiting, exc

        return seen + list(pool.map(read, single))

    def _observe(self, waiting: _Waiting, seen: Runtime | SpacectlError) -> None:
        result = self._outcome(waiting, seen)
        now = time.monotonic()
        elapsed = now - waiting.since
        if result is None and elapsed > self._timeout:
            result = WaitResult(
                waiting.space_id,
                waiting.stage,
                False,
                (),
                f"still {waiting.stage} after {self._timeout:.0f} s (--timeout)",
            )
        if result is None:
            interval = min(self._poll_max, max(self._poll_min, elapsed / 10))
            waiting.next_poll = now + interval
            # A line per stage change and per 10 s, not per poll (CI logs get every line).
            shown = (waiting.stage, int(elapsed // 10))
            if shown != waiting.reported:
                waiting.reported = shown
                stage = waiting.stage or "no stage yet"
                self._report(waiting.space_id, f"{stage} ({elapsed:.0f}s)")
            return
        check = self._checks.get(waiting.space_id)
        with self._cond:
            self._waiting.pop(waiting.space_id, None)
            if check is None or not result.ok or result.stage != "RUNNING":
                self._done[waiting.space_id] = result
            else:
                self._checking.append(self._health_pool.submit(self._health, result, check))
        self._report(waiting.space_id, f"{result.stage} after {elapsed:.0f}s")

    def _health(self, result: WaitResult, check: HealthcheckSpec) -> WaitResult:
        self._report(result.space_id, f"healthcheck GET {check.path}")
        checked = check_health(self._hub, result, check)
        verdict = "passed" if checked.ok else "failed"
        self._report(result.space_id, f"healthcheck {verdict} ({checked.check_status})")
        return checked

    def _outcome(self, waiting: _Waiting, seen: Runtime | SpacectlError) -> WaitResult | None:
        """The Space's result when this runtime settles it, else None (poll again)."""
        sid = waiting.space_id
        if isinstance(seen, SpacectlError):
            return WaitResult(sid, waiting.stage, False, (), seen.message)
        stage = waiting.stage = seen.stage
        if stage in INTERMEDIATE_STAGES:
            waiting.seen_build = True
            return None
        if stage in FAILED_STAGES:
            build = stage in BUILD_FAILURE_STAGES
            try:
                tail = tuple(list(self._hub.logs(sid, build=build))[-self._log_lines :])
            except HubError:
                tail = ()
            return WaitResult(sid, stage, False, tail, seen.error_message)
        settled = (
            not waiting.changed_code
            or waiting.seen_build
            or time.monotonic() - waiting.since > self._grace
        )
        if stage is not None and settled:
            return WaitResult(sid, stage, stage in ("RUNNING", "SLEEPING"))
        return None
