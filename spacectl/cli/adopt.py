"""`spacectl import`: describe an owner's live Spaces in a manifest (spacectl.adopt)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spacectl.cli.boundary import error_boundary
from spacectl.cli.options import (
    JSON_FORMAT_VERSION,
    EndpointOpt,
    EnvOpt,
    ResultFormat,
    ResultFormatOpt,
    SandboxOpt,
    TokenOpt,
    connect,
)
from spacectl.cli.output import echo_json, err


def import_(
    owner: Annotated[
        str,
        typer.Argument(metavar="OWNER", help="User or organisation whose Spaces to import."),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Manifest to create or merge into (default: print it).",
        ),
    ] = None,
    space: Annotated[
        list[str] | None,
        typer.Option(
            "--space", metavar="NAME", help="Only this Space (name or owner/name); repeatable."
        ),
    ] = None,
    download: Annotated[
        Path | None,
        typer.Option(
            "--download",
            metavar="DIR",
            help="Download each Space's files into DIR/<name>, set source.",
        ),
    ] = None,
    fmt: ResultFormatOpt = ResultFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
    env: EnvOpt = None,
) -> None:
    """Write a manifest describing OWNER's existing Spaces, or merge them into --output
    (comments, order and formatting of the file are kept). With --env NAME, --output names a
    manifest defining that environment, and what its Spaces have beyond the manifest is written
    into `environments.NAME.spaces`. --format json: {format_version,
    owner, output, added, updated, unchanged, notes, secret_variables, manifest} on stdout (the
    manifest text is in `manifest` when there is no --output, else null)."""
    from spacectl.adopt import (
        check_imported,
        import_into_environment,
        import_spaces,
        read_merge_target,
        select_spaces,
        source_path,
        write_merged,
    )
    from spacectl.errors import SpacectlError
    from spacectl.state import ReadNeeds

    with error_boundary():
        existing = read_merge_target(output) if output is not None else None
        if env is not None and (output is None or existing is None):
            raise SpacectlError(
                f"import --env {env} writes into a manifest that defines the environment",
                hint=f"pass --output MANIFEST (an existing file with environments.{env})",
            )
        if env is not None and download is not None:
            raise SpacectlError("import --env writes overrides; --download sets no source there")
        base_dir = output.parent if output is not None else Path.cwd()
        with connect(endpoint, token, sandbox, {owner}) as hub:
            listed = hub.list_owner(owner)
            ids = select_spaces(listed, owner, space)
            read = hub.read_live(
                {sid: ReadNeeds(variables=True, secrets=True) for sid in ids}, listed=listed
            )
            spaces = [live for live in read.values() if live is not None]
            sources: dict[str, str] = {}
            for live in spaces if download is not None else []:
                assert download is not None
                folder = download / live.name
                err(f"{live.id}: downloading files into {folder}")
                hub.download_space(live.id, live.sha, folder)
                sources[live.id] = source_path(folder, base_dir)
            if env is not None:
                assert existing is not None and output is not None
                result = import_into_environment(
                    existing, spaces, environment=env, filename=str(output), base_dir=base_dir
                )
            else:
                result = import_spaces(
                    existing,
                    spaces,
                    owner=owner,
                    sources=sources,
                    base_dir=base_dir,
                    header=(
                        f"Spaces of {owner}, imported from {hub.endpoint} by `spacectl import`.",
                        "Secret values cannot be read from the Hub: each secret names the "
                        "environment",
                        "variable holding its value (from_env). Set them before `spacectl plan`.",
                    ),
                )
        check_imported(result.text, output, base_dir)
        if output is None and fmt is ResultFormat.text:
            typer.echo(result.text, nl=False)
        elif output is not None:
            write_merged(output, result.text, existing)
        merge = result.merge
        if fmt is ResultFormat.json:
            echo_json(
                {
                    "format_version": JSON_FORMAT_VERSION,
                    "owner": owner,
                    "output": str(output) if output is not None else None,
                    "added": list(merge.added),
                    "updated": list(merge.updated),
                    "unchanged": list(merge.unchanged),
                    "notes": list(result.notes),
                    "secret_variables": list(result.secrets),
                    "manifest": result.text if output is None else None,
                }
            )
        where = output if output is not None else "stdout"
        err(
            f"Imported {len(spaces)} Space(s) of {owner} into {where}: {len(merge.added)} added, "
            f"{len(merge.updated)} updated, {len(merge.unchanged)} unchanged."
        )
        for note in result.notes:
            err(f"  note: {note}")
        if result.secrets:
            err(
                f"Secrets read their values from: {', '.join(result.secrets)}. Set these "
                "variables; the first `spacectl apply` then sets each secret once (values set "
                "by hand cannot be compared)."
            )
