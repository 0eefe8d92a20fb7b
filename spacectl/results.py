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
