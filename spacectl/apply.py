"""apply_plan(): execute a Plan, Space by Space, in the planned order.

Contract:
- The plan is the only input: apply never computes a diff of its own. Two exceptions concern a
  Space the plan creates, whose state the plan could not read: the read-back after the create
  checks that the Hub honoured every setting passed to the create call and sets those it ignored
  (values from the plan's CreateSpace), and the first commit removes the files the Hub's Space
  template added that the source folder does not have (`Commit.mirror_new_space`).
- Before writing to a Space, a stale check (for saved plans) re-reads it and compares it with the
  plan's fingerprint; if anything changed, nothing is written to that Space.
- Secret values are read from the environment at this point, never earlier and never stored; when
  the plan carries a keyed digest, the value must still match it.
- One Space's failure does not stop the others. The result lists, per Space, what was applied and
  what failed; re-running converges because every operation sets a state rather than a delta.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from spacectl.errors import HubError, SpacectlError, StalePlanError
from spacectl.files import LocalFile
from spacectl.hub import Hub, SecretToWrite
from spacectl.plan import (
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
    Plan,
    SecretWrite,
    SetHardware,
    SetSecret,
    SetVariable,
    SetVisibility,
    SetVolumes,
    SpaceChange,
    create_fixes,
    fingerprint,
)
from spacectl.results import ApplyResult, Outcome, SpaceResult, WaitResult
from spacectl.secrets import SECRET_KEY_ENV, format_description, secret_digest
from spacectl.state import (
    BUILD_FAILURE_STAGES,
    FAILED_STAGES,
    INTERMEDIATE_STAGES,
    LiveSpace,
    ReadNeeds,
)

Reporter = Callable[[str, str], None]


def _quiet(space_id: str, message: str) -> None:
    """Default reporter: say nothing."""


def describe(op: Operation) -> str:
    """A short human line for one operation (never a secret value)."""
    if isinstance(op, CreateSpace):
        return f"create Space (sdk={op.sdk})"
    if isinstance(op, SetVisibility):
        return f"set visibility {op.visibility}"
    if isinstance(op, SetVariable):
        return f"set variable {op.key}"
    if isinstance(op, DeleteVariable):
        return f"delete variable {op.key}"
    if isinstance(op, SetSecret):
        return f"set secret {op.secret.key}"
    if isinstance(op, DeleteSecret):
        return f"delete secret {op.key}"
    if isinstance(op, SetVolumes):
        return f"set {len(op.volumes)} volume(s)"
    if isinstance(op, DeleteVolumes):
        return "delete volumes"
    if isinstance(op, SetHardware):
        if op.hardware is None:
            return f"set sleep time {op.sleep_time}"
        return f"request hardware {op.hardware}" + (
            f" with sleep time {op.sleep_time}" if op.sleep_time is not None else ""
        )
    if isinstance(op, Commit):
        return f"commit {len(op.additions)} file(s), delete {len(op.deletions)}"
    if isinstance(op, DeleteSpace):
        return "delete Space"
    raise AssertionError(op)


@dataclass
class _Context:
    hub: Hub
    environ: Mapping[str, str]
    report: Reporter
    check_stale: bool
    base_dir: Path


def _stale_reasons(change: SpaceChange, live: LiveSpace | None) -> list[str]:
    fp = change.fingerprint
    if not fp.exists:
        return ["it now exists on the Hub"] if live is not None else []
    if live is None:
        return ["it no longer exists on the Hub"]
    reasons = []
    now = fingerprint(live)
    for name in ("sha", "visibility", "hardware", "sleep_time", "volumes", "variables", "secrets"):
        if getattr(now, name) != getattr(fp, name):
            reasons.append(name.replace("sha", "head commit"))
    return reasons


def _needs_for(change: SpaceChange) -> ReadNeeds:
    """Re-read exactly what the plan read, so the two fingerprints compare like for like."""
    fp = change.fingerprint
    return ReadNeeds(variables=fp.variables is not None, secrets=fp.secrets is not None)


def _secret_to_write(
    secret: SecretWrite, space_id: str, environ: Mapping[str, str]
) -> SecretToWrite:
    """The value from the environment, checked against the plan's digest (when both sides have
    the key), with the description marker to stamp at write time."""
    value = environ.get(secret.from_env)
    if value is None:
        raise SpacectlError(
            f"{space_id}: environment variable {secret.from_env} "
            f"for secret {secret.key} is not set",
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


def _file_data(add: FileAdd, base_dir: Path) -> bytes | Path:
    """The bytes to upload, checked against the planned hash so apply uploads what was planned.
    A relative `source` is relative to the manifest's folder."""
    if add.content is not None:
        return add.content.encode()
    assert add.source is not None
    path = base_dir / add.source
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StalePlanError(
            f"{add.path}: cannot read {path} ({exc.strerror})", hint="run `spacectl plan` again"
        ) from None
    if LocalFile.from_bytes(add.path, data).blob_id != add.blob_id:
        raise StalePlanError(
            f"{add.path}: the local file changed after the plan was made",
            hint="run `spacectl plan` again",
        )
    return path


@dataclass(frozen=True)
class _Inputs:
    """What one Space's operations need from this machine, resolved and checked against the
    plan before its first write: secret values (from the environment) and file contents."""

    secrets: Mapping[str, SecretToWrite]
    files: Mapping[str, bytes | Path]


