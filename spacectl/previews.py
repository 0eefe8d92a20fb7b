"""Preview Spaces (`spacectl preview up|down|list|prune`): a copy of the manifest's Spaces per
pull request, and the marker that makes them safe to delete.

A preview of ID `pr-7` is the manifest (without --env) with each chosen Space renamed by the
`previews.name` pattern (`{name}-{id}`: `platform-pr-7`) and changed the way a throw-away copy
should be: `previews.visibility` (private by default), `previews.hardware` (default cpu-basic,
the cheapest; a static Space has none), no sleep time, dev mode or volumes, only the secrets
`previews.secrets` lists (none by default), never protected or pruned. The files and variables
are the manifest's, plus the marker variable `SPACECTL_PREVIEW=<ID>`.

The marker is the only licence to delete: `down` and `prune` delete a Space only when its
variables carry the marker (with that ID, for `down`) and it is not a Space of the manifest,
whatever its name. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from spacectl.errors import ConfigError, ManifestError
from spacectl.manifest import FREE_HARDWARE, Manifest, SpaceSpec
from spacectl.state import LiveSpace

MARKER = "SPACECTL_PREVIEW"
_ID = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?!-)){0,30}")
_AGE = re.compile(r"(\d+)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def check_id(preview_id: str) -> str:
    """`preview_id` when it can name previews (lower-case letters, digits, single '-')."""
    if not _ID.fullmatch(preview_id) or preview_id.endswith("-"):
        raise ConfigError(
            f"preview ID {preview_id!r} must be 1 to 31 lower-case letters, digits and single "
            "'-' (e.g. pr-42)"
        )
    return preview_id


def parse_age(text: str) -> timedelta:
    """`7d`, `12h` or `30m` as a duration."""
    match = _AGE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(f"--older-than {text!r}: write a number and d, h or m, e.g. 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def pattern_problem(pattern: str) -> str:
    """Why `previews.name` cannot name previews ('' when it can)."""
    if "{name}" not in pattern or "{id}" not in pattern:
        return "The pattern must contain both {name} and {id}, e.g. '{name}-{id}'."
    if "{" in pattern.replace("{name}", "").replace("{id}", ""):
        return "Only {name} and {id} may appear in braces in the name pattern."
    return ""


def _preview_name(manifest: Manifest, spec: SpaceSpec, preview_id: str) -> str:
    name = manifest.previews.name.replace("{name}", spec.name).replace("{id}", preview_id)
    return f"{spec.owner}/{name}"


@dataclass(frozen=True)
class Preview:
    """The manifest of preview `preview_id` and, per preview Space, the Space it copies."""

    manifest: Manifest
    copies: Mapping[str, str]


def preview_manifest(
    manifest: Manifest, preview_id: str, targets: Iterable[str] | None = None
) -> Preview:
    """Preview `preview_id` of the manifest's present Spaces (those `targets` names: a name or
    owner/name each; every one when None). Raises when a target names none, or when a preview
    Space would be a Space of the manifest."""
    chosen = [spec for spec in manifest.spaces if spec.state == "present"]
    if targets:
        wanted = set(targets)
        chosen = [s for s in chosen if s.id in wanted or s.name in wanted]
        known = {s.id for s in chosen} | {s.name for s in chosen}
        missing = sorted(wanted - known)
        if missing:
            raise ConfigError(f"--target {', '.join(missing)} names no Space of the manifest")
    own = {spec.id.lower() for spec in manifest.spaces}
    settings = manifest.previews
    specs = []
    copies = {}
    for spec in chosen:
        space_id = _preview_name(manifest, spec, preview_id)
        if space_id.lower() in own:
            raise ManifestError(
                f"preview {preview_id} of {spec.id} would be {space_id}, a Space of the manifest",
                hint="change previews.name or the preview ID",
            )
        copies[space_id] = spec.id
        specs.append(
            spec.model_copy(
                update={
                    "id": space_id,
                    "visibility": settings.visibility,
                    "hardware": None
                    if spec.sdk == "static"
                    else settings.hardware or FREE_HARDWARE,
                    "sleep_time": None,
                    "dev_mode": None,
                    "volumes": None,
                    "variables": {**spec.variables, MARKER: preview_id},
                    "secrets": {k: v for k, v in spec.secrets.items() if k in settings.secrets},
                    "protect": False,
                    "prune": False,
                    "ignore_changes": (),
                }
            )
        )
    return Preview(manifest.model_copy(update={"spaces": tuple(specs)}), copies)


def is_preview(live: LiveSpace, manifest: Manifest, preview_id: str | None = None) -> bool:
    """Whether `live` (read with its variables) may be deleted as a preview (of `preview_id`,
    or of any ID when None): it carries the marker and is no Space of the manifest."""
    if live.id.lower() in {spec.id.lower() for spec in manifest.spaces}:
        return False
    marker = (live.variables or {}).get(MARKER)
    if marker is None:
        return False
    return preview_id is None or marker.value == preview_id


def preview_id_of(live: LiveSpace) -> str | None:
    marker = (live.variables or {}).get(MARKER)
    return marker.value if marker is not None else None


def expired(live: LiveSpace, now: datetime, older_than: timedelta) -> bool:
    """Whether the preview was last updated (its last commit) longer than `older_than` ago."""
    return live.last_modified is not None and now - live.last_modified > older_than
