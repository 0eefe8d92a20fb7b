"""The manifest's commands: validate, schema, plan and apply.

Each imports what it needs when it runs: `validate` and `schema` load neither the Hub client nor
the plan's diff machinery.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spacectl.ci.workflow import append_step_summary, github_actions, workflow_command
from spacectl.cli.boundary import error_boundary
from spacectl.cli.options import (
    DEFAULT_MANIFEST,
    JSON_FORMAT_VERSION,
    CacheDirOpt,
    EndpointOpt,
    EnvOpt,
    Format,
    FormatOpt,
    ManifestOpt,
    NoColorOpt,
    OidcOpt,
    OptionalManifestOpt,
    ParallelismOpt,
    ResultFormat,
    ResultFormatOpt,
    SandboxOpt,
    TargetOpt,
    TokenOpt,
    connect_hub,
    known_hardware,
    manifest_owners,
    targets_of,
)
from spacectl.cli.output import echo_json, err, use_color
from spacectl.errors import EXIT_CHANGES, EXIT_ERROR, ApplyError, ConfirmationError, ManifestError
from spacectl.escape import code_fence

if TYPE_CHECKING:
    from spacectl.manifest import Manifest, SpaceSpec
    from spacectl.oidc import Refusal
    from spacectl.plan import Plan
    from spacectl.port import HubPort
    from spacectl.results import WaitResult
    from spacectl.waiting import Waiter


def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE",
            help="Manifest files, several at once (as pre-commit passes them).",
            show_default=False,
        ),
    ] = None,
    file: OptionalManifestOpt = None,
    fmt: ResultFormatOpt = ResultFormat.text,
) -> None:
    """Check manifests offline (syntax, fields, names, source folders) and report every problem
    found, one `FILE:LINE:COL: where: what` line each. Needs no secret: environment variables
    are not read. Each file is checked and reported; exit 1 when any is invalid. --format json:
    {format_version, ok, files: [{file, ok, spaces}], problems: [{file, line, column, where,
    message, hint}]} on stdout."""
    from spacectl.manifest_loader import load_manifest

    paths = [*(files or []), *([file] if file else [])] or [DEFAULT_MANIFEST]
    if fmt is ResultFormat.json:
        _validate_json(paths)
        return
    worst = 0
    for path in paths:
        try:
            with error_boundary(every_problem_in=path):
                manifest = load_manifest(path, hardware=known_hardware)
                typer.echo(f"{path}: valid ({len(manifest.spaces)} Spaces)")
        except typer.Exit as exc:
            worst = max(worst, exc.exit_code)
    if worst:
        raise typer.Exit(worst)


def _validate_json(paths: list[Path]) -> None:
    """`validate --format json`: one document for every file; exit 1 when any is invalid."""
    from spacectl.manifest_loader import load_manifest

    reports: list[dict[str, object]] = []
    problems: list[dict[str, object]] = []
    for path in paths:
        try:
            manifest = load_manifest(path, hardware=known_hardware)
        except ManifestError as exc:
            found = [_problem(p) for p in getattr(exc, "problems", None) or (exc,)]
            problems.extend(found)
            reports.append({"file": str(path), "ok": False, "spaces": None})
        else:
            reports.append({"file": str(path), "ok": True, "spaces": len(manifest.spaces)})
    echo_json(
        {
            "format_version": JSON_FORMAT_VERSION,
            "ok": not problems,
            "files": reports,
            "problems": problems,
        }
    )
    if problems:
        raise typer.Exit(EXIT_ERROR)


def _problem(exc: ManifestError) -> dict[str, object]:
    """One problem with its FILE:LINE:COL parts (None where the error has no position)."""
    location = exc.location
    return {
        "file": location.path if location else None,
        "line": location.line if location else None,
        "column": location.column if location else None,
        "where": exc.where,
        "message": exc.reason,
        "hint": exc.hint,
    }


def schema() -> None:
    """Print the manifest's JSON Schema (for editors: `# yaml-language-server: $schema=`)."""
    from spacectl.manifest import manifest_json_schema

    typer.echo(json.dumps(manifest_json_schema(), indent=2))


