"""`spacectl preview up|down|list|prune`: preview Spaces per pull request (spacectl.previews).

`up` plans and applies the preview's manifest like `apply --yes` (the plan is the preview's
own: private copies, cheapest hardware, no secrets unless allowed, the marker variable); `down`
and `prune` delete only Spaces that carry the marker and are not Spaces of the manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spacectl.cli.boundary import error_boundary
from spacectl.cli.options import (
    DEFAULT_MANIFEST,
    JSON_FORMAT_VERSION,
    EndpointOpt,
    ManifestOpt,
    ResultFormat,
    ResultFormatOpt,
    SandboxOpt,
    TargetOpt,
    TokenOpt,
    connect,
    manifest_owners,
)
from spacectl.cli.output import echo_json, err
from spacectl.errors import ApplyError, ConflictError

if TYPE_CHECKING:
    from spacectl.hub import Hub
    from spacectl.manifest import Manifest
    from spacectl.state import LiveSpace

preview_app = typer.Typer(
    help="Preview Spaces: a private copy of the manifest's Spaces per pull request."
)
IdArg = Annotated[str, typer.Argument(metavar="ID", help="The preview's ID, e.g. pr-42.")]


def _urls(hub: Hub, space_id: str) -> dict[str, str | None]:
    from spacectl.state import app_url, space_page_url

    return {
        "page_url": space_page_url(hub.endpoint, space_id),
        "app_url": app_url(hub.endpoint, space_id),
    }


def _previews(hub: Hub, manifest: Manifest, preview_id: str | None) -> list[LiveSpace]:
    """The Spaces of the manifest's owners that carry the preview marker (of `preview_id`)."""
    from spacectl.previews import is_preview
    from spacectl.state import ReadNeeds

    found: list[LiveSpace] = []
    for owner in sorted(manifest_owners(manifest)):
        listed = hub.list_owner(owner)
        read = hub.read_live({sid: ReadNeeds(variables=True) for sid in listed}, listed=listed)
        found += [s for s in read.values() if s is not None and is_preview(s, manifest, preview_id)]
    return sorted(found, key=lambda s: s.id)


