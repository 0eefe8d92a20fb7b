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
    EndpointOpt,
    Format,
    FormatOpt,
    ManifestOpt,
    SandboxOpt,
    TargetOpt,
    TokenOpt,
    connect,
    manifest_owners,
    targets_of,
)
from spacectl.cli.output import err, use_color
from spacectl.errors import EXIT_CHANGES, ApplyError, ConfirmationError, ManifestError

if TYPE_CHECKING:
    from spacectl.hub import Hub
    from spacectl.manifest import Manifest
    from spacectl.plan import Plan
    from spacectl.results import ApplyResult


def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE",
            help="Manifest files, several at once (as pre-commit passes them).",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("-f", "--file", help="Manifest file (default: spaces.yaml).")
    ] = None,
) -> None:
    """Check manifests offline (syntax, fields, names, source folders) and report every problem
    found, one `FILE:LINE:COL: where: what` line each. Needs no secret: environment variables
    are not read. Each file is checked and reported; exit 1 when any is invalid."""
    from spacectl.manifest_loader import load_manifest

    worst = 0
    for path in [*(files or []), *([file] if file else [])] or [DEFAULT_MANIFEST]:
        try:
            with error_boundary(every_problem_in=path):
                manifest = load_manifest(path)
                typer.echo(f"{path}: valid ({len(manifest.spaces)} Spaces)")
        except typer.Exit as exc:
            worst = max(worst, exc.exit_code)
    if worst:
        raise typer.Exit(worst)


def schema() -> None:
    """Print the manifest's JSON Schema (for editors: `# yaml-language-server: $schema=`)."""
    from spacectl.manifest import manifest_json_schema

    typer.echo(json.dumps(manifest_json_schema(), indent=2))


def plan(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: FormatOpt = Format.text,
    out: Annotated[
        Path | None, typer.Option("--out", help="Save the plan for `spacectl apply PLANFILE`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when none."),
    ] = False,
    target: TargetOpt = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="List unchanged Spaces.")
    ] = False,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Show what `spacectl apply` would change on the Hub. Exit 0 = no changes (with
    --detailed-exitcode 2 = changes), 1 = error."""
    from spacectl.manifest_loader import load_manifest
    from spacectl.planfile import save_plan
    from spacectl.render import RENDERERS, render_markdown, render_text

    with error_boundary():
        manifest = load_manifest(file)
        with connect(endpoint, token, sandbox, manifest_owners(manifest)) as hub:
            the_plan = _make_plan(manifest, file, hub, targets_of(target))
        if fmt is Format.text:
            with _log_group(f"spacectl plan -f {file}"):
                typer.echo(render_text(the_plan, color=use_color(), verbose=verbose), nl=False)
        else:
            typer.echo(RENDERERS[fmt.value](the_plan), nl=False)
        append_step_summary(render_markdown(the_plan))
        if out is not None:
            save_plan(the_plan, out)
            err(f"Saved the plan to {out}; apply it with `spacectl apply {out}`.")
    if detailed_exitcode and not the_plan.is_empty:
        raise typer.Exit(EXIT_CHANGES)


def apply(
    planfile: Annotated[
        Path | None,
        typer.Argument(help="A plan saved by `spacectl plan --out`; applied exactly."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("-f", "--file", help="Manifest file (default: spaces.yaml)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until every changed Space runs.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to --wait.")] = 900.0,
    parallelism: Annotated[
        int, typer.Option("--parallelism", min=1, max=32, help="Spaces applied at once.")
    ] = 4,
    target: TargetOpt = None,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Make the Hub match the manifest (or apply a saved plan)."""
    from spacectl.apply import apply_plan, check_plan_current
    from spacectl.cli.progress import ApplyProgress
    from spacectl.manifest_loader import load_manifest
    from spacectl.planfile import check_plan_endpoint, check_saved_plan, open_saved_plan
    from spacectl.render import render_apply_result, render_markdown, render_text
    from spacectl.results import Outcome

    with error_boundary():
        saved = None
        if planfile is not None:
            saved = open_saved_plan(planfile, manifest_flag=file, targets=target)
        file = file or DEFAULT_MANIFEST
        manifest = load_manifest(Path(saved.header.manifest_path) if saved is not None else file)
        if saved is not None:
            check_saved_plan(saved, manifest.digest)
        with connect(endpoint, token, sandbox, manifest_owners(manifest)) as hub:
            if saved is not None:
                check_plan_endpoint(saved, hub.identity)
                # Stale or applied already: one refusal, before any of the plan is printed.
                check_plan_current(saved, hub)
                the_plan = saved
            else:
                the_plan = _make_plan(manifest, file, hub, targets_of(target))
            with _log_group(f"spacectl apply: plan of {the_plan.header.manifest_path}"):
                typer.echo(render_text(the_plan, color=use_color()), nl=False)
            if the_plan.is_empty:
                append_step_summary(render_markdown(the_plan))
                return
            asked = saved is None and _confirm(yes)  # a saved plan is the approval
            changed = [c.space_id for c in the_plan.changes if c.operations]
            with ApplyProgress(changed) as progress:
                result = apply_plan(
                    the_plan,
                    hub,
                    base_dir=Path(the_plan.header.manifest_path).parent,
                    environ=os.environ,
                    parallelism=parallelism,
                    # A plan computed a moment ago needs no re-read; one saved or shown to a
                    # person may have gone stale.
                    check_stale=saved is not None or asked,
                    report=progress.report,
                )
            applied = render_apply_result(result)
            typer.echo(applied, nl=False)
            append_step_summary(f"{render_markdown(the_plan)}\n```\n{applied}```\n")
            waited = _wait(hub, the_plan, result, timeout, parallelism) if wait else True
            failed = [r for r in result.spaces if r.outcome in (Outcome.FAILED, Outcome.REFUSED)]
            problems = [f"{len(failed)} Space(s) failed or were refused"] if failed else []
            if not waited:
                problems.append("not every changed Space is running")
            if problems:
                raise ApplyError(
                    f"apply did not complete: {'; '.join(problems)} (see above)",
                    hint="fix what is reported above, then run `spacectl apply` again; changes "
                    "already made are not repeated",
                )


