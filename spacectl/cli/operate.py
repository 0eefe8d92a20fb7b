"""Operating deployed Spaces: status, logs and doctor."""

from __future__ import annotations

import json
import os
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spacectl.cli.boundary import error_boundary
from spacectl.cli.options import (
    DEFAULT_MANIFEST,
    EndpointOpt,
    ManifestOpt,
    SandboxOpt,
    StatusFormat,
    StatusFormatOpt,
    TokenOpt,
    connect,
    manifest_owners,
)
from spacectl.cli.output import err
from spacectl.errors import ManifestError

if TYPE_CHECKING:
    from spacectl.hub import Hub
    from spacectl.manifest import Manifest


def status(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: StatusFormatOpt = StatusFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Stage, hardware, sleep time, last commit, URLs and settings drift of each Space in the
    manifest (one bulk listing per owner; `plan` compares variables, secrets and files)."""
    from spacectl.manifest_loader import load_manifest
    from spacectl.state import ReadNeeds
    from spacectl.status import render_status_text, status_rows

    with error_boundary():
        manifest = load_manifest(file, check_sources=False)
        with connect(endpoint, token, sandbox, manifest_owners(manifest)) as hub:
            # No per-Space reads: the bulk listing carries everything status shows.
            live = hub.read_live({spec.id: ReadNeeds() for spec in manifest.spaces})
            rows = status_rows(manifest, live, endpoint=hub.endpoint)
        if fmt is StatusFormat.json:
            typer.echo(json.dumps({"spaces": [row.to_dict() for row in rows]}, indent=2))
        else:
            typer.echo(render_status_text(rows), nl=False)


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
    from spacectl.manifest_loader import load_manifest

    with error_boundary():
        manifest_path = file or DEFAULT_MANIFEST
        manifest = None
        if file is not None or manifest_path.exists():
            manifest = load_manifest(manifest_path, check_sources=False)
        owners = manifest_owners(manifest) if manifest else set()
        with connect(endpoint, token, sandbox, owners) as hub:
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


def doctor(
    file: ManifestOpt = DEFAULT_MANIFEST,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Check everything a deploy needs (token, write access, secrets' variables, sources,
    Dockerfile and port, README front matter, hardware, platform limits). Exit 1 if any FAIL."""
    from spacectl.doctor import Check, Verdict, failed, render_checks, run_checks
    from spacectl.manifest_loader import load_manifest

    with error_boundary():
        try:
            manifest = load_manifest(file, check_sources=False)
        except ManifestError as exc:
            check = Check(
                "manifest", Verdict.FAIL, exc.message, f"run `spacectl validate -f {file}`"
            )
            typer.echo(render_checks([check]), nl=False)
            raise typer.Exit(1) from None
        # A missing token is a failed check, not an error.
        with connect(endpoint, token, sandbox, manifest_owners(manifest), need_token=False) as hub:
            checks = run_checks(manifest, hub, os.environ)
        typer.echo(render_checks(checks), nl=False)
        counts = {v: sum(1 for c in checks if c.verdict is v) for v in Verdict}
        err(
            f"{counts[Verdict.PASS]} passed, {counts[Verdict.WARN]} warning(s), "
            f"{counts[Verdict.FAIL]} failed."
        )
    if failed(checks):
        raise typer.Exit(1)