def plan(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: FormatOpt = Format.text,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="PLANFILE", help="Save the plan for `spacectl apply PLANFILE`."
        ),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when none."),
    ] = False,
    target: TargetOpt = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="List unchanged Spaces.")
    ] = False,
    parallelism: ParallelismOpt = 8,
    cache_dir: CacheDirOpt = None,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
    oidc: OidcOpt = False,
    no_color: NoColorOpt = False,
    env: EnvOpt = None,
) -> None:
    """Show what `spacectl apply` would change on the Hub. Exit 0 = no changes (with
    --detailed-exitcode 2 = changes), 1 = error (with --oidc also: a Space cannot be applied
    keylessly; the plan says why)."""
    from spacectl.manifest_loader import load_manifest
    from spacectl.planfile import save_plan
    from spacectl.render import RENDERERS, render_markdown, render_text

    with error_boundary():
        manifest = load_manifest(file, environment=env, hardware=known_hardware)
        cache = _cache(cache_dir)
        owners = manifest_owners(manifest)
        with connect_hub(endpoint, token, sandbox, owners, oidc=oidc, cache=cache) as hub:
            the_plan, refusals = _make_plan(
                manifest, file, hub, targets_of(target), parallelism, cache
            )
        if fmt is Format.text:
            with _log_group(f"spacectl plan -f {file}"):
                # click strips ANSI codes off a stream that is no terminal unless told otherwise.
                color = use_color()
                text = render_text(the_plan, color=color, verbose=verbose)
                typer.echo(text, nl=False, color=color)
        else:
            typer.echo(RENDERERS[fmt.value](the_plan), nl=False)
        append_step_summary(lambda: render_markdown(the_plan))
        if out is not None:
            save_plan(the_plan, out)
            err(f"Saved the plan to {out}; apply it with `spacectl apply {out}`.")
        _refuse(refusals)
    if detailed_exitcode and not the_plan.is_empty:
        raise typer.Exit(EXIT_CHANGES)


