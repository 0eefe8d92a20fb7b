"""Simulated Space runtime: which stage a Space is in, the build and run logs it prints, and
what starts a build (a commit, a restart, a settings change) or stops one (a pause).

Nothing runs in the background. A build is planned when it starts (a commit, a restart, a
settings change) as a start time, a duration and a final stage; the stage and the visible log
lines at any moment are computed from the wall clock. That keeps the state a plain value that can
be persisted and still makes sense after a sandbox restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.models.cards import SDKS, card_of, sdk_of

if TYPE_CHECKING:
    from spacectl.sandbox.context import Context
    from spacectl.sandbox.records import Space

# Stages during which huggingface_hub's wait_for_space keeps polling.
INTERMEDIATE_STAGES = frozenset(
    {"BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING_APP_STARTING"}
)
# Stages that can be forced through the control API (what the public API cannot reach).
FORCEABLE_STAGES = frozenset(
    {
        "NO_APP_FILE",
        "CONFIG_ERROR",
        "BUILDING",
        "BUILD_ERROR",
        "APP_STARTING",
        "RUNNING",
        "RUNTIME_ERROR",
        "PAUSED",
        "STOPPED",
        "SLEEPING",
    }
)
# Part of the build spent in BUILDING; the rest is APP_STARTING.
_BUILDING_SHARE = 0.6


@dataclass
class LogLine:
    """One log event: `at` is a unix time, `text` usually ends with a newline."""

    at: float
    text: str


@dataclass
class RuntimeState:
    """Where a Space's runtime is: a fixed stage, or a build that ends in `stage` at a known time.

    `stage_at(now)` is the only way to read the stage. `error_message` is reported only while the
    Space is in an error stage.
    """

    stage: str
    build_started: float | None = None
    build_seconds: float = 0.0
    error_message: str | None = None
    build_log: list[LogLine] = field(default_factory=list)
    run_log: list[LogLine] = field(default_factory=list)

    def stage_at(self, now: float) -> str:
        if self.build_started is None:
            return self.stage
        elapsed = now - self.build_started
        building_for = self.build_seconds * _BUILDING_SHARE
        if elapsed < building_for:
            return "BUILDING"
        if self.stage == "BUILD_ERROR":
            return "BUILD_ERROR"
        if elapsed < self.build_seconds:
            return "APP_STARTING"
        return self.stage

    def logs(self, kind: str, now: float) -> list[LogLine]:
        """Log lines of `kind` ("build" or "run") already printed at `now`."""
        lines = self.build_log if kind == "build" else self.run_log
        return [line for line in lines if line.at <= now]

    def settled_at(self) -> float:
        """The time after which neither the stage nor the logs change any more."""
        if self.build_started is None:
            return 0.0
        return self.build_started + self.build_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "build_started": self.build_started,
            "build_seconds": self.build_seconds,
            "error_message": self.error_message,
            "build_log": [[line.at, line.text] for line in self.build_log],
            "run_log": [[line.at, line.text] for line in self.run_log],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuntimeState:
        return cls(
            stage=data["stage"],
            build_started=data.get("build_started"),
            build_seconds=float(data.get("build_seconds", 0.0)),
            error_message=data.get("error_message"),
            build_log=[LogLine(at, text) for at, text in data.get("build_log", [])],
            run_log=[LogLine(at, text) for at, text in data.get("run_log", [])],
        )


def fixed(stage: str, error_message: str | None = None) -> RuntimeState:
    """A runtime that stays in `stage` until something happens to the Space."""
    return RuntimeState(stage=stage, error_message=error_message)


def _log_stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


def _dockerfile_has_from(text: str) -> bool:
    """True if the Dockerfile has a FROM instruction (Docker allows only ARG and comments first)."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split(None, 1)[0].upper()
        if word == "FROM":
            return True
        if word != "ARG":
            return False
    return False


