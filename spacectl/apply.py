"""apply_plan(): execute a Plan, Space by Space, in the planned order.

Contract:
- The plan is the only input: apply never computes a diff of its own. A Space the plan creates
  is not read back: the create call carries every setting the plan has for it (a 2xx answer is
  the Hub's word that it took them; anything the Hub did not honour shows in the next plan).
- A new Space's first commit (`Commit.mirror_new_space`) is built on the head it read (one
  commit listing): on the Hub's initial commit, every file there is the Hub's template, and the
  commit deletes the template's files the source folder lacks (listed once per SDK and apply at
  an initial commit, `_Templates`; a deletion the Hub refuses as missing relists that Space's
  own tree). When another writer committed in between, it deletes only template files whose
  path and blob id are unchanged since the initial commit and reports the files it kept. A
  head that moves again (412) is read again once; a second 412 refuses the commit.
- Each existing Space with operations is locked first (locking.py: a `spacectl-lock` branch;
  another apply holding it refuses the Space), then re-read and compared with the plan's
  fingerprint (the stale check): if anything changed (a finished apply of another version),
  nothing is written to that Space. The lock is released however the Space ends, except when the
  process is killed (`spacectl unlock`). For a saved plan, `check_plan_current` compares every
  Space at once before anything is shown or written.
- Secret values are read from the environment at this point, never earlier and never stored; when
  the plan carries a keyed digest, the value must still match it.
- One Space's failure does not stop the others. The result lists, per Space, what was applied and
  what failed; re-running converges because every operation sets a state rather than a delta.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

from spacectl.errors import (
    EXIT_INTERRUPTED,
    ConfigError,
    ConflictError,
    HubError,
    NotFoundError,
    SpacectlError,
    SpillError,
    StalePlanError,
)
from spacectl.files import checked_content
from spacectl.locking import LOCK_BRANCH, LockHeld, acquire, release
from spacectl.operations import (
    PROTECTED_FILES,
    Commit,
    CreateSpace,
    DeleteSecret,
    DeleteSpace,
    DeleteVariable,
    DeleteVolumes,
    FileAdd,
    Operation,
    RestartSpace,
    SecretWrite,
    SetDevMode,
    SetHardware,
    SetSecret,
    SetVariable,
    SetVisibility,
    SetVolumes,
)
from spacectl.plan import Plan, SpaceChange, stale_reasons
from spacectl.port import HubPort, SecretToWrite, Upload
from spacectl.results import ApplyResult, Outcome, SpaceResult
from spacectl.secrets import SECRET_KEY_ENV, format_description, secret_digest
from spacectl.state import LiveFile, ReadNeeds

Reporter = Callable[[str, str], None]
# Bytes of file content held in memory at once across the Spaces being applied; files beyond it
# are uploaded from a private copy on disk.
MEMORY_BUDGET = 64 << 20


class _MemoryBudget:
    """A thread-safe count of the bytes that uploads may still hold in memory."""

    def __init__(self, total: int) -> None:
        self._left = total
        self._lock = threading.Lock()

    def reserve(self, size: int) -> int:
        """`size` when that much is left (now reserved), else 0: the file goes to disk."""
        with self._lock:
            if size > self._left:
                return 0
            self._left -= size
            return size

    def release(self, size: int) -> None:
        with self._lock:
            self._left += size


def _quiet(space_id: str, message: str) -> None:
    """Default reporter: say nothing."""


class _Templates:
    """The paths of the Hub's fresh-Space template per SDK, learnt from the initial commit of the
    first Space of that SDK this apply creates (one tree listing per SDK, not per Space): the Hub
    makes the template from the SDK alone, and its initial commit holds nothing else.
    Thread-safe; one listing per SDK even when Spaces race for it."""

    def __init__(self) -> None:
        self._paths: dict[str, frozenset[str]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def paths(self, sdk: str, space_id: str, initial: str, hub: HubPort) -> frozenset[str]:
        """`initial`: the id of `space_id`'s initial commit (the Hub's, before any other)."""
        with self._guard:
            lock = self._locks.setdefault(sdk, threading.Lock())
        with lock:
            if sdk not in self._paths:
                self._paths[sdk] = frozenset(hub.list_files(space_id, initial))
            return self._paths[sdk]


@dataclass
class _Context:
    hub: HubPort
    environ: Mapping[str, str]
    report: Reporter
    check_stale: bool
    base_dir: Path
    spill_dir: Path
    memory: _MemoryBudget
    lock: bool = True
    lock_timeout: float = 0.0
    templates: _Templates = field(default_factory=_Templates)
    # Set on Ctrl-C: each Space stops before its next operation.
    stop: threading.Event = field(default_factory=threading.Event)


def _needs_for(change: SpaceChange) -> ReadNeeds:
    """Re-read exactly what the plan read, so the two fingerprints compare like for like."""
    values = change.fingerprint.values
    return ReadNeeds(
        variables=values.get("variables") is not None, secrets=values.get("secrets") is not None
    )


def check_plan_current(plan: Plan, hub: HubPort) -> None:
    """Refuse a saved plan that no longer holds, as a whole and before anything of it is shown
    or written: every Space the plan writes to is re-read (with the plan's own needs) and
    compared with its fingerprint. One StalePlanError names each changed Space and what changed.
    A plan already applied is refused this way too: applying it changed what it fingerprinted."""
    writes = [c for c in plan.changes if c.operations]
    if not writes:
        return
    live = hub.read_live({c.space_id: _needs_for(c) for c in writes})
    stale = [
        f"{c.space_id} ({', '.join(reasons)})"
        for c in writes
        if (reasons := stale_reasons(c.fingerprint, live[c.space_id]))
    ]
    if stale:
        raise StalePlanError(
            "the saved plan is stale (applied already, or the Hub changed since it was made); "
            f"nothing was applied: {'; '.join(stale)}",
            hint="run `spacectl plan --out FILE` again, review it, and apply the new plan",
        )


def _secret_to_write(
    secret: SecretWrite, space_id: str, environ: Mapping[str, str]
) -> SecretToWrite:
    """The value from the environment, checked against the plan's digest (when both sides have
    the key), with the description marker to stamp at write time. Unset or empty refuses. A
    write planned without a digest (no key, or a plan made where the variable was unset) takes
    the value found now: that plan approved writing the variable, and could not see a value."""
    value = environ.get(secret.from_env)
    if not value:  # CI expands an undefined secret to "": never write that as the value
        raise SpacectlError(
            f"{space_id}: environment variable {secret.from_env} "
            f"for secret {secret.key} is {'not set' if value is None else 'empty'}",
            hint=f"export {secret.from_env}=... before running apply",
        )
    key_material = environ.get(SECRET_KEY_ENV)
    digest = secret_digest(key_material, space_id, secret.key, value) if key_material else None
    if secret.digest is not None and digest is not None and digest != secret.digest:
        raise StalePlanError(
            f"{space_id}: the value of {secret.from_env} changed after the plan was made",
            hint="run `spacectl plan` again",
        )
    return SecretToWrite(
        secret.key, value, lambda now: format_description(secret.description, digest, now)
    )


def _upload(add: FileAdd, ctx: _Context, inputs: _Inputs) -> Upload:
    """What to upload for one planned file: read once, checked against the planned blob id, and
    uploaded from exactly the bytes that were checked (in memory while the budget allows, else
    from a private copy). A relative `source` is relative to the manifest's folder."""
    if add.content is not None:
        return Upload(add.path, add.content.encode(), add.blob_id, add.sha256)
    assert add.source is not None
    path = ctx.base_dir / add.source
    in_memory = ctx.memory.reserve(add.size)
    inputs.held += in_memory
    try:
        data, blob_id, sha256 = checked_content(path, ctx.spill_dir, in_memory=in_memory)
    except SpillError:
        raise  # the temp disk, not the plan: FAILED with its own hint
    except ConfigError as exc:
        raise StalePlanError(
            f"{add.path}: {exc.message.rstrip('.')}", hint="run `spacectl plan` again"
        ) from None
    if isinstance(data, Path):
        inputs.copies.append(data)
    if blob_id != add.blob_id:
        raise StalePlanError(
            f"{add.path}: the local file changed after the plan was made",
            hint="run `spacectl plan` again",
        )
    return Upload(add.path, data, blob_id, sha256)


