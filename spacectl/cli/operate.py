"""Operating deployed Spaces: status, logs and doctor."""

from __future__ import annotations

import os
import sys
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spacectl.cli.boundary import error_boundary
from spacectl.cli.options import (
    DEFAULT_MANIFEST,
    JSON_FORMAT_VERSION,
    EndpointOpt,
    ManifestOpt,
    NoColorOpt,
    OidcOpt,
    ResultFormat,
    ResultFormatOpt,
    SandboxOpt,
    TokenOpt,
    connect,
    connect_hub,
    manifest_owners,
    optional_manifest,
)
from spacectl.cli.output import echo_json, err, use_color
from spacectl.errors import EXIT_CHANGES, ManifestError

if TYPE_CHECKING:
    from spacectl.doctor import Check
    from spacectl.manifest import Manifest
    from spacectl.port import HubPort
    from spacectl.status import StatusRow


def status(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: ResultFormatOpt = ResultFormat.text,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 2 when a Space is in a failed stage (BUILD_ERROR, CONFIG_ERROR, "
            "NO_APP_FILE, RUNTIME_ERROR...) or missing from the Hub though declared present.",
        ),
    ] = False,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
    no_color: NoColorOpt = False,
    oidc: OidcOpt = False,
) -> None:
    """Stage, hardware, sleep time, last commit, URLs and settings drift of each Space in the
    manifest (one bulk listing per owner; `plan` compares variables, secrets and files).
    Exit 0, or with --detailed-exitcode 2 = a Space failed or is missing; 1 = error (with --oidc
    also: a Space's token exchange was refused, so it could not be read). A terminal gets a
    table; a pipe one line per Space; --format json {format_version, spaces: [...]}."""
    from spacectl.manifest_loader import load_manifest
    from spacectl.oidc import keyless_refusals
    from spacectl.state import ReadNeeds
    from spacectl.status import render_status_text, status_rows, unhealthy

    with error_boundary():
        manifest = load_manifest(file, check_sources=False)
        owners = manifest_owners(manifest)
        with connect_hub(endpoint, token, sandbox, owners, oidc=oidc) as hub:
            # No per-Space reads: the bulk listing carries everything status shows (keyless:
            # one read per Space, each with its own exchanged token).
            live = hub.read_live({spec.id: ReadNeeds() for spec in manifest.spaces})
            unreadable = keyless_refusals(hub)
            rows = status_rows(manifest, live, endpoint=hub.endpoint, unreadable=unreadable)
        if fmt is ResultFormat.json:
            echo_json(
                {"format_version": JSON_FORMAT_VERSION, "spaces": [row.to_dict() for row in rows]}
            )
        elif sys.stdout.isatty():
            _print_status_table(rows)
        else:
            typer.echo(render_status_text(rows), nl=False)
        if unreadable:
            from spacectl.errors import AuthError
            from spacectl.oidc import TRUST_FIX

            raise AuthError(
                f"--oidc: {len(unreadable)} Space(s) could not be read keylessly (see above)",
                hint=TRUST_FIX,
            )
    if detailed_exitcode and unhealthy(rows):
        raise typer.Exit(EXIT_CHANGES)


