"""The Hub's writes, a part of `Hub` (spacectl.hub): creates, settings, secrets, commits,
branches (apply's lock) and deletes, each through `Hub._call` (error translation, retries)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import HfHubHTTPError

from spacectl.errors import ConflictError, HubError, NotFoundError
from spacectl.hub.client import SERVER_CLOCK
from spacectl.hub.convert import _volume
from spacectl.operations import CreateSpace
from spacectl.port import SecretToWrite, Upload
from spacectl.state import LiveFile

T = TypeVar("T")


class _Core(Protocol):
    """What the writes use of `Hub`: its client, its one call path and two of its reads."""

    api: HfApi
    _create_lock: threading.Lock

    def _call(self, what: str, fn: Callable[[], T], *, retry: bool = True) -> T: ...
    def _note(self, message: str) -> None: ...
    def head(self, space_id: str) -> str | None: ...
    def list_files(self, space_id: str, revision: str) -> dict[str, LiveFile]: ...


class HubWrites:
    """`Hub`'s write methods (a mixin: `self` is the `Hub`)."""

    def create_space(
        self: _Core, space_id: str, create: CreateSpace, secrets: Sequence[SecretToWrite]
    ) -> None:
        """Create a Space with every setting `create` carries (the create call accepts them all);
        `secrets` are the values of `create.secrets`.

        Creates are serialised: the Hub rejects concurrent creates by one user. A 409 on a retry
        means our first attempt landed, which is success."""
        attempts = 0

        def run() -> None:
            nonlocal attempts
            attempts += 1
            settings: dict[str, Any] = dict(
                visibility=create.visibility,
                space_hardware=create.hardware,
                space_sleep_time=create.sleep_time,
                space_variables=[{"key": k, "value": v} for k, v in create.variables.items()]
                or None,
                space_secrets=[s.payload(SERVER_CLOCK.now()) for s in secrets] or None,
                space_volumes=[_volume(v) for v in create.volumes] if create.volumes else None,
            )
            try:
                if create.template:
                    # The template's files and history, with the manifest's settings, in one call.
                    self.api.duplicate_repo(
                        create.template, space_id, repo_type="space", **settings
                    )
                else:
                    self.api.create_repo(
                        space_id, repo_type="space", space_sdk=create.sdk, **settings
                    )
            except HfHubHTTPError as exc:
                if attempts > 1 and exc.response is not None and exc.response.status_code == 409:
                    self._note(f"{space_id}: an earlier attempt of the create landed")
                    return
                raise

        with self._create_lock:
            try:
                self._call(f"{space_id}: create", run)
            except ConflictError as exc:
                raise ConflictError(
                    f"{space_id}: cannot create it: a Space with this name already exists (created "
                    "since the plan, or not visible to this token)",
                    status=exc.status,
                    hint="run `spacectl plan` again; if it still plans a create, the token cannot "
                    "read that Space",
                ) from None

    def set_visibility(self: _Core, space_id: str, visibility: str) -> None:
        self._call(
            f"{space_id}: set visibility",
            lambda: self.api.update_repo_settings(
                space_id,
                repo_type="space",
                visibility=visibility,  # type: ignore[arg-type]
            ),
        )

    def set_variable(self: _Core, space_id: str, key: str, value: str) -> None:
        self._call(
            f"{space_id}: set variable {key}",
            lambda: self.api.add_space_variable(space_id, key, value),
        )

    def delete_variable(self: _Core, space_id: str, key: str) -> None:
        self._call(
            f"{space_id}: delete variable {key}",
            lambda: self.api.delete_space_variable(space_id, key),
        )

    def set_secret(self: _Core, space_id: str, secret: SecretToWrite) -> None:
        """Each attempt stamps the description with the Hub's time at that attempt, so a write
        that lands after retries still matches its `updatedAt`."""
        self._call(
            f"{space_id}: set secret {secret.key}",
            lambda: self.api.add_space_secret(
                space_id,
                secret.key,
                secret.value,
                description=secret.describe(SERVER_CLOCK.now()),
            ),
        )

    def delete_secret(self: _Core, space_id: str, key: str) -> None:
        self._call(
            f"{space_id}: delete secret {key}",
            lambda: self.api.delete_space_secret(space_id, key),
        )

    def set_volumes(self: _Core, space_id: str, volumes: Sequence[Mapping[str, Any]]) -> None:
        self._call(
            f"{space_id}: set volumes",
            lambda: self.api.set_space_volumes(space_id, [_volume(v) for v in volumes]),
        )

    def delete_volumes(self: _Core, space_id: str) -> None:
        self._call(f"{space_id}: delete volumes", lambda: self.api.delete_space_volumes(space_id))

    def set_hardware(
        self: _Core, space_id: str, hardware: str | None, sleep_time: int | None
    ) -> None:
        if hardware is None:
            assert sleep_time is not None
            self._call(
                f"{space_id}: set sleep time",
                lambda: self.api.set_space_sleep_time(space_id, sleep_time),
            )
            return
        self._call(
            f"{space_id}: request hardware {hardware}",
            lambda: self.api.request_space_hardware(
                space_id,
                hardware,  # type: ignore[arg-type]
                sleep_time=sleep_time,
            ),
        )

    def set_dev_mode(self: _Core, space_id: str, enabled: bool) -> None:
        switch = self.api.enable_space_dev_mode if enabled else self.api.disable_space_dev_mode
        self._call(
            f"{space_id}: {'enable' if enabled else 'disable'} dev mode", lambda: switch(space_id)
        )

    def restart_space(self: _Core, space_id: str, *, factory: bool) -> None:
        what = "factory reboot" if factory else "restart"
        self._call(
            f"{space_id}: {what}",
            lambda: self.api.restart_space(space_id, factory_reboot=factory),
        )

    def commit(
        self: _Core,
        space_id: str,
        *,
        parent: str | None,
        message: str,
        additions: Sequence[Upload],
        deletions: Sequence[str],
    ) -> str:
        """One commit on top of `parent` (None: on top of the branch's head, for a Space created
        a moment ago); returns the new head.

        A retry that gets 412 (the branch moved) or 404 checks whether the head already carries
        exactly these files (`Upload.landed_in`: LFS files by SHA-256, others by blob SHA-1):
        then an earlier attempt landed and the commit is not made twice."""
        attempts = 0

        def landed() -> str | None:
            head = self.head(space_id)
            if head is None or head == parent:
                return None
            files = self.list_files(space_id, head)
            if not all(add.landed_in(files) for add in additions):
                return None
            if any(path in files for path in deletions):
                return None
            return head

        def run() -> str:
            nonlocal attempts
            attempts += 1
            operations: list[CommitOperationAdd | CommitOperationDelete] = [
                CommitOperationDelete(path_in_repo=path) for path in deletions
            ]
            operations += [
                CommitOperationAdd(path_in_repo=add.path, path_or_fileobj=add.data)
                for add in additions
            ]
            try:
                info = self.api.create_commit(
                    space_id,
                    operations,
                    commit_message=message,
                    repo_type="space",
                    parent_commit=parent,
                )
            except HfHubHTTPError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if attempts > 1 and status in (404, 412):
                    head = landed()
                    if head is not None:
                        self._note(
                            f"{space_id}: an earlier attempt of the commit landed "
                            f"({head[:8]}); not committing again"
                        )
                        return head
                raise
            return info.oid

        return self._call(f"{space_id}: commit", run)

    def create_branch(self: _Core, space_id: str, branch: str) -> None:
        """A branch at `main`'s head. ConflictError when it exists already (the Hub's 409
        "Reference already exists"), the one create-if-absent the Hub offers a Space-scoped
        token; a 409 on a retry means our earlier attempt landed, which is success."""
        attempts = 0

        def run() -> None:
            nonlocal attempts
            attempts += 1
            try:
                self.api.create_branch(space_id, branch=branch, repo_type="space")
            except HfHubHTTPError as exc:
                if attempts > 1 and exc.response is not None and exc.response.status_code == 409:
                    self._note(f"{space_id}: an earlier attempt to create {branch} landed")
                    return
                raise

        self._call(f"{space_id}: create branch {branch}", run)

    def delete_branch(self: _Core, space_id: str, branch: str) -> bool:
        """Delete the branch; False when there was none (or no such Space): the state asked."""
        try:
            self._call(
                f"{space_id}: delete branch {branch}",
                lambda: self.api.delete_branch(space_id, branch=branch, repo_type="space"),
            )
        except HubError as exc:
            # A missing revision is a plain 404 here (RevisionNotFound), not a NotFoundError.
            if isinstance(exc, NotFoundError) or exc.status == 404:
                return False
            raise
        return True

    def delete_space(self: _Core, space_id: str) -> None:
        self._call(
            f"{space_id}: delete",
            lambda: self.api.delete_repo(space_id, repo_type="space", missing_ok=True),
        )
