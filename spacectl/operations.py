"""The change model's vocabulary: actions, field changes and the operations apply executes.

Plain frozen data, no behaviour beyond a one-line description per operation (never a secret value).
`attributes.py` decides which operations a difference needs; `apply.py` executes them with one
`match`; `planjson.py` gives them their JSON form, where `kind` is each type's spelling.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

PROTECTED_FILES = frozenset({".gitattributes", "README.md"})
JSON: TypeAlias = Any


class Action(str, enum.Enum):
    """What apply does to one object. The values are the JSON spelling."""

    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class _Absent:
    """Marks a value that does not exist on one side of a FieldChange (JSON: omitted)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """One attribute that differs. `before`/`after` are ABSENT when the attribute is created or
    removed. A sensitive change never carries a value: both sides are ABSENT or None."""

    path: str
    action: Action
    before: JSON = ABSENT
    after: JSON = ABSENT
    sensitive: bool = False
    reason: str = ""


# --- operations: what apply executes --------------------------------------------------------------
# Each operation's `kind` is its JSON spelling, fixed per type (not an init argument).


@dataclass(frozen=True)
class SecretWrite:
    """A secret to set. The value is read from `from_env` at apply time; `digest` (when the
    HMAC key is set) lets apply check the value is still the one that was planned."""

    key: str
    from_env: str
    description: str | None
    digest: str | None


@dataclass(frozen=True)
class FileAdd:
    """A file to upload. `source` is a file on disk; `content` is generated text (README.md)."""

    path: str
    size: int
    blob_id: str
    sha256: str
    source: str | None = None
    content: str | None = None


@dataclass(frozen=True)
class CreateSpace:
    """Create the Space with every setting the create call accepts (`attributes` fill these)."""

    sdk: str
    visibility: str | None = None
    hardware: str | None = None
    sleep_time: int | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[SecretWrite, ...] = ()
    volumes: tuple[Mapping[str, JSON], ...] | None = None
    template: str | None = None  # owner/name duplicated instead of an empty create
    kind: Literal["create_space"] = field(default="create_space", init=False)

    def describe(self) -> str:
        if self.template:
            return f"duplicate {self.template}"
        return f"create Space (sdk={self.sdk})"


@dataclass(frozen=True)
class SetVisibility:
    visibility: str
    kind: Literal["set_visibility"] = field(default="set_visibility", init=False)

    def describe(self) -> str:
        return f"set visibility {self.visibility}"


@dataclass(frozen=True)
class SetVariable:
    key: str
    value: str
    kind: Literal["set_variable"] = field(default="set_variable", init=False)

    def describe(self) -> str:
        return f"set variable {self.key}"


@dataclass(frozen=True)
class DeleteVariable:
    key: str
    kind: Literal["delete_variable"] = field(default="delete_variable", init=False)

    def describe(self) -> str:
        return f"delete variable {self.key}"


@dataclass(frozen=True)
class SetSecret:
    secret: SecretWrite
    kind: Literal["set_secret"] = field(default="set_secret", init=False)

    def describe(self) -> str:
        return f"set secret {self.secret.key}"


@dataclass(frozen=True)
class DeleteSecret:
    key: str
    kind: Literal["delete_secret"] = field(default="delete_secret", init=False)

    def describe(self) -> str:
        return f"delete secret {self.key}"


@dataclass(frozen=True)
class SetVolumes:
    volumes: tuple[Mapping[str, JSON], ...]
    kind: Literal["set_volumes"] = field(default="set_volumes", init=False)

    def describe(self) -> str:
        return f"set {len(self.volumes)} volume(s)"


@dataclass(frozen=True)
class DeleteVolumes:
    kind: Literal["delete_volumes"] = field(default="delete_volumes", init=False)

    def describe(self) -> str:
        return "delete volumes"


@dataclass(frozen=True)
class SetHardware:
    """`hardware` None means only the sleep time changes (set_space_sleep_time)."""

    hardware: str | None
    sleep_time: int | None
    kind: Literal["set_hardware"] = field(default="set_hardware", init=False)

    def describe(self) -> str:
        if self.hardware is None:
            return f"set sleep time {self.sleep_time}"
        with_sleep = f" with sleep time {self.sleep_time}" if self.sleep_time is not None else ""
        return f"request hardware {self.hardware}{with_sleep}"


@dataclass(frozen=True)
class SetDevMode:
    enabled: bool
    kind: Literal["set_dev_mode"] = field(default="set_dev_mode", init=False)

    def describe(self) -> str:
        return f"{'enable' if self.enabled else 'disable'} dev mode"


@dataclass(frozen=True)
class Commit:
    """One commit carrying every planned file change. `parent` is the head the plan saw
    (None for a Space created by this plan: apply reads the head after the create).

    `mirror_new_space`: the Space is created by this plan and its files mirror a source folder,
    so the files the Hub's Space template adds (a static Space's index.html and style.css) are
    deleted in the same commit unless the folder has them. The plan cannot list them: the Space
    does not exist yet. `.gitattributes` and README.md are kept."""

    parent: str | None
    message: str
    additions: tuple[FileAdd, ...]
    deletions: tuple[str, ...]
    mirror_new_space: bool = False
    kind: Literal["commit"] = field(default="commit", init=False)

    def describe(self) -> str:
        return f"commit {len(self.additions)} file(s), delete {len(self.deletions)}"


@dataclass(frozen=True)
class DeleteSpace:
    kind: Literal["delete_space"] = field(default="delete_space", init=False)

    def describe(self) -> str:
        return "delete Space"


@dataclass(frozen=True)
class RestartSpace:
    """The manifest's `restart`: after the Space's other changes, restart it (a factory reboot
    rebuilds the image without cache)."""

    factory: bool
    kind: Literal["restart_space"] = field(default="restart_space", init=False)

    def describe(self) -> str:
        return "factory reboot" if self.factory else "restart"


Operation: TypeAlias = (
    CreateSpace
    | SetVisibility
    | SetVariable
    | DeleteVariable
    | SetSecret
    | DeleteSecret
    | SetVolumes
    | DeleteVolumes
    | SetHardware
    | SetDevMode
    | Commit
    | RestartSpace
    | DeleteSpace
)
