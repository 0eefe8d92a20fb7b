"""apply_plan(): execute a Plan, Space by Space, in the planned order.

Contract:
- The plan is the only input: apply never computes a diff of its own. Two exceptions concern a
  Space the plan creates, whose state the plan could not read: the read-back after the create
  checks that the Hub honoured every setting passed to the create call and sets those it ignored
  (values from the plan's CreateSpace), and the first commit removes the files the Hub's Space
  template added that the source folder does not have (`Commit.mirror_new_space`).
- Before writing to a Space, a stale check (for saved plans) re-reads it and compares it with the
  plan's fingerprint; if anything changed, nothing is written to that Space. For a saved plan,
  `check_plan_current` does the same for every Space at once before anything is shown or written.
- Secret values are read from the environment at this point, never earlier and never stored; when
  the plan carries a keyed digest, the value must still match it.
- One Space's failure does not stop the others. The result lists, per Space, what was applied and
  what failed; re-running converges because every operation sets a state rather than a delta.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

from spacectl.attributes import create_fixes
from spacectl.errors import (
    EXIT_INTERRUPTED,
    ConfigError,
    ConflictError,
    HubError,
    SpacectlError,
    SpillError,
    StalePlanError,
)
from spacectl.files import checked_content
from spacectl.operations import (
    HUB_TEMPLATE_FILES,
    PROTECTED_FILES,
    Action,
    Commit,
    CreateSpace,
    DeleteSecret,
    DeleteSpace,
    DeleteVariable,
    DeleteVolumes,
    FileAdd,
    Operation,
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
from spacectl.results import ApplyResult, Outcome, SpaceResult, WaitResult
from spacectl.secrets import SECRET_KEY_ENV, format_description, secret_digest
from spacectl.state import (
    BUILD_FAILURE_STAGES,
    FAILED_STAGES,
    INTERMEDIATE_STAGES,
    ReadNeeds,
)

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


@dataclass
class _Context:
    hub: HubPort
    environ: Mapping[str, str]
    report: Reporter
    check_stale: bool
    base_dir: Path
    spill_dir: Path
    memory: _MemoryBudget
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
    # The head the read-back right after this apply created the Space saw: its first commit
    # builds on it.
    created_head: str | None = None

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
            hub.create_space(sid, op, [inputs.secrets[secret.key] for secret in op.secrets])
            _fix_after_create(op, change, ctx, inputs, result)
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
            result.committed = _commit(op, sid, hub, inputs)
        case DeleteSpace():
            hub.delete_space(sid)
        case _:
            assert_never(op)


def _commit(op: Commit, sid: str, hub: HubPort, inputs: _Inputs) -> str:
    parent = op.parent or inputs.created_head or hub.head(sid)
    if parent is None:
        raise HubError(f"{sid}: the Space has no commit to build on")
    deletions = list(op.deletions)
    if op.mirror_new_space:
        deletions += _template_files_to_delete(op, sid, hub, parent)
    try:
        return hub.commit(
            sid,
            parent=parent,
            message=op.message,
            additions=[inputs.uploads[add.path] for add in op.additions],
            deletions=deletions,
        )
    except ConflictError:
        if op.mirror_new_space:
            raise _committed_meanwhile(sid, "a commit landed on it") from None
        raise StalePlanError(
            f"{sid}: another writer committed to it after the plan read it (its head moved); "
            "this commit was refused, settings listed as done were written",
            hint="run `spacectl plan` to see where it stands, then apply again",
        ) from None


def _template_files_to_delete(op: Commit, sid: str, hub: HubPort, parent: str) -> list[str]:
    """The first commit of a Space this apply created deletes the Hub's template files the
    source lacks, and nothing else: a file of any other name at `parent` was committed by
    someone else after the create, and the Space is refused (nothing deleted, nothing
    committed) rather than built on what the plan never saw."""
    files = hub.list_files(sid, parent)
    foreign = sorted(path for path in files if path not in HUB_TEMPLATE_FILES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise _committed_meanwhile(sid, f"files appeared in it ({shown})")
    added = {add.path for add in op.additions}
    return [path for path in files if path not in added and path not in PROTECTED_FILES]


def _committed_meanwhile(sid: str, what: str) -> StalePlanError:
    return StalePlanError(
        f"{sid}: {what} after spacectl created it and before its first commit (another writer); "
        "nothing was committed and none of their files deleted",
        hint="run `spacectl plan` again: it shows their files as changes to review",
    )


def _fix_after_create(
    op: CreateSpace, change: SpaceChange, ctx: _Context, inputs: _Inputs, result: SpaceResult
) -> None:
    """Read the new Space back and set whatever the create call did not apply."""
    sid = change.space_id
    live = ctx.hub.read_space(
        sid, ReadNeeds(variables=bool(op.variables), secrets=bool(op.secrets))
    )
    if live is None:
        raise HubError(f"{sid}: created, but the Hub does not show it", hint="run apply again")
    inputs.created_head = live.sha
    for fix in create_fixes(op, live):
        ctx.report(sid, f"{fix.describe()} (not applied by create)")
        _execute(fix, change, ctx, inputs, result)
        result.operations_done.append(fix.describe())


def _apply_space(change: SpaceChange, ctx: _Context) -> SpaceResult:
    sid = change.space_id
    result = SpaceResult(sid, Outcome.UNCHANGED)
    if not change.operations:
        return result
    inputs = _Inputs()
    try:
        if ctx.check_stale:
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
    except StalePlanError as exc:
        result.outcome = Outcome.REFUSED if not result.operations_done else Outcome.FAILED
        result.error, result.hint = exc.message, exc.hint
        ctx.report(sid, f"refused: {exc.message}")
    except SpacectlError as exc:
        result.outcome = Outcome.FAILED
        result.error, result.hint = exc.message, exc.hint
        ctx.report(sid, f"failed: {exc.message}")
    finally:
        inputs.release(ctx)
    return result


def apply_plan(
    plan: Plan,
    hub: HubPort,
    *,
    environ: Mapping[str, str],
    parallelism: int = 4,
    check_stale: bool = True,
    report: Reporter = _quiet,
    base_dir: Path,
) -> ApplyResult:
    """Execute the plan; Spaces run in parallel, deletions after every other Space.
    `base_dir` is the manifest's folder, which the plan's file paths are relative to. Copies of
    large files being uploaded live in a temporary folder removed before this returns."""
    first = [c for c in plan.changes if not _deletes(c)]
    last = [c for c in plan.changes if _deletes(c)]
    results: list[SpaceResult] = []
    with tempfile.TemporaryDirectory(prefix="spacectl-upload-") as spill:
        memory = _MemoryBudget(MEMORY_BUDGET)
        ctx = _Context(hub, environ, report, check_stale, base_dir, Path(spill), memory)
        for batch in (first, last):
            results.extend(_run_batch(batch, ctx, parallelism, results))
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
    batch: list[SpaceChange], ctx: _Context, parallelism: int, before: list[SpaceResult]
) -> list[SpaceResult]:
    """Apply `batch` in parallel. On Ctrl-C, no Space starts any more, each running one stops
    after its current operation, and ApplyInterrupted reports all that ran (`before` too)."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        futures = [pool.submit(_apply_space, change, ctx) for change in batch]
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