@dataclass
class _Inputs:
    """What one Space's operations need from this machine, resolved and checked against the
    plan before its first write: secret values (from the environment) and file contents; the
    bytes of the memory budget they hold and the copies on disk, given back by `release`."""

    secrets: dict[str, SecretToWrite] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    held: int = 0
    copies: list[Path] = field(default_factory=list)

    def release(self, ctx: _Context) -> None:
        ctx.memory.release(self.held)
        self.held = 0
        for copy in self.copies:
            copy.unlink(missing_ok=True)


def _resolve_inputs(change: SpaceChange, ctx: _Context, inputs: _Inputs) -> None:
    """Fill `inputs`; raises (so nothing is written) when a variable is missing, a secret's
    value or a local file changed since the plan."""

    def resolve(writes: tuple[SecretWrite, ...]) -> None:
        for write in writes:
            inputs.secrets[write.key] = _secret_to_write(write, change.space_id, ctx.environ)

    for op in change.operations:
        match op:
            case CreateSpace():
                resolve(op.secrets)
            case SetSecret():
                resolve((op.secret,))
            case Commit():
                inputs.uploads.update((add.path, _upload(add, ctx, inputs)) for add in op.additions)


def _execute(
    op: Operation, change: SpaceChange, ctx: _Context, inputs: _Inputs, result: SpaceResult
) -> None:
    sid = change.space_id
    hub = ctx.hub
    match op:
        case CreateSpace():
            try:
                hub.create_space(sid, op, [inputs.secrets[secret.key] for secret in op.secrets])
            except ConflictError as exc:
                # Another writer created it since the plan: refused, nothing written to it.
                raise StalePlanError(exc.message, hint=exc.hint) from None
        case SetVisibility():
            hub.set_visibility(sid, op.visibility)
        case SetVariable():
            hub.set_variable(sid, op.key, op.value)
        case DeleteVariable():
            hub.delete_variable(sid, op.key)
        case SetSecret():
            hub.set_secret(sid, inputs.secrets[op.secret.key])
        case DeleteSecret():
            hub.delete_secret(sid, op.key)
        case SetVolumes():
            hub.set_volumes(sid, op.volumes)
        case DeleteVolumes():
            hub.delete_volumes(sid)
        case SetHardware():
            hub.set_hardware(sid, op.hardware, op.sleep_time)
        case SetDevMode():
            hub.set_dev_mode(sid, op.enabled)
        case Commit():
            result.committed = _commit(op, change, ctx, inputs, result)
        case RestartSpace():
            hub.restart_space(sid, factory=op.factory)
        case DeleteSpace():
            hub.delete_space(sid)
        case _:
            assert_never(op)