def apply(
    planfile: Annotated[
        Path | None,
        typer.Argument(
            metavar="PLANFILE", help="A plan saved by `spacectl plan --out`; applied exactly."
        ),
    ] = None,
    file: OptionalManifestOpt = None,
    fmt: ResultFormatOpt = ResultFormat.text,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until every changed Space runs.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, metavar="SECONDS", help="Seconds to --wait.")
    ] = 900.0,
    parallelism: ParallelismOpt = 8,
    no_lock: Annotated[
        bool,
        typer.Option(
            "--no-lock",
            help="Do not lock each changed Space (only when applies are serialised otherwise, "
            "e.g. a CI concurrency group).",
        ),
    ] = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0,
            metavar="SECONDS",
            help="Wait up to SECONDS for a Space another apply has locked (default: refuse it).",
        ),
    ] = 0.0,
    cache_dir: CacheDirOpt = None,
    target: TargetOpt = None,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
    oidc: OidcOpt = False,
    no_color: NoColorOpt = False,
    env: EnvOpt = None,
) -> None:
    """Make the Hub match the manifest (or apply a saved plan). Exit 0 = applied (and, with
    --wait, running), 1 = error or a Space failed. With --format json, stdout is one JSON
    document: {format_version, plan, spaces: [{id, outcome, operations_done, committed, error,
    hint, notes}], summary, wait: [...] or null, ok}; the plan text goes to stderr. Each existing
    Space changed is locked meanwhile (a `spacectl-lock` branch; see `spacectl unlock`)."""
    from spacectl.apply import ApplyInterrupted, apply_plan, check_plan_current
    from spacectl.cli.progress import ApplyProgress
    from spacectl.manifest_loader import load_manifest
    from spacectl.permissions import check_write_permissions
    from spacectl.planfile import (
        check_plan_endpoint,
        check_plan_environment,
        check_saved_plan,
        open_saved_plan,
    )
    from spacectl.planjson import plan_to_dict
    from spacectl.render import (
        apply_result_to_dict,
        render_apply_result,
        render_markdown,
        render_text,
        render_wait,
        wait_results_to_dict,
    )
    from spacectl.results import Outcome
    from spacectl.waiting import Waiter

    with error_boundary():
        saved = None
        if planfile is not None:
            saved = open_saved_plan(planfile, manifest_flag=file, targets=target)
            check_plan_environment(saved, env)
            env = saved.header.environment or None
        file = file or DEFAULT_MANIFEST
        manifest = load_manifest(
            Path(saved.header.manifest_path) if saved is not None else file,
            environment=env,
            hardware=known_hardware,
        )
        if saved is not None:
            check_saved_plan(saved, manifest.digest)
        owners = manifest_owners(manifest)
        refusals: tuple[Refusal, ...] = ()
        cache = _cache(cache_dir)
        with connect_hub(endpoint, token, sandbox, owners, oidc=oidc, cache=cache) as hub:
            if saved is not None:
                check_plan_endpoint(saved, hub.identity)
                _check_credentials(manifest, saved, hub)
                # Stale or applied already: one refusal, before any of the plan is printed.
                check_plan_current(saved, hub)
                the_plan = saved
                if oidc:
                    from spacectl.oidc import saved_refusals

                    refusals = saved_refusals(saved)
            else:
                the_plan, refusals = _make_plan(
                    manifest, file, hub, targets_of(target), parallelism, cache
                )
            as_json = fmt is ResultFormat.json
            # As JSON, stdout carries the one document; the plan a person confirms is on stderr.
            title = f"spacectl apply: plan of {the_plan.header.manifest_path}"
            with _log_group(title, err=as_json):
                color = use_color()
                text = render_text(the_plan, color=color)
                typer.echo(text, nl=False, err=as_json, color=color)
            document: dict[str, object] = {
                "format_version": JSON_FORMAT_VERSION,
                "plan": plan_to_dict(the_plan),
            }
            if the_plan.is_empty:
                append_step_summary(lambda: render_markdown(the_plan))
                if as_json:
                    echo_json({**document, "spaces": [], "wait": None, "ok": not refusals})
                _refuse(refusals)
                return
            # Before asking and before the first write: one whoami says whether the token can.
            # Keyless without another token there is no identity to ask: each Space's exchanged
            # token can write that Space alone, and the plan already refused the rest.
            if not _keyless_only(hub):
                check_write_permissions(the_plan, hub)
            # A saved plan is the approval.
            if saved is None:
                _confirm(yes, err=as_json)
            changed = [c.space_id for c in the_plan.changes if c.operations]
            if wait:
                err(f"Waiting for each changed Space to run once applied (timeout {timeout:.0f}s)")
            try:
                with ApplyProgress(changed) as progress:
                    checks = {s.id: s.healthcheck for s in manifest.spaces if s.healthcheck}
                    waiter = (
                        Waiter(hub, timeout=timeout, report=progress.report, checks=checks)
                        if wait
                        else None
                    )
                    result = apply_plan(
                        the_plan,
                        hub,
                        base_dir=Path(the_plan.header.manifest_path).parent,
                        environ=os.environ,
                        parallelism=parallelism,
                        # Every existing Space is re-read before its first write, even for a
                        # plan made a moment ago: another writer (a second apply) may have
                        # changed it since.
                        check_stale=True,
                        report=progress.report,
                        on_done=waiter.offer if waiter is not None else None,
                        lock=not no_lock,
                        lock_timeout=lock_timeout,
                    )
                    waits = _waits(waiter, the_plan) if waiter is not None else []
            except ApplyInterrupted as stopped:
                summary = render_apply_result(stopped.result, title="Stopped by Ctrl-C")
                typer.echo(summary, nl=False, err=as_json)
                raise
            if refusals:
                from spacectl.oidc import with_refusals

                result = with_refusals(result, refusals)
            applied = render_apply_result(result)
            if not as_json:
                typer.echo(applied, nl=False)
            fence = code_fence(applied.splitlines())
            append_step_summary(lambda: f"{render_markdown(the_plan)}\n{fence}\n{applied}{fence}\n")
            urls = _urls(hub, waits)
            if as_json:
                wait_json = wait_results_to_dict(waits, urls) if wait else None
                ok = result.ok and all(w.ok for w in waits)
                echo_json({**document, **apply_result_to_dict(result), "wait": wait_json, "ok": ok})
            elif waits:
                typer.echo(render_wait(waits, urls), nl=False)
            failed = [r for r in result.spaces if r.outcome in (Outcome.FAILED, Outcome.REFUSED)]
            problems = [f"{len(failed)} Space(s) failed or were refused"] if failed else []
            sick = [w.space_id for w in waits if not w.ok and w.check_url]
            if sick:
                problems.append(f"healthcheck failed: {', '.join(sick)}")
            if any(not w.ok and not w.check_url for w in waits):
                problems.append("not every changed Space is running")
            if problems:
                raise ApplyError(
                    f"apply did not complete: {'; '.join(problems)} (see above)",
                    hint="fix what is reported above, then run `spacectl apply` again; changes "
                    "already made are not repeated",
                )


@contextmanager
def _log_group(title: str, *, err: bool = False) -> Iterator[None]:
    """Fold what is printed inside into one collapsible group of a GitHub Actions log (on
    stderr with `err`, where that output goes)."""
    if not github_actions():
        yield
        return
    typer.echo(workflow_command("group", title), err=err)
    try:
        yield
    finally:
        typer.echo(workflow_command("endgroup"), err=err)


def _cache(flag: Path | None) -> Path:
    from spacectl.cache import cache_dir

    return cache_dir(flag)


