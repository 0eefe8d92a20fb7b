"""What apply and --wait report, as plain data: the input of the summaries in render.py."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Outcome(str, enum.Enum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    REFUSED = "refused"  # stale plan: nothing written


@dataclass
class SpaceResult:
    space_id: str
    outcome: Outcome
    operations_done: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    committed: str | None = None
    notes: list[str] = field(default_factory=list)  # what the summary says besides (kept files)


@dataclass(frozen=True)
class ApplyResult:
    spaces: tuple[SpaceResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.outcome in (Outcome.APPLIED, Outcome.UNCHANGED) for r in self.spaces)


@dataclass(frozen=True)
class WaitResult:
    space_id: str
    stage: str | None
    ok: bool
    log_tail: tuple[str, ...] = ()
    error_message: str | None = None
    check_url: str | None = None  # the healthcheck's URL, when one ran
    check_status: int | None = None  # what it last answered (None: no answer)


@dataclass(frozen=True)
class AppAnswer:
    """One GET of a running app (`HubPort.get_app`): the URL asked and its status, or why no
    status came back (connection refused, timeout, no app host)."""

    url: str
    status: int | None
    error: str | None = None