def _commit(
    op: Commit, change: SpaceChange, ctx: _Context, inputs: _Inputs, result: SpaceResult
) -> str:
    """The planned commit, on top of the head the plan read (a Space this apply created:
    `_first_commit`). A moved head (412) refuses it: another writer committed meanwhile."""
    sid, hub = change.space_id, ctx.hub
    if op.mirror_new_space:
        return _first_commit(op, change, ctx, inputs, result)
    parent = op.parent or hub.head(sid)
    if parent is None:
        raise HubError(f"{sid}: the Space has no commit to build on")
    try:
        return _commit_on(op, sid, hub, inputs, parent, op.deletions)
    except ConflictError:
        raise StalePlanError(
            f"{sid}: another writer committed to it after the plan read it (its head moved); "
            "this commit was refused, settings listed as done were written",
            hint="run `spacectl plan` to see where it stands, then apply again",
        ) from None


def _first_commit(
    op: Commit, change: SpaceChange, ctx: _Context, inputs: _Inputs, result: SpaceResult
) -> str:
    """The first commit of a Space this apply created, on the head read from its history (one
    listing). At the Hub's initial commit every file is the template's: those the source lacks
    are deleted. Past it (another writer committed since the create), only template files whose
    path and blob id are unchanged are deleted, and the files kept are reported. A 412 (the head
    moved again) reads the history once more and plans the commit again; a second refuses."""
    sid, hub = change.space_id, ctx.hub
    # A duplicate's history is its template's: no commit of it is the Hub's bare template, so
    # nothing is deleted beyond the plan (the next plan shows the template's files for review).
    duplicated = any(isinstance(o, CreateSpace) and o.template for o in change.operations)
    for attempt in range(2):
        history = hub.commit_ids(sid)
        if not history:
            raise HubError(f"{sid}: the Space has no commit to build on")
        head, initial = history[0], history[-1]
        try:
            if duplicated:
                return _commit_on(op, sid, hub, inputs, head, op.deletions)
            if head != initial:
                deletions, kept = _untouched_template(
                    op, hub.list_files(sid, initial), hub.list_files(sid, head)
                )
                note = (
                    f"kept {len(kept)} file(s) another writer added or changed: {', '.join(kept)}"
                )
                if kept and note not in result.notes:
                    result.notes.append(note)
                    ctx.report(sid, note)
                return _commit_on(op, sid, hub, inputs, head, deletions)
            template = ctx.templates.paths(change.sdk or "", sid, initial, hub)
            try:
                return _commit_on(op, sid, hub, inputs, head, _mirror(op, template))
            except NotFoundError:
                # This Space's template differs from the one learnt: its own initial tree.
                own = hub.list_files(sid, initial)
                return _commit_on(op, sid, hub, inputs, head, _mirror(op, own))
        except ConflictError:
            if attempt:
                raise StalePlanError(
                    f"{sid}: another writer kept committing to it while its first commit was "
                    "made (its head moved twice); the first commit was refused, the Space and "
                    "settings listed as done were written",
                    hint="run `spacectl plan` to review its files, then `spacectl apply`",
                ) from None
            ctx.report(sid, "another writer committed to it meanwhile; reading its head again")
    raise AssertionError("unreachable")  # pragma: no cover