@contextmanager
def _log_group(title: str) -> Iterator[None]:
    """Fold what is printed inside into one collapsible group of a GitHub Actions log."""
    if not github_actions():
        yield
        return
    typer.echo(workflow_command("group", title))
    try:
        yield
    finally:
        typer.echo(workflow_command("endgroup"))


def _make_plan(manifest: Manifest, path: Path, hub: Hub, targets: frozenset[str] | None) -> Plan:
    """Read live state and compute the plan; `path` is the manifest as the user named it."""
    from spacectl.inputs import plan_inputs, read_needs, targeted
    from spacectl.plan import PlanHeader, compute_plan

    inputs = plan_inputs(manifest, environ=os.environ, targets=targets)
    needs = {
        spec.id: read_needs(spec, inputs.files.get(spec.id)) for spec in targeted(manifest, targets)
    }
    if targets and not needs:
        raise ManifestError(
            f"--target {', '.join(sorted(targets))} matches no Space in {manifest.path.name}"
        )
    header = PlanHeader(
        manifest_path=str(path),
        manifest_digest=manifest.digest,
        endpoint=hub.identity,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return compute_plan(manifest, hub.read_live(needs), inputs).with_header(header)


def _confirm(yes: bool) -> bool:
    """Ask before applying; True when a person was asked (time passed since the plan)."""
    if yes:
        return False
    if not sys.stdin.isatty():
        raise ConfirmationError(
            "refusing to apply without confirmation: no terminal to ask on",
            hint="review the plan, then run again with --yes",
        )
    if not typer.confirm("Apply these changes?", default=False):
        raise ConfirmationError("apply cancelled; nothing was changed")
    return True


def _wait(hub: Hub, the_plan: Plan, result: ApplyResult, timeout: float, parallelism: int) -> bool:
    """`apply --wait`: wait for the changed Spaces, print where each stands; True when all run."""
    from spacectl.apply import wait_for_applied
    from spacectl.render import render_wait
    from spacectl.state import app_url, space_page_url

    waits = wait_for_applied(
        hub,
        the_plan,
        result,
        timeout=timeout,
        parallelism=parallelism,
        announce=lambda count: err(
            f"Waiting for {count} Space(s) to run (timeout {timeout:.0f}s)..."
        ),
    )
    if waits:
        urls = {
            w.space_id: (space_page_url(hub.endpoint, w.space_id), app_url(w.space_id))
            for w in waits
        }
        typer.echo(render_wait(waits, urls), nl=False)
    return all(w.ok for w in waits)
