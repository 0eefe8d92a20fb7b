"""The command line: thin commands over the library, and the one error boundary.

This is the only module that prints to the terminal or exits, and the only importer of typer.
"""

from __future__ import annotations

import enum
import json
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from spacectl import __version__
from spacectl.adopt import import_spaces
from spacectl.apply import apply_plan, wait_for_space
from spacectl.doctor import Check, Verdict, failed, render_checks, run_checks
from spacectl.errors import (
    EXIT_CHANGES,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    ApplyError,
    ConfirmationError,
    ManifestError,
    PlanFileError,
    SpacectlError,
)
from spacectl.hub import (
    Hub,
    resolve_endpoint,
    resolve_token,
    token_or_error,
    xet_active,
)
from spacectl.inputs import plan_inputs, read_needs, targeted
from spacectl.manifest import Manifest, load_manifest, manifest_json_schema, parse_manifest
from spacectl.plan import Action, Plan, SpaceChange, compute_plan
from spacectl.planfile import check_saved_plan, load_plan, save_plan
from spacectl.render import RENDERERS, render_apply_result, render_text, render_wait
from spacectl.results import ApplyResult, Outcome, WaitResult
from spacectl.sandbox.embedded import SANDBOX_DIR, start_embedded_sandbox
from spacectl.state import LiveSpace, ReadNeeds, app_url, space_page_url
from spacectl.status import render_status_text, status_rows

app = typer.Typer(
    name="spacectl",
    help="Declarative infrastructure-as-code for Hugging Face Spaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Run a local Hub sandbox that huggingface_hub can talk to.")
app.add_typer(sandbox_app, name="sandbox")


def _err(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn a SpacectlError into `Error: ...` on stderr and exit 1; never a traceback."""
    try:
        yield
    except SpacectlError as exc:
        _err(f"Error: {exc.message}")
        if exc.hint:
            _err(f"Hint: {exc.hint}")
        raise typer.Exit(exc.exit_code) from None


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"spacectl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Declarative infrastructure-as-code for Hugging Face Spaces."""


ManifestOpt = Annotated[
    Path,
    typer.Option("-f", "--file", help="Manifest file.", show_default=True),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="Hub URL (default: $HF_ENDPOINT, then huggingface.co)."),
]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", help="Hub token (default: $HF_TOKEN, then `hf auth login`)."),
]
SandboxOpt = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help=f"Use an embedded local Hub sandbox, state in ./{SANDBOX_DIR} (no account needed).",
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option("--target", help="Only this Space (name or owner/name); repeatable."),
]
DEFAULT_MANIFEST = Path("spaces.yaml")


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _decorated(stream: TextIO) -> bool:
    """Colour and live displays only on a terminal, and never with NO_COLOR (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def _use_color() -> bool:
    return _decorated(sys.stdout)


@contextmanager
def _hub(endpoint: str | None, token: str | None, sandbox: bool, owners: set[str]) -> Iterator[Hub]:
    """The Hub to talk to: the real one (or $HF_ENDPOINT), or an embedded sandbox."""
    if not sandbox:
        resolved = resolve_endpoint(endpoint)
        yield Hub(resolved, token_or_error(resolve_token(token)), on_retry=_retry_note)
        return
    data_dir = Path.cwd() / SANDBOX_DIR
    running = start_embedded_sandbox(
        data_dir, owners, upload_mode="regular" if xet_active() else "auto"
    )
    try:
        # The embedded server's port changes from run to run; its data folder does not.
        yield Hub(
            running.endpoint, running.token, on_retry=_retry_note, identity=f"sandbox:{data_dir}"
        )
    finally:
        running.stop()


class _ApplyProgress:
    """Per-Space progress of apply, on stderr: a live table on a terminal (one row per Space,
    its current step), plain `space: message` lines otherwise (CI logs)."""

    def __init__(self, space_ids: list[str]) -> None:
        self._steps = dict.fromkeys(space_ids, "waiting")
        self._lock = threading.Lock()
        self._live: Live | None = None
        if _decorated(sys.stderr):
            self._live = Live(
                self._table(), console=Console(stderr=True), refresh_per_second=8, transient=True
            )

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        for space_id, step in self._steps.items():
            table.add_row(space_id, step)
        return table

    def report(self, space_id: str, message: str) -> None:
        if self._live is None:
            _err(f"{space_id}: {message}")
            return
        with self._lock:
            self._steps[space_id] = message
            self._live.update(self._table())

    def __enter__(self) -> _ApplyProgress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()


def _retry_note(message: str) -> None:
    _err(f"  retry: {message}")


def _owners(manifest: Manifest) -> set[str]:
    return {spec.owner for spec in manifest.spaces} | {manifest.owner}


def _targets(target: list[str] | None) -> frozenset[str] | None:
    return frozenset(target) if target else None


def _make_plan(manifest: Manifest, path: Path, hub: Hub, targets: frozenset[str] | None) -> Plan:
    """Read live state and compute the plan; `path` is the manifest as the user named it."""
    inputs = plan_inputs(
        manifest,
        environ=os.environ,
        endpoint=hub.identity,
        targets=targets,
        manifest_path=str(path),
    )
    needs = {
        spec.id: read_needs(spec, inputs.files.get(spec.id)) for spec in targeted(manifest, targets)
    }
    if targets and not needs:
        raise ManifestError(
            f"--target {', '.join(sorted(targets))} matches no Space in {manifest.path.name}"
        )
    return compute_plan(manifest, hub.read_live(needs), inputs)


@app.command()
def validate(file: ManifestOpt = DEFAULT_MANIFEST) -> None:
    """Check a manifest offline (syntax, fields, names, source folders, secret variables)."""
    with error_boundary():
        manifest = load_manifest(file, environ=os.environ)
        typer.echo(f"{file}: valid ({len(manifest.spaces)} Spaces)")


@app.command()
def schema() -> None:
    """Print the manifest's JSON Schema (for editors: `# yaml-language-server: $schema=`)."""
    typer.echo(json.dumps(manifest_json_schema(), indent=2))