def plan_build(
    *,
    sdk: str | None,
    card: dict[str, Any],
    read_file: Callable[[str], bytes | None],
    hardware: str,
    now: float,
    build_seconds: float,
    commit: str = "HEAD",
    factory: bool = False,
) -> RuntimeState:
    """Decide what a (re)build of the Space's current files leads to, as the Hub would.

    `read_file(path)` returns a file of the HEAD revision or None. Static Spaces run at once; a
    missing app file gives NO_APP_FILE and a missing or unknown `sdk` gives CONFIG_ERROR without a
    build; a Dockerfile without FROM builds and ends in BUILD_ERROR with the reason in the log.
    """
    if sdk not in SDKS:
        message = (
            "Missing configuration in README.md: 'sdk' must be one of gradio, streamlit, docker, "
            "static (see https://huggingface.co/docs/hub/spaces-config-reference)"
            if sdk is None
            else f"Invalid configuration in README.md: unknown sdk '{sdk}'"
        )
        return fixed("CONFIG_ERROR", message)
    if sdk == "static":
        app_file = str(card.get("app_file") or "index.html")
        if read_file(app_file) is None:
            return fixed("NO_APP_FILE")
        return fixed("RUNNING")
    app_file = "Dockerfile" if sdk == "docker" else str(card.get("app_file") or "app.py")
    content = read_file(app_file)
    if content is None:
        return fixed("NO_APP_FILE")

    duration = max(build_seconds, 0.0)
    building_end = now + duration * _BUILDING_SHARE
    build_lines: list[str] = [
        f"===== Build Queued at {_log_stamp(now)} / Commit SHA: {commit[:7]} =====\n"
    ]
    if factory:
        build_lines.append("Factory rebuild: the build cache was discarded.\n")
    final_stage = "RUNNING"
    error: str | None = None
    if sdk == "docker":
        dockerfile = content.decode("utf-8", "replace")
        if not _dockerfile_has_from(dockerfile):
            final_stage = "BUILD_ERROR"
            error = "Build failed: the Dockerfile has no FROM instruction"
            build_lines += [
                "--> ERROR: failed to parse Dockerfile: no build stage in current context\n",
                "The Dockerfile must start with a FROM instruction (only ARG lines and comments "
                "may come before it), e.g. 'FROM python:3.11'.\n",
                f"{error}\n",
            ]
        else:
            for raw in dockerfile.splitlines():
                line = raw.strip()
                if line and not line.startswith("#"):
                    build_lines.append(f"--> {line}\n")
    else:
        build_lines.append("--> FROM docker.io/library/python:3.10\n")
        requirements = read_file("requirements.txt")
        if requirements is not None:
            build_lines.append("--> RUN pip install --no-cache-dir -r requirements.txt\n")
            for req in requirements.decode("utf-8", "replace").splitlines():
                if req.strip() and not req.strip().startswith("#"):
                    build_lines.append(f"Collecting {req.strip()}\n")
        build_lines.append(
            f"--> Installing {sdk} (sdk_version {card.get('sdk_version', 'latest')})\n"
        )
    if final_stage == "RUNNING":
        build_lines += ["--> Pushing image\n", "DONE 0.1s\n"]

    step = (duration * _BUILDING_SHARE) / max(len(build_lines), 1)
    build_log = [LogLine(now + i * step, text) for i, text in enumerate(build_lines)]
    run_log: list[LogLine] = []
    if final_stage == "RUNNING":
        port = card.get("app_port", 7860)
        run_lines = [
            f"===== Application Startup at {_log_stamp(building_end)} =====\n",
            f"Running on {hardware}\n",
            f"* Running on local URL:  http://0.0.0.0:{port}\n",
        ]
        run_step = (duration - duration * _BUILDING_SHARE) / len(run_lines)
        run_log = [LogLine(building_end + i * run_step, text) for i, text in enumerate(run_lines)]
    return RuntimeState(
        stage=final_stage,
        build_started=now,
        build_seconds=duration,
        error_message=error,
        build_log=build_log,
        run_log=run_log,
    )


# -- what happens to a Space's runtime --------------------------------------------------------


def refuse_static(space: Space, what: str) -> None:
    """400 for a static Space, which has no runtime to change."""
    if space.static:
        raise ApiError(400, f"Static Spaces are always running and never billed: {what}")


def rebuild(ctx: Context, space: Space, *, factory: bool = False) -> None:
    """Start a new build of HEAD (as a commit, restart or settings change does)."""
    head = space.head
    space.runtime = plan_build(
        sdk=sdk_of(ctx.store, head),
        card=card_of(ctx.store, head) or {},
        read_file=lambda path: ctx.store.read_file(head, path),
        hardware=space.hardware or "static",
        now=ctx.now(),
        build_seconds=ctx.options.build_seconds,
        commit=head.id,
        factory=factory,
    )


def rebuild_unless_paused(ctx: Context, space: Space) -> None:
    """Rebuild after a commit or a change of secrets, variables, hardware or volumes, as the
    Hub does; a paused Space stays paused until restarted explicitly."""
    if space.runtime.stage_at(ctx.now()) != "PAUSED":
        rebuild(ctx, space)


def pause(space: Space) -> None:
    refuse_static(space, "cannot be paused")
    space.runtime = fixed("PAUSED")


def restart(ctx: Context, space: Space, *, factory: bool) -> None:
    """`restart_space`: a new build, without the build cache with `factory`."""
    refuse_static(space, "cannot be restarted")
    rebuild(ctx, space, factory=factory)