def _untouched_template(
    op: Commit, initial: dict[str, LiveFile], head: dict[str, LiveFile]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The first commit's deletions when the head moved past the initial commit: the template
    files (the initial commit's) whose path and blob id the head still has; and, sorted, the
    files at the head the commit keeps that are not the template's (another writer's)."""
    untouched = [
        path
        for path, file in initial.items()
        if path in head and head[path].blob_id == file.blob_id
    ]
    added = {add.path for add in op.additions}
    theirs = [
        path
        for path, file in head.items()
        if path not in added and (path not in initial or initial[path].blob_id != file.blob_id)
    ]
    return _mirror(op, untouched), tuple(sorted(theirs))


def _mirror(op: Commit, template: Iterable[str]) -> tuple[str, ...]:
    """The planned deletions plus the template files the source folder does not have."""
    added = {add.path for add in op.additions}
    extra = [p for p in template if p not in added and p not in PROTECTED_FILES]
    return (*op.deletions, *sorted(extra))


def _commit_on(
    op: Commit,
    sid: str,
    hub: HubPort,
    inputs: _Inputs,
    parent: str,
    deletions: Iterable[str],
) -> str:
    return hub.commit(
        sid,
        parent=parent,
        message=op.message,
        additions=[inputs.uploads[add.path] for add in op.additions],
        deletions=list(deletions),
    )


def _apply_space(change: SpaceChange, ctx: _Context) -> SpaceResult:
    sid = change.space_id
    result = SpaceResult(sid, Outcome.UNCHANGED)
    if not change.operations:
        return result
    inputs = _Inputs()
    # A Space the plan creates needs no lock and no re-read: its create fails if it exists.
    locked = False
    try:
        if ctx.lock and change.fingerprint.exists:
            # Before the re-read: a finished apply of another version then shows as stale.
            acquire(ctx.hub, sid, timeout=ctx.lock_timeout, stop=ctx.stop)
            locked = True
        if ctx.check_stale and change.fingerprint.exists:
            reasons = stale_reasons(change.fingerprint, ctx.hub.read_space(sid, _needs_for(change)))
            if reasons:
                raise StalePlanError(
                    f"{sid}: changed on the Hub after the plan was made ({', '.join(reasons)}); "
                    "nothing was written to it",
                    hint="run `spacectl plan` again",
                )
        _resolve_inputs(change, ctx, inputs)
        for op in change.operations:
            if ctx.stop.is_set():
                raise SpacectlError(
                    f"interrupted (Ctrl-C) before: {op.describe()}",
                    hint="run `spacectl apply` again to finish; what was applied is not repeated",
                )
            ctx.report(sid, op.describe())
            _execute(op, change, ctx, inputs, result)
            result.operations_done.append(op.describe())
        result.outcome = Outcome.APPLIED
    except (StalePlanError, LockHeld) as exc:
        result.outcome = Outcome.REFUSED if not result.operations_done else Outcome.FAILED
        result.error, result.hint = exc.message, exc.hint
        ctx.report(sid, f"refused: {exc.message}")
    except SpacectlError as exc:
        result.outcome = Outcome.FAILED
        result.error, result.hint = exc.message, exc.hint
        ctx.report(sid, f"failed: {exc.message}")
    finally:
        inputs.release(ctx)
        if locked:
            _unlock(sid, ctx, result)
    return result


def _unlock(sid: str, ctx: _Context, result: SpaceResult) -> None:
    """Release the Space's lock; a release that fails makes the Space FAILED, with the fix."""
    try:
        release(ctx.hub, sid)
    except SpacectlError as exc:
        note = f"its lock (branch {LOCK_BRANCH}) was not released: {exc.message}"
        result.error = f"{result.error}; {note}" if result.error else f"{sid}: {note}"
        if result.outcome in (Outcome.APPLIED, Outcome.UNCHANGED):
            result.outcome = Outcome.FAILED
        result.hint = f"run `spacectl unlock {sid}`, then `spacectl apply` again if needed"
        ctx.report(sid, f"failed: {note}")


def apply_plan(
    plan: Plan,
    hub: HubPort,
    *,
    environ: Mapping[str, str],
    parallelism: int = 4,
    check_stale: bool = True,
    report: Reporter = _quiet,
    base_dir: Path,
    on_done: Callable[[SpaceChange, SpaceResult], None] | None = None,
    lock: bool = True,
    lock_timeout: float = 0.0,
) -> ApplyResult:
    """Execute the plan; Spaces run in parallel, deletions after every other Space.
    `lock`: take each existing Space's lock (locking.py) before writing to it, waiting up to
    `lock_timeout` seconds for one another apply holds (False: the caller serialises applies).
    `base_dir` is the manifest's folder, which the plan's file paths are relative to. Copies of
    large files being uploaded live in a temporary folder removed before this returns.
    `on_done(change, result)` is called as each Space is finished (`apply --wait` starts
    waiting for it there and then)."""

    def one(change: SpaceChange) -> SpaceResult:
        result = _apply_space(change, ctx)
        if on_done is not None:
            on_done(change, result)
        return result

    first = [c for c in plan.changes if not _deletes(c)]
    last = [c for c in plan.changes if _deletes(c)]
    results: list[SpaceResult] = []
    with tempfile.TemporaryDirectory(prefix="spacectl-upload-") as spill:
        memory = _MemoryBudget(MEMORY_BUDGET)
        ctx = _Context(
            hub, environ, report, check_stale, base_dir, Path(spill), memory, lock, lock_timeout
        )
        for batch in (first, last):
            results.extend(_run_batch(batch, one, ctx, parallelism, results))
    order = {c.space_id: i for i, c in enumerate(plan.changes)}
    results.sort(key=lambda r: order[r.space_id])
    return ApplyResult(tuple(results))


class ApplyInterrupted(SpacectlError):
    """Ctrl-C during apply: `result` holds each Space that ran (what it applied before it
    stopped), `not_started` the Spaces it never began."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, result: ApplyResult, not_started: list[str]) -> None:
        skipped = f"; not started: {', '.join(not_started)}" if not_started else ""
        super().__init__(
            "apply interrupted (Ctrl-C): each Space stopped after the operation it was running, "
            f"as listed above{skipped}",
            hint="run `spacectl apply` again to finish; what was applied is not repeated",
        )
        self.result = result
        self.not_started = not_started


def _run_batch(
    batch: list[SpaceChange],
    run: Callable[[SpaceChange], SpaceResult],
    ctx: _Context,
    parallelism: int,
    before: list[SpaceResult],
) -> list[SpaceResult]:
    """`run` each change of `batch` in parallel. On Ctrl-C, no Space starts any more, each
    running one stops after its current operation, and ApplyInterrupted reports all that ran
    (`before` too)."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        futures = [pool.submit(run, change) for change in batch]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            ctx.stop.set()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)
            ran = [f.result() for f in futures if not f.cancelled()]
            skipped = [c.space_id for c, f in zip(batch, futures, strict=True) if f.cancelled()]
            raise ApplyInterrupted(ApplyResult((*before, *ran)), skipped) from None


def _deletes(change: SpaceChange) -> bool:
    return any(isinstance(op, DeleteSpace) for op in change.operations)