def _print_status_table(rows: list[StatusRow], *, width: int | None = None) -> None:
    """`status` on a terminal: rich's table of the stages, as wide as the terminal (`width` for
    tests; it fits 100 columns), then each Space's app and page URLs, unbroken so that they stay
    clickable, then the notes."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from spacectl.state import FAILED_STAGES
    from spacectl.status import STATUS_HEADER, status_cells, status_notes

    color = use_color()
    console = Console(width=width, no_color=not color, highlight=False)
    # Cells are Text, never markup: a Space's error message is printed as written.
    stages = Table(box=None, pad_edge=False, header_style="bold" if color else "")
    urls = Table(box=None, pad_edge=False, header_style="bold" if color else "")
    for name in STATUS_HEADER[:5]:
        stages.add_column(name, overflow="fold", no_wrap=name in ("STAGE", "SLEEP", "LAST COMMIT"))
    urls.add_column("SPACE", overflow="fold")
    urls.add_column("URLS", no_wrap=True, overflow="ignore")
    for row in rows:
        cells = status_cells(row)
        stage = Text(cells[1], style="red" if row.stage in FAILED_STAGES else "")
        stages.add_row(Text(cells[0]), stage, *(Text(cell) for cell in cells[2:5]))
        urls.add_row(Text(row.id), Text(f"{row.app_url or '-'}\n{row.page_url}"))
    console.print(stages)
    console.print()
    console.print(urls)
    notes = status_notes(rows)
    if notes:
        console.print()
        for note in notes:
            console.print(Text(note))


def logs(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="Space name (in the manifest's owner) or owner/name."),
    ],
    build: Annotated[bool, typer.Option("--build", help="Build logs instead of run logs.")] = False,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep streaming until the Hub ends the stream.")
    ] = False,
    tail: Annotated[
        int | None,
        typer.Option("--tail", min=1, metavar="N", help="Only the last N lines (then follow)."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "-f", "--file", metavar="FILE", help="Manifest whose owner qualifies a bare NAME."
        ),
    ] = None,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
    oidc: OidcOpt = False,
) -> None:
    """Stream a Space's build or run logs. A bare NAME is looked up in the manifest (default
    ./spaces.yaml, if present), else in the token's own namespace. With --oidc the Space's own
    exchanged token reads them (a Trusted Publisher workflow, no stored token)."""

    with error_boundary():
        manifest = optional_manifest(file)
        owners = manifest_owners(manifest) if manifest else set()
        with connect_hub(endpoint, token, sandbox, owners, oidc=oidc) as hub:
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
            err(f"{space_id}: no {'build' if build else 'run'} logs yet.")


def _resolve_space(name: str, manifest: Manifest | None, hub: HubPort) -> str:
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


def doctor(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: ResultFormatOpt = ResultFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
    oidc: OidcOpt = False,
) -> None:
    """Check everything a deploy needs (token, write access, secrets' variables, sources,
    Dockerfile and port, README front matter, hardware, platform limits). Exit 1 if any FAIL.
    With --oidc, per Space whether this workflow's id token is exchanged (which Spaces trust it).
    --format json: {format_version, ok, summary, checks: [{name, verdict, message, fix}]}."""
    from spacectl.doctor import Check, Verdict, failed, run_checks
    from spacectl.manifest_loader import load_manifest
    from spacectl.oidc import KeylessHub, keyless_checks

    with error_boundary():
        try:
            manifest = load_manifest(file, check_sources=False)
        except ManifestError as exc:
            check = Check(
                "manifest", Verdict.FAIL, exc.message, f"run `spacectl validate -f {file}`"
            )
            _print_checks([check], fmt)
            raise typer.Exit(1) from None
        # A missing token is a failed check, not an error.
        if oidc:
            with connect_hub(endpoint, token, sandbox, manifest_owners(manifest), oidc=True) as hub:
                assert isinstance(hub, KeylessHub)
                checks = run_checks(manifest, hub, os.environ, access=keyless_checks(manifest, hub))
        else:
            owners = manifest_owners(manifest)
            with connect(endpoint, token, sandbox, owners, need_token=False) as plain:
                checks = run_checks(manifest, plain, os.environ)
        _print_checks(checks, fmt)
    if failed(checks):
        raise typer.Exit(1)


def _print_checks(checks: list[Check], fmt: ResultFormat) -> None:
    """The doctor's report on stdout (text or JSON), its counts on stderr."""
    from spacectl.doctor import Verdict, failed, render_checks

    counts = {v: sum(1 for c in checks if c.verdict is v) for v in Verdict}
    if fmt is ResultFormat.json:
        echo_json(
            {
                "format_version": JSON_FORMAT_VERSION,
                "ok": not failed(checks),
                "summary": {v.value: n for v, n in counts.items()},
                "checks": [check.to_dict() for check in checks],
            }
        )
    else:
        typer.echo(render_checks(checks), nl=False)
    err(
        f"{counts[Verdict.PASS]} passed, {counts[Verdict.WARN]} warning(s), "
        f"{counts[Verdict.FAIL]} failed."
    )