# --- waiting for builds ---------------------------------------------------------------------------


def wait_for_space(
    hub: HubPort,
    space_id: str,
    *,
    timeout: float,
    changed_code: bool,
    poll: float = 1.0,
    grace: float = 15.0,
    log_lines: int = 30,
) -> WaitResult:
    """Poll the runtime until the Space settles.

    Right after a commit the Hub may still report the previous RUNNING for a moment; when the
    code changed, a RUNNING stage counts only once a build stage was seen or `grace` seconds
    passed. On a failure stage the tail of the build (or run) log is returned. A timeout or a
    Hub error is a result too (not an exception), so one Space never hides the others'."""
    start = time.monotonic()
    seen_build = not changed_code
    stage: str | None = None
    while True:
        try:
            runtime = hub.runtime(space_id)
        except SpacectlError as exc:
            return WaitResult(space_id, stage, False, (), exc.message)
        stage = runtime.stage
        if stage in INTERMEDIATE_STAGES:
            seen_build = True
        elif stage in FAILED_STAGES:
            build = stage in BUILD_FAILURE_STAGES
            try:
                tail = tuple(list(hub.logs(space_id, build=build))[-log_lines:])
            except HubError:
                tail = ()
            return WaitResult(space_id, stage, False, tail, runtime.error_message)
        elif stage is not None and (seen_build or time.monotonic() - start > grace):
            return WaitResult(space_id, stage, stage in ("RUNNING", "SLEEPING"))
        if time.monotonic() - start > timeout:
            return WaitResult(
                space_id, stage, False, (), f"still {stage} after {timeout:.0f} s (--timeout)"
            )
        time.sleep(poll)


def wait_for_applied(
    hub: HubPort,
    plan: Plan,
    result: ApplyResult,
    *,
    timeout: float,
    parallelism: int,
    announce: Callable[[int], None] | None = None,
) -> list[WaitResult]:
    """`apply --wait`: wait until each Space this apply changed settles (`wait_for_space`),
    `parallelism` at a time; the results are in plan order.

    Waited for are the Spaces whose outcome is APPLIED, except deleted ones. A new commit counts
    as changed code (so an old RUNNING stage is not taken for the new build), except on a static
    Space, which serves its files at once. `announce(count)` is called before the wait starts,
    unless there is nothing to wait for."""
    applied = {r.space_id: r for r in result.spaces if r.outcome is Outcome.APPLIED}
    changes = [c for c in plan.changes if c.space_id in applied and c.action is not Action.DELETE]
    if not changes:
        return []
    if announce is not None:
        announce(len(changes))

    def one(change: SpaceChange) -> WaitResult:
        changed_code = applied[change.space_id].committed is not None and change.sdk != "static"
        return wait_for_space(hub, change.space_id, timeout=timeout, changed_code=changed_code)

    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        return list(pool.map(one, changes))