@app.command()
def plan(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
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
    with error_boundary():
        manifest = load_manifest(file, environ=os.environ)
        with _hub(endpoint, token, sandbox, _owners(manifest)) as hub:
            the_plan = _make_plan(manifest, file, hub, _targets(target))
        if fmt is Format.text:
            typer.echo(render_text(the_plan, color=_use_color(), verbose=verbose), nl=False)
        else:
            typer.echo(RENDERERS[fmt.value](the_plan), nl=False)
        if out is not None:
            save_plan(the_plan, out)
            _err(f"Saved the plan to {out}; apply it with `spacectl apply {out}`.")
    if detailed_exitcode and not the_plan.is_empty:
        raise typer.Exit(EXIT_CHANGES)


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


@app.command()
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
    with error_boundary():
        saved = load_plan(planfile) if planfile is not None else None
        if saved is not None and target:
            raise PlanFileError(
                "--target cannot narrow a saved plan: it is applied exactly as it was made",
                hint="run `spacectl plan --target NAME --out FILE` instead",
            )
        if saved is not None and file is not None:
            raise PlanFileError(
                f"a saved plan names its manifest ({saved.manifest_path}); -f does not apply",
                hint=f"run `spacectl apply {planfile}` without -f",
            )
        file = file or DEFAULT_MANIFEST
        manifest_path = Path(saved.manifest_path) if saved else file
        manifest = load_manifest(manifest_path, environ=os.environ)
        if saved is not None:
            check_saved_plan(saved, manifest.digest)
        with _hub(endpoint, token, sandbox, _owners(manifest)) as hub:
            if saved is not None:
                if saved.endpoint != hub.identity:
                    raise PlanFileError(
                        f"the plan was made against {saved.endpoint}, not {hub.identity}",
                        hint="run `spacectl plan --out FILE` against this endpoint",
                    )
                the_plan = saved
            else:
                the_plan = _make_plan(manifest, file, hub, _targets(target))
            typer.echo(render_text(the_plan, color=_use_color()), nl=False)
            if the_plan.is_empty:
                return
            asked = _confirm(yes)
            changed = [c.space_id for c in the_plan.changes if c.operations]
            with _ApplyProgress(changed) as progress:
                result = apply_plan(
                    the_plan,
                    hub,
                    base_dir=Path(the_plan.manifest_path).parent,
                    environ=os.environ,
                    parallelism=parallelism,
                    # A plan computed a moment ago needs no re-read; one saved or shown to a
                    # person may have gone stale.
                    check_stale=saved is not None or asked,
                    report=progress.report,
                )
            typer.echo(render_apply_result(result), nl=False)
            waited = _wait_all(hub, the_plan, result, timeout, parallelism) if wait else True
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


def _wait_all(
    hub: Hub, the_plan: Plan, result: ApplyResult, timeout: float, parallelism: int
) -> bool:
    applied = {r.space_id: r for r in result.spaces if r.outcome is Outcome.APPLIED}
    changes = [
        c for c in the_plan.changes if c.space_id in applied and c.action is not Action.DELETE
    ]
    if not changes:
        return True
    _err(f"Waiting for {len(changes)} Space(s) to run (timeout {timeout:.0f}s)...")

    def one(change: SpaceChange) -> WaitResult:
        # A static Space serves its files at once: there is no build to wait for.
        changed_code = applied[change.space_id].committed is not None and change.sdk != "static"
        return wait_for_space(hub, change.space_id, timeout=timeout, changed_code=changed_code)

    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        waits = list(pool.map(one, changes))
    urls = {
        c.space_id: (space_page_url(hub.endpoint, c.space_id), app_url(c.space_id)) for c in changes
    }
    typer.echo(render_wait(waits, urls), nl=False)
    return all(w.ok for w in waits)


# --- adopt and operate: import, status, logs, doctor ----------------------------------------------


@app.command("import")
def import_(
    owner: Annotated[str, typer.Argument(help="User or organisation whose Spaces to import.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Manifest to create or merge into (default: print it)."
        ),
    ] = None,
    space: Annotated[
        list[str] | None,
        typer.Option("--space", help="Only this Space (name or owner/name); repeatable."),
    ] = None,
    download: Annotated[
        Path | None,
        typer.Option("--download", help="Download each Space's files into DIR/<name>, set source."),
    ] = None,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Write a manifest describing OWNER's existing Spaces, or merge them into --output
    (comments, order and formatting of the file are kept)."""
    with error_boundary():
        existing: str | None = None
        if output is not None and output.exists():
            try:
                existing = output.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SpacectlError(f"cannot read {output}: {_os_reason(exc)}") from None
            # Refuse to edit a file that is not a valid manifest: the error points at the line.
            parse_manifest(
                existing,
                str(output),
                base_dir=output.parent,
                environ=None,
                check_sources=False,
            )
        base_dir = output.parent if output is not None else Path.cwd()
        with _hub(endpoint, token, sandbox, {owner}) as hub:
            listed = hub.list_owner(owner)
            ids = _import_selection(listed, owner, space)
            read = hub.read_live(
                {sid: ReadNeeds(variables=True, secrets=True) for sid in ids}, listed=listed
            )
            spaces = [live for live in read.values() if live is not None]
            sources: dict[str, str] = {}
            for live in spaces if download is not None else []:
                assert download is not None
                folder = download / live.name
                _err(f"{live.id}: downloading files into {folder}")
                hub.download_space(live.id, live.sha, folder)
                sources[live.id] = _relative_source(folder, base_dir)
            result = import_spaces(
                existing,
                spaces,
                owner=owner,
                sources=sources,
                base_dir=base_dir,
                header=(
                    f"Spaces of {owner}, imported from {hub.endpoint} by `spacectl import`.",
                    "Secret values cannot be read from the Hub: each secret names the environment",
                    "variable holding its value (from_env). Set them before `spacectl plan`.",
                ),
            )
        name = str(output) if output is not None else "spaces.yaml"
        parse_manifest(result.text, name, base_dir=base_dir, environ=None, check_sources=False)
        if output is None:
            typer.echo(result.text, nl=False)
        elif result.text != existing:
            _write_atomic(output, result.text)
        merge = result.merge
        where = output if output is not None else "stdout"
        _err(
            f"Imported {len(spaces)} Space(s) of {owner} into {where}: {len(merge.added)} added, "
            f"{len(merge.updated)} updated, {len(merge.unchanged)} unchanged."
        )
        for note in result.notes:
            _err(f"  note: {note}")
        if result.secrets:
            _err(
                f"Secrets read their values from: {', '.join(result.secrets)}. Set these "
                "variables; the first `spacectl apply` then sets each secret once (values set "
                "by hand cannot be compared)."
            )


def _import_selection(
    listed: dict[str, LiveSpace], owner: str, names: list[str] | None
) -> list[str]:
    if not names:
        if not listed:
            raise SpacectlError(
                f"{owner} has no Spaces visible to this token",
                hint="check the owner's name, and that the token can read its private Spaces",
            )
        return sorted(listed)
    wanted = [name if "/" in name else f"{owner}/{name}" for name in names]
    # The Hub's names are case-insensitive: `--space docs` selects `Docs`.
    by_lower = {space_id.lower(): space_id for space_id in listed}
    missing = [sid for sid in wanted if sid.lower() not in by_lower]
    if missing:
        raise SpacectlError(
            f"no Space {', '.join(missing)} among the Spaces of {owner} visible to this token"
        )
    return list(dict.fromkeys(by_lower[sid.lower()] for sid in wanted))


def _relative_source(folder: Path, base_dir: Path) -> str:
    relative = Path(os.path.relpath(folder.resolve(), base_dir.resolve())).as_posix()
    return relative if relative.startswith("../") else f"./{relative}"


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so an interrupted import leaves the old file."""
    temporary = path.with_name(f".{path.name}.spacectl-tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SpacectlError(
            f"cannot write {path}: {_os_reason(exc)}",
            hint="pass --output a file in an existing, writable folder",
        ) from None


def _os_reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


class StatusFormat(str, enum.Enum):
    text = "text"
    json = "json"


@app.command()
def status(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: Annotated[
        StatusFormat, typer.Option("--format", help="Output format.")
    ] = StatusFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Stage, hardware, sleep time, last commit, URLs and settings drift of each Space in the
    manifest (one bulk listing per owner; `plan` compares variables, secrets and files)."""
    with error_boundary():
        manifest = load_manifest(file, environ=None, check_sources=False)
        with _hub(endpoint, token, sandbox, _owners(manifest)) as hub:
            # No per-Space reads: the bulk listing carries everything status shows.
            live = hub.read_live({spec.id: ReadNeeds() for spec in manifest.spaces})
            rows = status_rows(manifest, live, endpoint=hub.endpoint)
        if fmt is StatusFormat.json:
            typer.echo(json.dumps({"spaces": [row.to_dict() for row in rows]}, indent=2))
        else:
            typer.echo(render_status_text(rows), nl=False)


@app.command()
def logs(
    name: Annotated[
        str, typer.Argument(help="Space name (in the manifest's owner) or owner/name.")
    ],
    build: Annotated[bool, typer.Option("--build", help="Build logs instead of run logs.")] = False,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep streaming until the Hub ends the stream.")
    ] = False,
    tail: Annotated[
        int | None, typer.Option("--tail", min=1, help="Only the last N lines (then follow).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("-f", "--file", help="Manifest whose owner qualifies a bare NAME."),
    ] = None,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Stream a Space's build or run logs. A bare NAME is looked up in the manifest (default
    ./spaces.yaml, if present), else in the token's own namespace."""
    with error_boundary():
        manifest_path = file or DEFAULT_MANIFEST
        manifest = None
        if file is not None or manifest_path.exists():
            manifest = load_manifest(manifest_path, environ=None, check_sources=False)
        owners = _owners(manifest) if manifest else set()
        with _hub(endpoint, token, sandbox, owners) as hub:
            space_id = _resolve_space(name, manifest, hub)
            count = 0
            if tail is not None:
                # Read the backlog once: keep its last N lines and count them all.
                backlog: deque[str] = deque(maxlen=tail)
                total = 0
                for line in hub.logs(space_id, build=build):
                    backlog.append(line)
                    total += 1
                for line in backlog:
                    _echo_log(line)
                count = len(backlog)
                if follow:
                    # The stream has no cursor: a followed stream replays the backlog first,
                    # so skip the lines already read (see docs/adopt.md).
                    stream = hub.logs(space_id, build=build, follow=True)
                    for index, line in enumerate(stream):
                        if index >= total:
                            _echo_log(line)
                            count += 1
            else:
                for line in hub.logs(space_id, build=build, follow=follow):
                    _echo_log(line)
                    count += 1
        if count == 0:
            _err(f"{space_id}: no {'build' if build else 'run'} logs yet.")


def _resolve_space(name: str, manifest: Manifest | None, hub: Hub) -> str:
    if "/" in name:
        return name
    if manifest is not None:
        for spec in manifest.spaces:
            if spec.name.lower() == name.lower():
                return spec.id
        return f"{manifest.owner}/{name}"
    return f"{hub.whoami().name}/{name}"


def _echo_log(line: str) -> None:
    typer.echo(line, nl=not line.endswith("\n"))


@app.command()
def doctor(
    file: ManifestOpt = DEFAULT_MANIFEST,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Check everything a deploy needs (token, write access, secrets' variables, sources,
    Dockerfile and port, README front matter, hardware, platform limits). Exit 1 if any FAIL."""
    with error_boundary():
        try:
            manifest = load_manifest(file, environ=None, check_sources=False)
        except ManifestError as exc:
            check = Check(
                "manifest", Verdict.FAIL, exc.message, f"run `spacectl validate -f {file}`"
            )
            typer.echo(render_checks([check]), nl=False)
            raise typer.Exit(1) from None
        with _doctor_hub(endpoint, token, sandbox, _owners(manifest)) as hub:
            checks = run_checks(manifest, hub, os.environ)
        typer.echo(render_checks(checks), nl=False)
        counts = {v: sum(1 for c in checks if c.verdict is v) for v in Verdict}
        _err(
            f"{counts[Verdict.PASS]} passed, {counts[Verdict.WARN]} warning(s), "
            f"{counts[Verdict.FAIL]} failed."
        )
    if failed(checks):
        raise typer.Exit(1)


@contextmanager
def _doctor_hub(
    endpoint: str | None, token: str | None, sandbox: bool, owners: set[str]
) -> Iterator[Hub]:
    """Like `_hub`, but a missing token is a failed check, not an error."""
    if sandbox:
        with _hub(endpoint, token, sandbox, owners) as hub:
            yield hub
        return
    yield Hub(resolve_endpoint(endpoint), resolve_token(token), on_retry=_retry_note)


@sandbox_app.command(
    "serve",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def sandbox_serve(ctx: typer.Context) -> None:
    """Serve a local Hub for Spaces until SIGINT/SIGTERM; prints the endpoint URL once ready.

    The sandbox declares and parses its own flags: `spacectl sandbox serve --help` lists them."""
    from spacectl.sandbox.server import main

    main(ctx.args)


def main() -> None:
    """Console entry point: exit 0/1/2 as documented, 130 on Ctrl-C, 3 on a bug."""
    try:
        app()
    except KeyboardInterrupt:
        _err("Interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # the last line of defence: a bug, not a user error
        if os.environ.get("SPACECTL_DEBUG"):
            raise
        _err(f"Internal error: {type(exc).__name__}: {exc}")
        _err("This is a bug in spacectl; run again with SPACECTL_DEBUG=1 and report the traceback.")
        sys.exit(EXIT_INTERNAL)
