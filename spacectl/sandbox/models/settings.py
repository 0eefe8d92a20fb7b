"""A Space's settings: visibility and gating, hardware, sleep time, secrets, variables, volumes
and dev mode; how each is validated and set, and which changes restart the Space.

Adding a setting: a field of `records.Space` (persisted as it is, with its default for older
state), its key in `shapes.runtime_json` or `shapes.space_json` if the Hub shows it, a setter
here (with `rebuild_unless_paused` if the Hub restarts the Space for it), a handler and a route;
if `create_repo`/`duplicate_space` accept it, one row of `CREATE_OPTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.hub_data import hardware_names
from spacectl.sandbox.models.runtime import rebuild_unless_paused, refuse_static
from spacectl.sandbox.records import Setting

if TYPE_CHECKING:
    from spacectl.sandbox.context import Context
    from spacectl.sandbox.records import Space

FREE_SLEEP_SECONDS = 172_800  # cpu-basic Spaces sleep after 48 h; not configurable
VISIBILITIES = ("public", "private", "protected")
REGIONS = ("us", "eu")  # where the Hub can host a Space (create_repo's `region`)
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STATIC_VOLUMES = "Volumes are not supported on static Spaces"


# -- values ----------------------------------------------------------------------------------


def visibility(data: dict[str, Any], default: str) -> str:
    """The visibility a body asks for (`visibility`, else the older `private`), or `default`."""
    value = data.get("visibility")
    if value is None:
        private = data.get("private")
        if private is None:
            return default
        if not isinstance(private, bool):
            raise ApiError(400, '"private" must be a boolean')
        return "private" if private else "public"
    if value not in VISIBILITIES:
        raise ApiError(400, '"visibility" must be one of public, private, protected')
    return str(value)


def _flavor(value: Any) -> str:
    if not isinstance(value, str) or value not in hardware_names():
        raise ApiError(400, f"Invalid hardware flavor: {value}")
    return value


def _sleep_seconds(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or (value < 0 and value != -1):
        raise ApiError(400, "Sleep time must be a number of seconds, or -1 to never sleep")
    return value


def _volumes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ApiError(400, '"volumes" must be a non-empty list')
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError(400, "Each volume must be an object")
        kind = item.get("type", "model")
        if kind not in ("bucket", "model", "dataset", "space"):
            raise ApiError(400, f"Invalid volume type: {kind}")
        source, mount = item.get("source"), item.get("mountPath")
        if not isinstance(source, str) or not source:
            raise ApiError(400, "Each volume needs a source")
        if not isinstance(mount, str) or not mount.startswith("/"):
            raise ApiError(400, "Each volume needs an absolute mountPath")
        volume: dict[str, Any] = {"type": kind, "source": source, "mountPath": mount}
        for optional in ("revision", "path"):
            if item.get(optional) is not None:
                volume[optional] = item[optional]
        # Repository volumes are always mounted read-only on the Hub.
        read_only = True if kind != "bucket" else bool(item.get("readOnly", False))
        volume["readOnly"] = read_only
        result.append(volume)
    return result


def _check_setting(data: dict[str, Any], key: str, kind: str) -> None:
    """The body of a secret or variable write: a valid key, a string value and description."""
    if not _KEY_RE.match(key):
        raise ApiError(400, f'Invalid {kind} key "{key}": use letters, digits and _')
    if not isinstance(data.get("value"), str):
        raise ApiError(400, f'"value" of {kind} "{key}" must be a string')
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise ApiError(400, '"description" must be a string')


# -- create_repo and duplicate_space options -------------------------------------------------


def _create_hardware(space: Space, value: Any, sdk: str, now: float) -> None:
    if value is not None:
        if sdk == "static":
            raise ApiError(400, "Static Spaces do not run on hardware")
        space.hardware = _flavor(value)


def _create_sleep(space: Space, value: Any, sdk: str, now: float) -> None:
    if value is not None:
        space.sleep_time = _sleep_seconds(value)


def _setting_items(value: Any, name: str) -> list[dict[str, Any]]:
    items = value or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ApiError(400, f'"{name}" must be a list of objects')
    for item in items:
        key = item.get("key")
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise ApiError(400, f'Invalid {name[:-1]} key: "{key}"')
        if not isinstance(item.get("value", ""), str):
            raise ApiError(400, f'Value of {name[:-1]} "{key}" must be a string')
    return items


def _create_secrets(space: Space, value: Any, sdk: str, now: float) -> None:
    for item in _setting_items(value, "secrets"):
        space.secrets[item["key"]] = Setting(item.get("value", ""), item.get("description"), now)


def _create_variables(space: Space, value: Any, sdk: str, now: float) -> None:
    for item in _setting_items(value, "variables"):
        space.variables[item["key"]] = Setting(item.get("value", ""), item.get("description"), now)


def _create_region(space: Space, value: Any, sdk: str, now: float) -> None:
    if value is not None:
        if value not in REGIONS:
            raise ApiError(400, f'"region" must be one of {", ".join(REGIONS)}')
        space.region = str(value)


def _create_volumes(space: Space, value: Any, sdk: str, now: float) -> None:
    if value:
        if sdk == "static":
            raise ApiError(400, _STATIC_VOLUMES)
        space.volumes = _volumes(value)


# Body key of create_repo/duplicate_space -> how it sets the new Space (None when absent), in
# the order the Hub checks them.
CREATE_OPTIONS: dict[str, Callable[[Space, Any, str, float], None]] = {
    "hardware": _create_hardware,
    "sleepTimeSeconds": _create_sleep,
    "secrets": _create_secrets,
    "variables": _create_variables,
    "volumes": _create_volumes,
    "region": _create_region,
}


def apply_create_options(space: Space, data: dict[str, Any], sdk: str, now: float) -> None:
    """Set the options of a create/duplicate body on the new Space (of `sdk`)."""
    for key, apply in CREATE_OPTIONS.items():
        apply(space, data.get(key), sdk, now)


# -- changes to an existing Space ------------------------------------------------------------


def update_repo_settings(space: Space, data: dict[str, Any]) -> None:
    """`update_repo_settings`: `gated` and the visibility."""
    if "gated" in data:
        if data["gated"] not in ("auto", "manual", False):
            raise ApiError(400, '"gated" must be "auto", "manual" or false')
        space.gated = data["gated"]
    if "visibility" in data or "private" in data:
        space.visibility = visibility(data, space.visibility)


def require_member(ctx: Context, space: Space, what: str) -> None:
    """403 unless the caller may read the Space's `what` (its secrets or variables)."""
    if not ctx.manages(space):
        raise ApiError(403, f"You don't have the rights to read {what} of {space.id}")


