"""The client's answers converted into spacectl's plain live-state records (state.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from huggingface_hub import (
    Volume,
)

from spacectl.state import (
    LiveSpace,
    LiveVolume,
    Runtime,
)


def _volume(data: Mapping[str, Any]) -> Volume:
    return Volume(**dict(data))


def _runtime(rt: Any) -> Runtime:
    raw = dict(getattr(rt, "raw", {}) or {})
    return Runtime(
        stage=getattr(rt, "stage", None),
        requested_hardware=getattr(rt, "requested_hardware", None),
        current_hardware=getattr(rt, "hardware", None),
        error_message=raw.get("errorMessage"),
        raw=raw,
    )


def _visibility(info: Any) -> str:
    explicit = getattr(info, "visibility", None)
    if explicit in ("public", "private", "protected"):
        return str(explicit)
    return "private" if getattr(info, "private", False) else "public"


def _live_from_info(info: Any) -> LiveSpace:
    runtime = getattr(info, "runtime", None)
    rt = _runtime(runtime) if runtime is not None else None
    card = getattr(info, "card_data", None)
    card_dict = card.to_dict() if card is not None else {}
    volumes = tuple(
        LiveVolume(v.type, v.source, v.mount_path, v.revision, v.read_only, v.path)
        for v in (getattr(runtime, "volumes", None) or [])
    )
    last_modified = getattr(info, "last_modified", None)
    subdomain = getattr(info, "subdomain", None)
    host = getattr(info, "host", None)  # status falls back to state.app_url
    return LiveSpace(
        id=info.id,
        sdk=getattr(info, "sdk", None),
        visibility=_visibility(info),
        sha=getattr(info, "sha", None),
        stage=rt.stage if rt else None,
        requested_hardware=rt.requested_hardware if rt else None,
        current_hardware=rt.current_hardware if rt else None,
        sleep_time=getattr(runtime, "sleep_time", None),
        volumes=volumes,
        card_data=card_dict,
        subdomain=subdomain,
        host=host,
        last_modified=last_modified if isinstance(last_modified, datetime) else None,
        error_message=rt.error_message if rt else None,
        dev_mode=bool(getattr(runtime, "dev_mode", False)),
    )


def _listed(message: str) -> tuple[str, ...]:
    """The `- item` lines of a client message (its first line is a title), else the message."""
    items = tuple(
        line.strip()[2:] for line in message.splitlines() if line.strip().startswith("- ")
    )
    return items or (message.strip(),)
