"""`spacectl status`: one row per manifest Space, from the bulk listing alone.

Pure: the caller reads the Spaces with `Hub.read_live` and no per-Space reads (one paginated
listing per owner, whatever the number of Spaces) and passes the result in.

Drift is the settings part of a plan: `compute_plan` runs on a copy of the manifest without
variables, secrets and source folders, so everything it still compares (SDK, visibility,
hardware, sleep time, dev mode, volumes, card) comes from the listing. Variables, secrets and
files would cost one to three requests per Space; `spacectl plan` compares them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spacectl.attributes import live_sleep_time
from spacectl.inputs import PlanInputs
from spacectl.manifest import Manifest
from spacectl.operations import Action
from spacectl.plan import compute_plan
from spacectl.state import FAILED_STAGES, LiveSpace, app_url, logs_command, space_page_url

ABSENT_STAGE = "absent"
UNREADABLE_STAGE = "unreadable"


@dataclass(frozen=True)
class StatusRow:
    """What `status` shows for one manifest Space.

    `stage` is the runtime stage, or `absent` when the Space is not on the Hub (or not visible to
    the token). `sleep_time` is in the manifest's spelling (-1 = never), None for a static or
    absent Space. `drift` lists the settings that differ from the manifest (plan field paths).
    """

    id: str
    declared: str  # the manifest's `state`: present or absent
    stage: str
    sdk: str | None
    requested_hardware: str | None
    current_hardware: str | None
    sleep_time: int | None
    sha: str | None
    last_modified: datetime | None
    page_url: str
    app_url: str | None
    error_message: str | None
    drift: tuple[str, ...]
    # Why the Space could not be read (keyless: its token exchange was refused), else None.
    unreadable: str | None = None

    @property
    def warning(self) -> str | None:
        """One line for a human: what is off, or None when all is well."""
        if self.unreadable:
            return f"not readable keylessly: {self.unreadable}"
        if self.declared == "absent":
            return "pending deletion (state: absent)" if self.stage != ABSENT_STAGE else None
        if self.stage == ABSENT_STAGE:
            return "not on the Hub: `spacectl apply` creates it"
        if self.drift:
            count = len(self.drift)
            return f"{count} change{'s' if count != 1 else ''} pending: {', '.join(self.drift)}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (`status --format json`)."""
        return {
            "id": self.id,
            "declared": self.declared,
            "stage": self.stage,
            "sdk": self.sdk,
            "hardware": {"requested": self.requested_hardware, "current": self.current_hardware},
            "sleep_time": self.sleep_time,
            "last_commit": {
                "sha": self.sha,
                "date": self.last_modified.isoformat() if self.last_modified else None,
            },
            "page_url": self.page_url,
            "app_url": self.app_url,
            "error_message": self.error_message,
            "drift": list(self.drift),
            "warning": self.warning,
        }


def status_rows(
    manifest: Manifest,
    live: Mapping[str, LiveSpace | None],
    *,
    endpoint: str,
    unreadable: Mapping[str, str] | None = None,
) -> list[StatusRow]:
    """One row per manifest Space, in manifest order. `live` maps ids to the listing's state
    (a missing id counts as absent); `unreadable` (lowercase ids) says why a Space could not be
    read at all (stage `unreadable`, not `absent`)."""
    unreadable = unreadable or {}
    drift = _settings_drift(manifest, live)
    rows = []
    for spec in manifest.spaces:
        space = live.get(spec.id)
        static = space is None or space.sdk == "static"
        rows.append(
            StatusRow(
                id=spec.id,
                declared=spec.state,
                stage=(space.stage or "unknown")
                if space
                else UNREADABLE_STAGE
                if spec.id.lower() in unreadable
                else ABSENT_STAGE,
                sdk=space.sdk if space else None,
                requested_hardware=space.requested_hardware if space else None,
                current_hardware=space.current_hardware if space else None,
                sleep_time=None if static or space is None else live_sleep_time(space),
                sha=space.sha if space else None,
                last_modified=space.last_modified if space else None,
                page_url=space_page_url(endpoint, spec.id),
                app_url=space.host if space and space.host else app_url(endpoint, spec.id),
                error_message=space.error_message if space else None,
                drift=drift.get(spec.id, ()) if space and spec.state == "present" else (),
                unreadable=unreadable.get(spec.id.lower()) if space is None else None,
            )
        )
    return rows


