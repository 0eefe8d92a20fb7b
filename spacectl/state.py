"""Live state of Spaces on the Hub, as plain frozen data (and how the Hub names and reaches
them).

`hub/` builds these from `huggingface_hub` responses; nothing else talks to the Hub. Fields that
were not read (because the manifest entry does not need them) are `None`, which is different from
"read and empty". Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Runtime stages (huggingface_hub's SpaceStage). A Space in a failed stage does not serve; the
# build log explains the first three, the run log the last.
INTERMEDIATE_STAGES = frozenset(
    {"BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING_APP_STARTING"}
)
BUILD_FAILURE_STAGES = frozenset({"BUILD_ERROR", "CONFIG_ERROR", "NO_APP_FILE"})
FAILED_STAGES = BUILD_FAILURE_STAGES | {"RUNTIME_ERROR"}


def logs_command(space_id: str, stage: str | None) -> str:
    """The `spacectl logs` command that explains a stage: build log or run log."""
    build = " --build" if stage in BUILD_FAILURE_STAGES or stage in INTERMEDIATE_STAGES else ""
    return f"spacectl logs {space_id}{build}"


@dataclass(frozen=True)
class LiveVariable:
    value: str
    description: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class LiveSecret:
    """A secret as the Hub reports it: never a value, only metadata."""

    description: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class LiveVolume:
    """A mounted volume, with the field names of `huggingface_hub.Volume`."""

    type: str
    source: str
    mount_path: str
    revision: str | None = None
    read_only: bool | None = None
    path: str | None = None


@dataclass(frozen=True)
class LiveFile:
    """One file of the Space repository at its head commit.

    `blob_id` is the git blob SHA-1 of what git stores (the LFS pointer for LFS files);
    `lfs_sha256` is set when the Hub stores the file as LFS.
    """

    path: str
    size: int
    blob_id: str
    lfs_sha256: str | None = None

    def matches(self, blob_id: str, sha256: str) -> bool:
        """Whether this file holds the content with git blob SHA-1 `blob_id` and SHA-256
        `sha256`. An LFS file compares by SHA-256: its blob is the pointer, not the content."""
        if self.lfs_sha256 is not None:
            return self.lfs_sha256 == sha256
        return self.blob_id == blob_id


@dataclass(frozen=True)
class LiveSpace:
    """What the Hub reports about one Space.

    `visibility` is one of public / private / protected. `requested_hardware` is what the owner
    asked for (what the manifest is compared with); `current_hardware` is what runs now.
    """

    id: str
    sdk: str | None
    visibility: str
    sha: str | None
    stage: str | None = None
    requested_hardware: str | None = None
    current_hardware: str | None = None
    sleep_time: int | None = None
    volumes: tuple[LiveVolume, ...] = ()
    card_data: Mapping[str, Any] = field(default_factory=dict)
    subdomain: str | None = None
    host: str | None = None
    last_modified: datetime | None = None
    error_message: str | None = None
    dev_mode: bool = False
    variables: Mapping[str, LiveVariable] | None = None
    secrets: Mapping[str, LiveSecret] | None = None
    files: Mapping[str, LiveFile] | None = None
    readme: str | None = None  # README.md text, read only when the manifest's card needs a base

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]


@dataclass(frozen=True)
class ReadNeeds:
    """Which per-Space reads a manifest entry needs beyond the bulk listing."""

    variables: bool = False
    secrets: bool = False
    files: bool = False
    readme: bool = False


@dataclass(frozen=True)
class Runtime:
    stage: str | None
    requested_hardware: str | None
    current_hardware: str | None
    error_message: str | None
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class ReadmeCheck:
    """The Hub's verdict on README.md front matter: errors block a commit, warnings do not."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Identity:
    name: str
    orgs: tuple[str, ...]
    role: str | None
    raw: Mapping[str, Any]


def space_page_url(endpoint: str, space_id: str) -> str:
    """The Space's page on the Hub, as the Hub forms it."""
    return f"{endpoint.rstrip('/')}/spaces/{space_id}"


def subdomain(space_id: str) -> str:
    """The Hub's subdomain for a Space: `owner-name`, lower case, `_` and `.` turned into `-`."""
    return re.sub(r"[^a-z0-9-]", "-", space_id.replace("/", "-").lower())


PUBLIC_HUB = "https://huggingface.co"


def app_url(endpoint: str, space_id: str) -> str | None:
    """Where the running app is served: `*.hf.space` for the public Hub; None elsewhere (a
    sandbox or another Hub serves no app there, and a wrong link is worse than none)."""
    if endpoint.rstrip("/") != PUBLIC_HUB:
        return None
    return f"https://{subdomain(space_id)}.hf.space"
