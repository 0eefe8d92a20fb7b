"""An in-memory `HubPort` for unit tests of apply's logic (Terraform's MockProvider).

It keeps the port's contract (spacectl errors, None for an invisible Space, a commit on top of
`parent` or a ConflictError) and records every write in `calls`, in order. It is never the only
proof of a behaviour: tests/e2e runs the same flows through the real client and the sandbox.

Knobs:
- `fail[(space_id, method)] = error`: that write raises `error` (once per call, every call).
- `ignored_on_create = {"hardware", "variables", ...}`: create_space drops those settings, as
  the Hub does with some (apply must read back and set them).
- `template = {path: bytes}`: extra files a created Space starts with (the Hub's template),
  `template_of[space_id]` another one for that Space; `listed` records each `list_files` call.
- `stages[space_id] = [stage, ...]`: what successive runtime reads report (the last one stays);
  `runtime_reads` records each read: a Space's id, or `list:OWNER` for a listing.
- `lose_commit_answer = {space_id}`: the commit lands, its answer is lost and the adapter's retry
  gets 412; as `hub.Hub` does, the retry then checks whether the head carries the uploads.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import Any

from spacectl.errors import ConflictError, HubError, NotFoundError
from spacectl.operations import CreateSpace
from spacectl.port import SecretToWrite, Upload
from spacectl.results import AppAnswer
from spacectl.state import (
    Identity,
    LiveFile,
    LiveSecret,
    LiveSpace,
    LiveVariable,
    LiveVolume,
    ReadmeCheck,
    ReadNeeds,
    Runtime,
)

_shas = (hashlib.sha1(str(n).encode()).hexdigest() for n in itertools.count())


def git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def stored_file(path: str, data: bytes) -> LiveFile:
    """As the Hub stores it: binary content as LFS (the blob is the pointer), text as a blob."""
    if b"\0" not in data:
        return LiveFile(path, len(data), git_blob(data))
    sha256 = hashlib.sha256(data).hexdigest()
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(data)}\n"
    return LiveFile(path, len(data), git_blob(pointer.encode()), sha256)


@dataclass
class FakeSpace:
    live: LiveSpace
    variables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, LiveSecret] = field(default_factory=dict)
    files: dict[str, LiveFile] = field(default_factory=dict)
    commits: int = 0
    # (commit id, files) oldest first; a head set by a test directly joins it when read.
    history: list[tuple[str, dict[str, LiveFile]]] = field(default_factory=list)
    branches: set[str] = field(default_factory=set)

    def commit_ids(self) -> list[str]:
        if not self.history or self.history[-1][0] != self.live.sha:
            self.history.append((str(self.live.sha), dict(self.files)))
        return [sha for sha, _ in reversed(self.history)]

    def files_at(self, revision: str) -> dict[str, LiveFile]:
        self.commit_ids()
        return next((dict(f) for sha, f in self.history if sha == revision), dict(self.files))


class FakeHub:
    endpoint = "http://fake.hub"
    identity = "http://fake.hub"

    def __init__(self) -> None:
        self.spaces: dict[str, FakeSpace] = {}
        self.calls: list[tuple[str, str]] = []
        self.branch_calls: list[tuple[str, str]] = []
        self.fail: dict[tuple[str, str], Exception] = {}
        self.ignored_on_create: set[str] = set()
        self.lose_commit_answer: set[str] = set()
        self.template: dict[str, bytes] = {}
        self.template_of: dict[str, dict[str, bytes]] = {}
        self.listed: list[str] = []
        self.stages: dict[str, list[str]] = {}
        self.runtime_reads: list[str] = []
        # Space -> the statuses its app answers, one per GET, the last repeating (None: no answer)
        self.app_statuses: dict[str, list[int | None]] = {}
        self.app_gets: list[str] = []
        self._lock = threading.Lock()

    # --- test set-up ---------------------------------------------------------------------------

    def add_space(self, space_id: str, sdk: str = "docker", **settings: Any) -> FakeSpace:
        files = {
            ".gitattributes": stored_file(".gitattributes", b"*.bin filter=lfs\n"),
            "README.md": stored_file("README.md", f"---\nsdk: {sdk}\n---\n".encode()),
        }
        live = LiveSpace(
            id=space_id,
            sdk=sdk,
            visibility=settings.pop("visibility", "public"),
            sha=next(_shas),
            stage="RUNNING",
            card_data={"sdk": sdk},
            **settings,
        )
        self.spaces[space_id] = FakeSpace(live, files=files)
        return self.spaces[space_id]

    def _write(self, space_id: str, method: str) -> FakeSpace:
        with self._lock:
            self.calls.append((space_id, method))
        error = self.fail.get((space_id, method))
        if error is not None:
            raise error
        if space_id not in self.spaces:
            raise NotFoundError(f"{space_id}: not found", status=404)
        return self.spaces[space_id]

    def _update(self, space: FakeSpace, **changes: Any) -> None:
        space.live = replace(space.live, **changes)

    def writes(self, space_id: str) -> list[str]:
        return [method for sid, method in self.calls if sid == space_id]

    # --- identity and catalogues --------------------------------------------------------------

    def whoami(self) -> Identity:
        return Identity("tester", ("acme",), "write", {})

    def can_write(self, space_id: str) -> bool:
        return True

    def hardware_flavors(self) -> list[str]:
        return ["cpu-basic", "cpu-upgrade", "t4-small"]

    def validate_readme(self, content: str) -> ReadmeCheck:
        return ReadmeCheck((), ())

    # --- reads --------------------------------------------------------------------------------

    def list_owner(self, owner: str) -> dict[str, LiveSpace]:
        return {sid: s.live for sid, s in self.spaces.items() if sid.split("/")[0] == owner}

    def read_live(
        self,
        needs: Mapping[str, ReadNeeds | Callable[[LiveSpace], ReadNeeds]],
        *,
        parallelism: int = 8,
        listed: Mapping[str, LiveSpace] | None = None,
    ) -> dict[str, LiveSpace | None]:
        result: dict[str, LiveSpace | None] = {}
        for sid, need in needs.items():
            space = self.spaces.get(sid)
            if space is None:
                result[sid] = None
                continue
            result[sid] = self._complete(
                space, need if isinstance(need, ReadNeeds) else need(space.live)
            )
        return result

    def _complete(self, space: FakeSpace, needs: ReadNeeds) -> LiveSpace:
        return replace(
            space.live,
            variables={k: LiveVariable(v) for k, v in space.variables.items()}
            if needs.variables
            else None,
            secrets=dict(space.secrets) if needs.secrets else None,
            files=dict(space.files) if needs.files else None,
        )

    def read_space(self, space_id: str, needs: ReadNeeds) -> LiveSpace | None:
        space = self.spaces.get(space_id)
        return self._complete(space, needs) if space else None

    def head(self, space_id: str) -> str | None:
        return self.spaces[space_id].live.sha

    def commit_ids(self, space_id: str) -> list[str]:
        return self.spaces[space_id].commit_ids()

    def list_files(self, space_id: str, revision: str) -> dict[str, LiveFile]:
        with self._lock:
            self.listed.append(space_id)
        return self.spaces[space_id].files_at(revision)

    def read_text(self, space_id: str, path: str, revision: str) -> str | None:
        return None

    def runtime(self, space_id: str) -> Runtime:
        with self._lock:
            self.runtime_reads.append(space_id)
        return self._runtime(space_id)

    def _runtime(self, space_id: str) -> Runtime:
        live = self.spaces[space_id].live
        script = self.stages.get(space_id)
        stage = (script.pop(0) if len(script) > 1 else script[0]) if script else live.stage
        return Runtime(stage, live.requested_hardware, live.current_hardware, None, {})

    def runtimes(self, owner: str) -> dict[str, Runtime]:
        with self._lock:
            self.runtime_reads.append(f"list:{owner}")
        return {sid: self._runtime(sid) for sid in self.spaces if sid.split("/")[0] == owner}

    def logs(self, space_id: str, *, build: bool, follow: bool = False) -> Iterator[str]:
        return iter(())

    def download_space(self, space_id: str, revision: str | None, folder: Path) -> Path:
        raise HubError("not supported by the fake")

    def get_app(self, space_id: str, path: str, *, timeout: float) -> AppAnswer:
        url = f"http://{space_id.replace('/', '-')}.app.fake{path}"
        with self._lock:
            self.app_gets.append(url)
            script = self.app_statuses.get(space_id, [200])
            status = script.pop(0) if len(script) > 1 else script[0]
        return AppAnswer(url, status, None if status is not None else "ConnectError")

    # --- writes -------------------------------------------------------------------------------

    def create_space(
        self, space_id: str, create: CreateSpace, secrets: Sequence[SecretToWrite]
    ) -> None:
        with self._lock:
            self.calls.append((space_id, "create_space"))
        if space_id in self.spaces:
            raise ConflictError(f"{space_id}: already exists", status=409)
        dropped = self.ignored_on_create
        space = self.add_space(
            space_id,
            create.sdk,
            visibility=create.visibility or "public",
            requested_hardware=create.hardware if "hardware" not in dropped else "cpu-basic",
            sleep_time=create.sleep_time if "sleep_time" not in dropped else None,
            volumes=tuple(_volume(v) for v in create.volumes or ())
            if "volumes" not in dropped
            else (),
        )
        template = self.template_of.get(space_id, self.template)
        space.files.update((path, stored_file(path, data)) for path, data in template.items())
        space.history = [(str(space.live.sha), dict(space.files))]  # the Hub's initial commit
        if "variables" not in dropped:
            space.variables.update(create.variables)
        if "secrets" not in dropped:
            for secret in secrets:
                self._store_secret(space, secret)

    def _store_secret(self, space: FakeSpace, secret: SecretToWrite) -> None:
        from datetime import datetime

        now = datetime.now(UTC).replace(microsecond=0)
        space.secrets[secret.key] = LiveSecret(secret.describe(now), now)

    def set_visibility(self, space_id: str, visibility: str) -> None:
        self._update(self._write(space_id, "set_visibility"), visibility=visibility)

    def set_variable(self, space_id: str, key: str, value: str) -> None:
        self._write(space_id, "set_variable").variables[key] = value

    def delete_variable(self, space_id: str, key: str) -> None:
        self._write(space_id, "delete_variable").variables.pop(key, None)

    def set_secret(self, space_id: str, secret: SecretToWrite) -> None:
        self._store_secret(self._write(space_id, "set_secret"), secret)

    def delete_secret(self, space_id: str, key: str) -> None:
        self._write(space_id, "delete_secret").secrets.pop(key, None)

    def set_volumes(self, space_id: str, volumes: Sequence[Mapping[str, Any]]) -> None:
        space = self._write(space_id, "set_volumes")
        self._update(space, volumes=tuple(_volume(v) for v in volumes))

    def delete_volumes(self, space_id: str) -> None:
        self._update(self._write(space_id, "delete_volumes"), volumes=())

    def set_hardware(self, space_id: str, hardware: str | None, sleep_time: int | None) -> None:
        space = self._write(space_id, "set_hardware")
        if hardware is not None:
            self._update(space, requested_hardware=hardware)
        if sleep_time is not None:
            self._update(space, sleep_time=None if sleep_time == -1 else sleep_time)

    def set_dev_mode(self, space_id: str, enabled: bool) -> None:
        self._update(self._write(space_id, "set_dev_mode"), dev_mode=enabled)

    def restart_space(self, space_id: str, *, factory: bool) -> None:
        self._write(space_id, "factory_reboot" if factory else "restart_space")

    def commit(
        self,
        space_id: str,
        *,
        parent: str | None,
        message: str,
        additions: Sequence[Upload],
        deletions: Sequence[str],
    ) -> str:
        space = self._write(space_id, "commit")
        if parent is not None and space.live.sha != parent:
            raise ConflictError(f"{space_id}: the branch moved (412)", status=412)
        missing = [path for path in deletions if path not in space.files]
        if missing:  # as the Hub answers (404 EntryNotFound), before anything lands
            raise NotFoundError(f"{space_id}: file not found on the Hub: {missing[0]}", status=404)
        for path in deletions:
            del space.files[path]
        for add in additions:
            data = add.data if isinstance(add.data, bytes) else add.data.read_bytes()
            space.files[add.path] = stored_file(add.path, data)
        space.commits += 1
        self._update(space, sha=next(_shas))
        space.history.append((str(space.live.sha), dict(space.files)))
        # A lost answer: the retry gets 412 and asks whether the head carries the uploads.
        lost = space_id in self.lose_commit_answer
        if lost and not all(add.landed_in(space.files) for add in additions):
            raise ConflictError(f"{space_id}: the branch moved (412)", status=412)
        return str(space.live.sha)

    def delete_space(self, space_id: str) -> None:
        self._write(space_id, "delete_space")
        del self.spaces[space_id]

    # The lock's branch calls are logged in `branch_calls`, not `calls`: they change nothing a
    # plan reads, and `writes()` stays the Space's own writes.
    def create_branch(self, space_id: str, branch: str) -> None:
        with self._lock:
            self.branch_calls.append((space_id, f"create_branch {branch}"))
            error = self.fail.get((space_id, "create_branch"))
            if error is not None:
                raise error
            space = self.spaces[space_id]
            if branch in space.branches:
                raise ConflictError(f"{space_id}: Reference already exists: {branch}", status=409)
            space.branches.add(branch)

    def delete_branch(self, space_id: str, branch: str) -> bool:
        with self._lock:
            self.branch_calls.append((space_id, f"delete_branch {branch}"))
            space = self.spaces.get(space_id)
            if space is None or branch not in space.branches:
                return False
            space.branches.discard(branch)
            return True


def _volume(data: Mapping[str, Any]) -> LiveVolume:
    return LiveVolume(
        data["type"],
        data["source"],
        data["mountPath"],
        data.get("revision"),
        data.get("readOnly"),
        data.get("path"),
    )