def _settings_drift(
    manifest: Manifest, live: Mapping[str, LiveSpace | None]
) -> dict[str, tuple[str, ...]]:
    # Only Spaces that exist and should: a missing one is reported as absent, not as drift (and
    # planning its creation could fail on a missing `sdk`, which is plan's error to report).
    present = tuple(
        spec.model_copy(update={"variables": {}, "secrets": {}, "source": None, "prune": False})
        for spec in manifest.spaces
        if spec.state == "present" and live.get(spec.id) is not None
    )
    settings_only = manifest.model_copy(update={"spaces": present})
    inputs = PlanInputs(
        files={spec.id: None for spec in present}, secret_digests={}, base_dir=manifest.path.parent
    )
    plan = compute_plan(settings_only, live, inputs)
    return {
        change.space_id: tuple(dict.fromkeys(_drift_name(fc.path) for fc in change.fields))
        for change in plan.changes
        if change.action is Action.UPDATE
    }


def _drift_name(path: str) -> str:
    """The attribute a field path belongs to (`volumes[/data].source` -> volumes). Without a
    source folder the only file a settings-only plan touches is the README's card."""
    name = re.split(r"[.\[/]", path, maxsplit=1)[0]
    return "card" if name == "files" else name


def format_sleep(seconds: int | None) -> str:
    """`never`, `48h`, `30m`, `90s`; `-` when there is none."""
    if seconds is None:
        return "-"
    if seconds == -1:
        return "never"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


STATUS_HEADER = ("SPACE", "STAGE", "HARDWARE", "SLEEP", "LAST COMMIT", "URL", "PAGE")


def status_cells(row: StatusRow) -> tuple[str, ...]:
    """A row's cells under STATUS_HEADER, as both status tables show them."""
    hardware = row.requested_hardware or "-"
    if row.current_hardware and row.current_hardware != row.requested_hardware:
        hardware = f"{hardware} (running {row.current_hardware})"
    commit = "-"
    if row.sha:
        when = row.last_modified.strftime("%Y-%m-%d %H:%M") if row.last_modified else ""
        commit = f"{row.sha[:7]} {when}".strip()
    stage = row.stage if row.declared == "present" else f"{row.stage} (declared absent)"
    return (
        row.id,
        stage,
        hardware,
        format_sleep(row.sleep_time),
        commit,
        row.app_url or "-",
        row.page_url,
    )


def status_notes(rows: list[StatusRow]) -> list[str]:
    """The lines under the table: `! id: ...` per failed stage, `~ id: ...` per warning."""
    notes = []
    for row in rows:
        if row.stage in FAILED_STAGES:
            reason = f": {row.error_message}" if row.error_message else ""
            notes.append(
                f"! {row.id}: {row.stage}{reason} (see `{logs_command(row.id, row.stage)}`)"
            )
        if row.warning:
            notes.append(f"~ {row.id}: {row.warning}")
    return notes


def unhealthy(rows: list[StatusRow]) -> list[StatusRow]:
    """`status --detailed-exitcode`: the rows that make it exit 2, a Space in a failed stage or
    absent from the Hub though the manifest declares it present."""
    return [
        row
        for row in rows
        if row.stage in FAILED_STAGES or (row.declared == "present" and row.stage == ABSENT_STAGE)
    ]


def render_status_text(rows: list[StatusRow]) -> str:
    """Plain aligned columns, one line per Space (for pipes and logs: grep and awk read it),
    then the notes (`status_notes`). A terminal gets the CLI's table instead."""
    table = [STATUS_HEADER, *(status_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(STATUS_HEADER))]
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    notes = status_notes(rows)
    return "\n".join([*out, "", *notes] if notes else out) + "\n"