@preview_app.command("up")
def up(
    preview_id: IdArg,
    target: TargetOpt = None,
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: ResultFormatOpt = ResultFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Create or update preview ID of the manifest's Spaces (or the --target ones) and print
    their URLs. --format json: {format_version, id, spaces: [{id, copy_of, outcome, page_url,
    app_url}], ok}."""
    from spacectl.apply import apply_plan
    from spacectl.cli.plan import _cache, _make_plan
    from spacectl.manifest_loader import load_manifest
    from spacectl.previews import check_id, is_preview, preview_manifest
    from spacectl.render import render_apply_result
    from spacectl.results import Outcome
    from spacectl.state import ReadNeeds

    with error_boundary():
        check_id(preview_id)
        manifest = load_manifest(file)
        preview = preview_manifest(manifest, preview_id, target)
        with connect(endpoint, token, sandbox, manifest_owners(preview.manifest)) as hub:
            live = hub.read_live({sid: ReadNeeds(variables=True) for sid in preview.copies})
            for space in (s for s in live.values() if s is not None):
                if not is_preview(space, manifest, preview_id):
                    raise ConflictError(
                        f"{space.id} exists and is not preview {preview_id} (no "
                        f"SPACECTL_PREVIEW={preview_id} variable): not touching it",
                        hint="choose another preview ID or previews.name pattern",
                    )
            # Previews are few; the default parallelism and cache folder are right for them.
            the_plan, _ = _make_plan(preview.manifest, file, hub, None, 8, _cache(None))
            result = apply_plan(
                the_plan,
                hub,
                base_dir=Path(the_plan.header.manifest_path).parent,
                environ=os.environ,
                check_stale=False,
                report=lambda space_id, step: err(f"  {space_id}: {step}"),
            )
            outcomes = {r.space_id: r.outcome.value for r in result.spaces}
            rows: list[dict[str, str | None]] = [
                {
                    "id": sid,
                    "copy_of": source,
                    "outcome": outcomes.get(sid, Outcome.UNCHANGED.value),
                    **_urls(hub, sid),
                }
                for sid, source in preview.copies.items()
            ]
        if fmt is ResultFormat.json:
            echo_json(
                {"format_version": JSON_FORMAT_VERSION, "id": preview_id, "spaces": rows}
                | {"ok": result.ok}
            )
        else:
            typer.echo(render_apply_result(result), nl=False)
            typer.echo(f"Preview {preview_id}:")
            for row in rows:
                app = f"  (app: {row['app_url']})" if row["app_url"] else ""
                typer.echo(f"  {row['id']}: {row['page_url']}{app}  (copy of {row['copy_of']})")
        if not result.ok:
            raise ApplyError(
                f"preview {preview_id} is not complete (see above)",
                hint=f"run `spacectl preview up {preview_id}` again: what was done is not redone",
            )


def _delete(hub: Hub, spaces: list[LiveSpace], fmt: ResultFormat, what: str) -> None:
    from spacectl.previews import preview_id_of

    for space in spaces:
        hub.delete_space(space.id)
        err(f"  {space.id}: deleted")
    if fmt is ResultFormat.json:
        echo_json(
            {
                "format_version": JSON_FORMAT_VERSION,
                "deleted": [{"id": s.id, "preview": preview_id_of(s)} for s in spaces],
            }
        )
    else:
        typer.echo(f"Deleted {len(spaces)} Space(s) of {what}.")


@preview_app.command("down")
def down(
    preview_id: IdArg,
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: ResultFormatOpt = ResultFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Delete the Spaces of preview ID: only those carrying its marker (SPACECTL_PREVIEW=ID)
    and never a Space of the manifest. --format json: {format_version, deleted: [{id,
    preview}]}."""
    from spacectl.manifest_loader import load_manifest
    from spacectl.previews import check_id

    with error_boundary():
        check_id(preview_id)
        manifest = load_manifest(file, check_sources=False)
        with connect(endpoint, token, sandbox, manifest_owners(manifest)) as hub:
            _delete(hub, _previews(hub, manifest, preview_id), fmt, f"preview {preview_id}")


@preview_app.command("list")
def list_(
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: ResultFormatOpt = ResultFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """List the preview Spaces of the manifest's owners. --format json: {format_version,
    previews: [{id, preview, last_modified, page_url, app_url}]}."""
    from spacectl.manifest_loader import load_manifest
    from spacectl.previews import preview_id_of

    with error_boundary():
        manifest = load_manifest(file, check_sources=False)
        with connect(endpoint, token, sandbox, manifest_owners(manifest)) as hub:
            rows: list[dict[str, str | None]] = [
                {
                    "id": s.id,
                    "preview": preview_id_of(s),
                    "last_modified": s.last_modified.isoformat() if s.last_modified else None,
                    **_urls(hub, s.id),
                }
                for s in _previews(hub, manifest, None)
            ]
        if fmt is ResultFormat.json:
            echo_json({"format_version": JSON_FORMAT_VERSION, "previews": rows})
            return
        for row in rows:
            # The marker is a variable anyone with write access can set: shown escaped.
            marker = json.dumps(row["preview"], ensure_ascii=False)[1:-1]
            typer.echo(f"{marker}  {row['id']}  {row['last_modified']}  {row['page_url']}")
        if not rows:
            typer.echo("No preview Spaces.")


@preview_app.command("prune")
def prune(
    older_than: Annotated[
        str,
        typer.Option("--older-than", metavar="AGE", help="7d, 12h or 30m since the last commit."),
    ],
    file: ManifestOpt = DEFAULT_MANIFEST,
    fmt: ResultFormatOpt = ResultFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Delete the preview Spaces whose last commit is older than AGE (on the Hub's clock).
    --format json: {format_version, deleted: [{id, preview}]}."""
    from spacectl.manifest_loader import load_manifest
    from spacectl.previews import expired, parse_age

    with error_boundary():
        age = parse_age(older_than)
        manifest = load_manifest(file, check_sources=False)
        with connect(endpoint, token, sandbox, manifest_owners(manifest)) as hub:
            found = _previews(hub, manifest, None)
            now = hub.now()
            old = [s for s in found if expired(s, now, age)]
            _delete(hub, old, fmt, f"previews older than {older_than}")