def _make_plan(
    manifest: Manifest,
    path: Path,
    hub: HubPort,
    targets: frozenset[str] | None,
    parallelism: int,
    cache: Path,
) -> tuple[Plan, tuple[Refusal, ...]]:
    """Read live state (`parallelism` Spaces at once) and compute the plan; `path` is the
    manifest as the user named it; local digests are cached under `cache`. With the keyless
    Hub, also what it cannot apply (`oidc.refuse_keyless`), refused in the plan."""
    from spacectl.cache import DigestCache
    from spacectl.inputs import (
        check_credentials,
        check_files_hold_no_secret,
        plan_inputs,
        read_needs,
        targeted,
    )
    from spacectl.oidc import KeylessHub, keyless_refusals, planned_manifest, refuse_keyless
    from spacectl.plan import PlanHeader, compute_plan, uploads
    from spacectl.preflight import check_planned_readmes

    token = hub.token
    specs = targeted(manifest, targets)
    check_credentials(specs, os.environ, token)
    _check_hub_hardware(specs, hub)
    digests = DigestCache(cache)
    inputs = plan_inputs(manifest, environ=os.environ, targets=targets, digests=digests)
    digests.save()
    needs = {spec.id: read_needs(spec, inputs.files.get(spec.id)) for spec in specs}
    if targets and not needs:
        raise ManifestError(
            f"--target {', '.join(sorted(targets))} matches no Space in {manifest.path.name}"
        )
    header = PlanHeader(
        manifest_path=str(path),
        manifest_digest=manifest.digest,
        endpoint=hub.identity,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        environment=manifest.environment or "",
    )
    live = hub.read_live(needs, parallelism=parallelism)
    keyless = hub if isinstance(hub, KeylessHub) else None
    refused = keyless_refusals(hub)
    computed = compute_plan(
        planned_manifest(manifest, refused) if refused else manifest, live, inputs
    )
    check_files_hold_no_secret(specs, inputs.files, os.environ, token, uploads(computed))
    check_planned_readmes(
        computed, hub.validate_readme, base_dir=inputs.base_dir, parallelism=parallelism
    )
    if keyless is None:
        return computed.with_header(header), ()
    return refuse_keyless(
        computed.with_header(header), refused, list(needs), has_token=keyless.has_token
    )


def _keyless_only(hub: HubPort) -> bool:
    """Whether `hub` is keyless (--oidc) with no user or organisation token besides."""
    from spacectl.oidc import KeylessHub

    return isinstance(hub, KeylessHub) and not hub.has_token


def _refuse(refusals: tuple[Refusal, ...]) -> None:
    """With --oidc: exit 1 when the plan refused Spaces (it printed why and the fix)."""
    if refusals:
        from spacectl.errors import AuthError

        raise AuthError(
            f"--oidc: {len(refusals)} Space(s) cannot be applied keylessly: "
            f"{', '.join(r.space_id for r in refusals)} (the plan says why)",
            hint=refusals[0].fix,
        )


def _check_hub_hardware(specs: list[SpaceSpec], hub: HubPort) -> None:
    """Hardware names against the list this Hub offers (one read, only when some Space sets
    hardware); the offline check used the installed client's list. A Hub that cannot list its
    hardware is not an error here: apply would report a name it refuses."""
    from spacectl.errors import HubError
    from spacectl.manifest_loader import hardware_problem

    wanted = {spec.id: spec.hardware for spec in specs if spec.hardware and spec.state == "present"}
    if not wanted:
        return
    try:
        offered = hub.hardware_flavors()
    except HubError:
        return
    for space_id, name in wanted.items():
        problem = hardware_problem(name, offered, " on this Hub")
        if problem:
            raise ManifestError(f"{space_id}: {problem}")


def _check_credentials(manifest: Manifest, saved: Plan, hub: HubPort) -> None:
    """A saved plan's secrets are read when it is applied: check their sources then too."""
    from spacectl.inputs import check_credentials, targeted

    in_plan = frozenset(change.space_id for change in saved.changes)
    check_credentials(targeted(manifest, in_plan), os.environ, hub.token)


def _confirm(yes: bool, *, err: bool = False) -> bool:
    """Ask before applying (on stderr with `err`); True when a person was asked (time passed
    since the plan)."""
    if yes:
        return False
    if not sys.stdin.isatty():
        raise ConfirmationError(
            "refusing to apply without confirmation: no terminal to ask on",
            hint="review the plan, then run again with --yes",
        )
    if not typer.confirm("Apply these changes?", default=False, err=err):
        raise ConfirmationError("apply cancelled; nothing was changed")
    return True


def _waits(waiter: Waiter, the_plan: Plan) -> list[WaitResult]:
    """`apply --wait`: every waited-for Space's result, in plan order."""
    waiter.close()
    done = waiter.results()
    return [done[c.space_id] for c in the_plan.changes if c.space_id in done]


def _urls(hub: HubPort, waits: list[WaitResult]) -> dict[str, tuple[str, str | None]]:
    """Each waited-for Space's page and app URLs."""
    from spacectl.state import app_url, space_page_url

    return {
        w.space_id: (space_page_url(hub.endpoint, w.space_id), app_url(hub.endpoint, w.space_id))
        for w in waits
    }
