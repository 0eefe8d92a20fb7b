"""`spacectl unlock`: delete the lock an apply left on a Space (see spacectl/locking.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spacectl.cli.boundary import error_boundary
from spacectl.cli.options import (
    JSON_FORMAT_VERSION,
    EndpointOpt,
    OidcOpt,
    ResultFormat,
    ResultFormatOpt,
    SandboxOpt,
    TokenOpt,
    connect_hub,
    manifest_owners,
    optional_manifest,
)
from spacectl.cli.output import echo_json
from spacectl.errors import ConfigError
from spacectl.escape import printable


def unlock(
    spaces: Annotated[
        list[str],
        typer.Argument(
            metavar="SPACE",
            help="OWNER/NAME, or a NAME of the manifest (-f, default ./spaces.yaml).",
        ),
    ],
    file: Annotated[
        Path | None,
        typer.Option(
            "-f", "--file", metavar="FILE", help="Manifest whose owner qualifies a bare NAME."
        ),
    ] = None,
    fmt: ResultFormatOpt = ResultFormat.text,
    endpoint: EndpointOpt = None,
    token: TokenOpt = None,
    sandbox: SandboxOpt = False,
    oidc: OidcOpt = False,
) -> None:
    """Delete the lock (the `spacectl-lock` branch) that `spacectl apply` takes on each Space it
    changes and left behind because it was killed. Only when no apply is running on these
    Spaces: a running one loses its protection. Exit 0 whether or not a Space was locked;
    --format json {format_version, spaces: [{id, unlocked}]}."""
    from spacectl.locking import LOCK_BRANCH, release

    with error_boundary():
        manifest = optional_manifest(file)
        names = {spec.name.lower(): spec.id for spec in manifest.spaces} if manifest else {}
        ids = []
        for name in spaces:
            if "/" in name:
                ids.append(name)
            elif name.lower() in names:
                ids.append(names[name.lower()])
            else:
                raise ConfigError(
                    f"unlock: {printable(name)} is not OWNER/NAME nor a Space of the manifest",
                    hint="name the Space as OWNER/NAME",
                )
        owners = manifest_owners(manifest) if manifest else {i.split("/", 1)[0] for i in ids}
        with connect_hub(endpoint, token, sandbox, owners, oidc=oidc) as hub:
            done = [(space_id, release(hub, space_id)) for space_id in ids]
    if fmt is ResultFormat.json:
        echo_json(
            {
                "format_version": JSON_FORMAT_VERSION,
                "spaces": [{"id": sid, "unlocked": unlocked} for sid, unlocked in done],
            }
        )
        return
    for sid, unlocked in done:
        said = f"unlocked (branch {LOCK_BRANCH} deleted)" if unlocked else "was not locked"
        typer.echo(f"{printable(sid)}: {said}")