def set_secret(ctx: Context, space: Space, key: str, data: dict[str, Any]) -> None:
    """Add or replace a secret (its description too); the Space restarts."""
    _check_setting(data, key, "secret")
    space.secrets[key] = Setting(data["value"], data.get("description"), ctx.now())
    rebuild_unless_paused(ctx, space)


def delete_secret(ctx: Context, space: Space, key: str) -> None:
    """Delete a secret; a missing one is no error (and no restart), as on the Hub."""
    if space.secrets.pop(key, None) is not None:
        rebuild_unless_paused(ctx, space)


def set_variable(ctx: Context, space: Space, key: str, data: dict[str, Any]) -> None:
    """Add or replace a variable, keeping its description unless one is given; restarts."""
    _check_setting(data, key, "variable")
    old = space.variables.get(key)
    description = data.get("description", old.description if old else None)
    space.variables[key] = Setting(data["value"], description, ctx.now())
    rebuild_unless_paused(ctx, space)


def delete_variable(ctx: Context, space: Space, key: str) -> None:
    if space.variables.pop(key, None) is not None:
        rebuild_unless_paused(ctx, space)


def request_hardware(ctx: Context, space: Space, data: dict[str, Any]) -> None:
    """`request_space_hardware`: `flavor` and an optional `sleepTimeSeconds`; a new flavour
    restarts the Space."""
    refuse_static(space, "cannot change hardware")
    flavor = _flavor(data.get("flavor"))
    if data.get("sleepTimeSeconds") is not None:
        space.sleep_time = _sleep_seconds(data["sleepTimeSeconds"])
    changed = space.hardware != flavor
    space.hardware = flavor
    if changed:
        rebuild_unless_paused(ctx, space)


def set_sleep_time(space: Space, seconds: Any) -> None:
    refuse_static(space, "they do not sleep")
    space.sleep_time = _sleep_seconds(seconds)


def set_dev_mode(ctx: Context, space: Space, enabled: Any) -> None:
    """Dev mode on or off. The Hub runs a dev-mode Space from its own image (SSH, VS Code), so
    a change restarts the Space; setting the mode it already has changes nothing."""
    refuse_static(space, "dev mode is not available")
    if not isinstance(enabled, bool):
        raise ApiError(400, '"enabled" must be a boolean')
    if space.dev_mode != enabled:
        space.dev_mode = enabled
        rebuild_unless_paused(ctx, space)


def set_volumes(ctx: Context, space: Space, value: Any) -> None:
    """Replace the volumes; restarts."""
    if space.static:
        raise ApiError(400, _STATIC_VOLUMES)
    space.volumes = _volumes(value)
    rebuild_unless_paused(ctx, space)


def delete_volumes(ctx: Context, space: Space) -> None:
    """Remove every volume (400 without any); restarts."""
    if space.static:
        raise ApiError(400, _STATIC_VOLUMES)
    if not space.volumes:
        raise ApiError(400, f"Space {space.id} has no volumes to delete")
    space.volumes = None
    rebuild_unless_paused(ctx, space)
