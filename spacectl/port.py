"""`HubPort`: the Hub as apply, status, doctor and import use it (a typing.Protocol).

`hub.Hub` is the one real adapter (huggingface_hub over HTTP); `tests/fakehub.py` is an in-memory
one for unit tests of the logic above it (Terraform's MockProvider). The contract every adapter
keeps:
- errors are spacectl's `HubError` tree (`AuthError`, `NotFoundError`, `ConflictError`,
  `TransientHubError`), never a client exception; transient failures were already retried;
- reads return `state.py` data; a Space the token cannot see is None (`read_space`) or missing
  (`list_owner`);
- writes set a state (repeating one is harmless), except `create_space` (a Space that exists is
  a ConflictError), `create_branch` (a branch that exists is a ConflictError: apply's per-Space
  lock, locking.py) and `commit` (on top of `parent`; a moved branch is a ConflictError, unless
  the head already carries exactly the expected files: a retried commit whose first answer was
  lost has landed, and its head is returned).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from spacectl.operations import CreateSpace
from spacectl.results import AppAnswer
from spacectl.state import Identity, LiveFile, LiveSpace, ReadmeCheck, ReadNeeds, Runtime


@dataclass(frozen=True)
class SecretToWrite:
    """A secret value and how to describe it at the moment of writing (see secrets.py)."""

    key: str
    value: str = field(repr=False)
    describe: Callable[[datetime], str] = field(repr=False)

    def payload(self, now: datetime) -> dict[str, str]:
        return {"key": self.key, "value": self.value, "description": self.describe(now)}


@dataclass(frozen=True)
class Upload:
    """One file of a commit: `data` is what is uploaded (bytes, or a private copy on disk whose
    content was checked), `blob_id`/`sha256` what the head must carry once it landed."""

    path: str
    data: bytes | Path
    blob_id: str
    sha256: str

    def landed_in(self, files: Mapping[str, LiveFile]) -> bool:
        live = files.get(self.path)
        return live is not None and live.matches(self.blob_id, self.sha256)


class CatalogPort(Protocol):
    """Who the token is and what the Hub offers: all `doctor` needs to read."""

    endpoint: str

    def whoami(self) -> Identity: ...
    def hardware_flavors(self) -> list[str]: ...
    def validate_readme(self, content: str) -> ReadmeCheck: ...


class HubPort(CatalogPort, Protocol):
    """The whole Hub as apply, status and import use it."""

    identity: str
    token: str | None  # the token in use: never a secret's value (`inputs.check_credentials`)

    def can_write(self, space_id: str) -> bool: ...

    # reads
    def list_owner(self, owner: str) -> dict[str, LiveSpace]: ...
    def read_live(
        self,
        needs: Mapping[str, ReadNeeds | Callable[[LiveSpace], ReadNeeds]],
        *,
        parallelism: int = 8,
        listed: Mapping[str, LiveSpace] | None = None,
    ) -> dict[str, LiveSpace | None]: ...
    def read_space(self, space_id: str, needs: ReadNeeds) -> LiveSpace | None: ...
    def head(self, space_id: str) -> str | None: ...
    def commit_ids(self, space_id: str) -> list[str]: ...
    def list_files(self, space_id: str, revision: str) -> dict[str, LiveFile]: ...
    def read_text(self, space_id: str, path: str, revision: str) -> str | None: ...
    def runtime(self, space_id: str) -> Runtime: ...
    def runtimes(self, owner: str) -> dict[str, Runtime]: ...
    def logs(self, space_id: str, *, build: bool, follow: bool = False) -> Iterator[str]: ...
    def download_space(self, space_id: str, revision: str | None, folder: Path) -> Path: ...
    def get_app(self, space_id: str, path: str, *, timeout: float) -> AppAnswer: ...

    # writes
    def create_space(
        self, space_id: str, create: CreateSpace, secrets: Sequence[SecretToWrite]
    ) -> None: ...
    def set_visibility(self, space_id: str, visibility: str) -> None: ...
    def set_variable(self, space_id: str, key: str, value: str) -> None: ...
    def delete_variable(self, space_id: str, key: str) -> None: ...
    def set_secret(self, space_id: str, secret: SecretToWrite) -> None: ...
    def delete_secret(self, space_id: str, key: str) -> None: ...
    def set_volumes(self, space_id: str, volumes: Sequence[Mapping[str, Any]]) -> None: ...
    def delete_volumes(self, space_id: str) -> None: ...
    def set_hardware(self, space_id: str, hardware: str | None, sleep_time: int | None) -> None: ...
    def set_dev_mode(self, space_id: str, enabled: bool) -> None: ...
    def commit(
        self,
        space_id: str,
        *,
        parent: str | None,
        message: str,
        additions: Sequence[Upload],
        deletions: Sequence[str],
    ) -> str: ...
    def delete_space(self, space_id: str) -> None: ...
    def create_branch(self, space_id: str, branch: str) -> None: ...
    def delete_branch(self, space_id: str, branch: str) -> bool: ...
    def restart_space(self, space_id: str, *, factory: bool) -> None: ...