def _resolve_inputs(change: SpaceChange, ctx: _Context) -> _Inputs:
    """Raises (so nothing is written) when a variable is missing, a secret's value or a local
    file changed since the plan."""
    secrets: dict[str, SecretToWrite] = {}
    files: dict[str, bytes | Path] = {}
    for op in change.operations:
        for secret in _secrets_of(op):
            secrets[secret.key] = _secret_to_write(secret, change.space_id, ctx.environ)
        if isinstance(op, Commit):
            files.update((add.path, _file_data(add, ctx.base_dir)) for add in op.additions)
    return _Inputs(secrets, files)


def _execute(
    op: Operation, change: SpaceChange, ctx: _Context, inputs: _Inputs, result: SpaceResult
) -> None:
    sid = change.space_id
    hub = ctx.hub
    if isinstance(op, CreateSpace):
        secrets = [inputs.secrets[secret.key] for secret in op.secrets]
        hub.create_space(
            sid,
            sdk=op.sdk,
            visibility=op.visibility,
            hardware=op.hardware,
            sleep_time=op.sleep_time,
            variables=op.variables,
            secrets=secrets,
            volumes=op.volumes,
        )
        _fix_after_create(op, change, ctx, inputs, result)
    elif isinstance(op, SetVisibility):
        hub.set_visibility(sid, op.visibility)
    elif isinstance(op, SetVariable):
        hub.set_variable(sid, op.key, op.value)
    elif isinstance(op, DeleteVariable):
        hub.delete_variable(sid, op.key)
    elif isinstance(op, SetSecret):
        hub.set_secret(sid, inputs.secrets[op.secret.key])
    elif isinstance(op, DeleteSecret):
        hub.delete_secret(sid, op.key)
    elif isinstance(op, SetVolumes):
        hub.set_volumes(sid, op.volumes)
    elif isinstance(op, DeleteVolumes):
        hub.delete_volumes(sid)
    elif isinstance(op, SetHardware):
        hub.set_hardware(sid, op.hardware, op.sleep_time)
    elif isinstance(op, Commit):
        parent = op.parent or hub.head(sid)
        if parent is None:
            raise HubError(f"{sid}: the Space has no commit to build on")
        additions = [(add.path, inputs.files[add.path]) for add in op.additions]
        deletions = list(op.deletions)
        if op.mirror_new_space:
            added = {add.path for add in op.additions}
            deletions += [
                path
                for path in hub.list_files(sid, parent)
                if path not in added and path not in PROTECTED_FILES
            ]
        result.committed = hub.commit(
            sid,
            parent=parent,
            message=op.message,
            additions=additions,
            deletions=deletions,
            expected={add.path: add.blob_id for add in op.additions},
        )
    elif isinstance(op, DeleteSpace):
        hub.delete_space(sid)
    else:
        raise AssertionError(op)


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
    for fix in create_fixes(op, live):
        ctx.report(sid, f"{describe(fix)} (not applied by create)")
        _execute(fix, change, ctx, inputs, result)
        result.operations_done.append(describe(fix))


def _apply_space(change: SpaceChange, ctx: _Context) -> SpaceResult:
    sid = change.space_id
    result = SpaceResult(sid, Outcome.UNCHANGED)
    if not change.operations:
        return result
    try:
        if ctx.check_stale:
            live = ctx.hub.read_space(sid, _needs_for(change))
            reasons = _stale_reasons(change, live)
            if reasons:
                raise StalePlanError(
                    f"{sid}: changed on the Hub after the plan was made ({', '.join(reasons)}); "
                    "nothing was written to it",
                    hint="run `spacectl plan` again",
                )
        inputs = _resolve_inputs(change, ctx)
        for op in change.operations:
            ctx.report(sid, describe(op))
            _execute(op, change, ctx, inputs, result)
            result.operations_done.append(describe(op))
        result.outcome = Outcome.APPLIED
    except StalePlanError as exc:
        result.outcome = Outcome.REFUSED if not result.operations_done else Outcome.FAILED
        result.error, result.hint = exc.message, exc.hint
        ctx.report(sid, f"refused: {exc.message}")
    except SpacectlError as exc:
        result.outcome = Outcome.FAILED
        result.error, result.hint = exc.message, exc.hint
        ctx.report(sid, f"failed: {exc.message}")
    return result


def _secrets_of(op: Operation) -> tuple[SecretWrite, ...]:
    if isinstance(op, CreateSpace):
        return op.secrets
    if isinstance(op, SetSecret):
        return (op.secret,)
    return ()


def apply_plan(
    plan: Plan,
    hub: Hub,
    *,
    environ: Mapping[str, str],
    parallelism: int = 4,
    check_stale: bool = True,
    report: Reporter = _quiet,
    base_dir: Path,
) -> ApplyResult:
    """Execute the plan; Spaces run in parallel, deletions after every other Space.
    `base_dir` is the manifest's folder, which the plan's file paths are relative to."""
    ctx = _Context(
        hub=hub, environ=environ, report=report, check_stale=check_stale, base_dir=base_dir
    )
    first = [c for c in plan.changes if not _deletes(c)]
    last = [c for c in plan.changes if _deletes(c)]
    results: list[SpaceResult] = []
    for batch in (first, last):
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            results.extend(pool.map(lambda c: _apply_space(c, ctx), batch))
    order = {c.space_id: i for i, c in enumerate(plan.changes)}
    results.sort(key=lambda r: order[r.space_id])
    return ApplyResult(tuple(results))


def _deletes(change: SpaceChange) -> bool:
    return any(isinstance(op, DeleteSpace) for op in change.operations)


# --- waiting for builds ---------------------------------------------------------------------------


def wait_for_space(
    hub: Hub,
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
    hub: Hub,
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
