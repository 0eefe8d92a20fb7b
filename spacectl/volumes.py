"""Volumes: the Hub's JSON shape of a mounted volume, normalised, and its manifest spelling.

A Space's volumes are a set keyed by mount path (their order means nothing to the Hub). The
planner compares `volumes_by_mount` of both sides; import writes `manifest_volume`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class _Volume(Protocol):
    """A volume as the manifest (`VolumeSpec`) or the Hub (`LiveVolume`) describes it."""

    @property
    def type(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def mount_path(self) -> str: ...
    @property
    def revision(self) -> str | None: ...
    @property
    def read_only(self) -> bool | None: ...
    @property
    def path(self) -> str | None: ...


def volume_dict(volume: _Volume) -> dict[str, Any]:
    """The Hub's JSON shape of a volume, normalised: `readOnly` is always present with the Hub's
    default (repositories are forced read-only, buckets default to read-write), other unset
    optional fields are dropped."""
    data: dict[str, Any] = {
        "type": volume.type,
        "source": volume.source,
        "mountPath": volume.mount_path,
    }
    if volume.revision is not None:
        data["revision"] = volume.revision
    data["readOnly"] = True if volume.type != "bucket" else bool(volume.read_only)
    if volume.path is not None:
        data["path"] = volume.path
    return data


def mount_of(data: Mapping[str, Any]) -> str:
    return str(data["mountPath"])


def volumes_by_mount(volumes: Iterable[_Volume]) -> dict[str, dict[str, Any]]:
    """Normalised volumes keyed by mount path, in mount-path order."""
    return {mount_of(d): d for d in sorted((volume_dict(v) for v in volumes), key=mount_of)}


def manifest_volume(volume: _Volume) -> dict[str, Any]:
    """A volume as a manifest entry spells it: the normalised form in the manifest's key names,
    without what goes without saying (`read_only` only for a read-only bucket: repositories are
    always read-only, buckets default to read-write)."""
    hub = volume_dict(volume)
    data: dict[str, Any] = {
        "type": hub["type"],
        "source": hub["source"],
        "mount_path": volume.mount_path,
    }
    if "revision" in hub:
        data["revision"] = hub["revision"]
    if hub["type"] == "bucket" and hub["readOnly"]:
        data["read_only"] = True
    if "path" in hub:
        data["path"] = hub["path"]
    return data
