"""The options several commands share, each declared once, and the Hub a command talks to.

Nothing heavy is imported here at module level: `--help`, `validate` and `schema` import this
module but never load the Hub client or the sandbox's server.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spacectl.cli.output import err, no_color_flag

if TYPE_CHECKING:
    from spacectl.hub import Hub
    from spacectl.manifest import Manifest
    from spacectl.port import HubPort

DEFAULT_MANIFEST = Path("spaces.yaml")
# Folder (relative to the working directory) where `--sandbox` keeps its state.
SANDBOX_DIR = ".spacectl-sandbox"

ManifestOpt = Annotated[
    Path,
    typer.Option("-f", "--file", metavar="FILE", help="Manifest file.", show_default=True),
]
# Where a saved plan (apply) or positional files (validate) may stand for the manifest instead.
OptionalManifestOpt = Annotated[
    Path | None,
    typer.Option("-f", "--file", metavar="FILE", help="Manifest file (default: spaces.yaml)."),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint", metavar="URL", help="Hub URL (default: $HF_ENDPOINT, then huggingface.co)."
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token", metavar="TOKEN", help="Hub token (default: $HF_TOKEN, then `hf auth login`)."
    ),
]
SandboxOpt = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help=f"Use an embedded local Hub sandbox, state in ./{SANDBOX_DIR} (no account needed).",
    ),
]
OidcOpt = Annotated[
    bool,
    typer.Option(
        "--oidc",
        help="Keyless: exchange the CI job's OIDC id token (GitHub Actions, or $HF_OIDC_ID_TOKEN) "
        "for a short-lived token per Space (Trusted Publishers). See docs/ci.md.",
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        metavar="DIR",
        help="Cache of file trees by commit and of local file digests (default: "
        "$SPACECTL_CACHE_DIR, then ~/.cache/spacectl); safe to delete, worth keeping in CI.",
    ),
]
ParallelismOpt = Annotated[
    int,
    typer.Option(
        "--parallelism", min=1, max=32, metavar="N", help="Spaces read or applied at once."
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target", metavar="NAME", help="Only this Space (name or owner/name); repeatable."
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        metavar="NAME",
        help="Environment of the manifest's `environments:` (its names and overrides).",
    ),
]


class Format(str, enum.Enum):
    """`plan --format`."""

    text = "text"
    json = "json"
    markdown = "markdown"


class ResultFormat(str, enum.Enum):
    """`--format` of apply, status, doctor, validate and import: each JSON document carries
    `format_version` (`JSON_FORMAT_VERSION`) and goes to stdout alone."""

    text = "text"
    json = "json"


# The version of the JSON documents of apply, status, doctor, validate and import (the plan's is
# plan.FORMAT_VERSION): bumped when a key changes meaning or goes away, not when one is added.
JSON_FORMAT_VERSION = "1"

_FORMAT = typer.Option("--format", help="Output format.")
FormatOpt = Annotated[Format, _FORMAT]
ResultFormatOpt = Annotated[ResultFormat, _FORMAT]
NoColorOpt = Annotated[
    bool,
    typer.Option(
        "--no-color",
        callback=no_color_flag,
        is_eager=True,
        help="No colour (also NO_COLOR=1; FORCE_COLOR=1 colours output that is not a terminal).",
    ),
]


def examples(*commands: str) -> str:
    """A command's help epilog: an Examples section, one command per line as written (`\b`
    keeps click from rewrapping them)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {command}" for command in commands)


def manifest_owners(manifest: Manifest) -> set[str]:
    """The namespaces a manifest's Spaces live in (an embedded sandbox must own them all)."""
    return {spec.owner for spec in manifest.spaces} | {manifest.owner}


def optional_manifest(file: Path | None) -> Manifest | None:
    """The manifest `-f` names (an error if it cannot be read), else ./spaces.yaml when there is
    one, else None: for commands whose bare Space NAMEs a manifest may qualify (logs, unlock).
    Source folders are not checked."""
    from spacectl.manifest_loader import load_manifest

    path = file or DEFAULT_MANIFEST
    if file is None and not path.exists():
        return None
    return load_manifest(path, check_sources=False)


@functools.cache
def known_hardware() -> tuple[str, ...]:
    """The hardware flavours the installed client knows (`hub.SPACE_HARDWARE`, its
    `SpaceHardware` enum), for the loader's offline check, read from the client's source
    without importing it: importing the client costs `validate` (a pre-commit hook) about a
    second. A test checks that both give the same list. () when the client's source cannot be
    read, which turns the offline check off (plan still checks against the Hub's list)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("huggingface_hub")  # finds, does not import, a package
    if spec is None or spec.origin is None:
        return ()
    try:
        tree = ast.parse(Path(spec.origin).with_name("_space_api.py").read_text("utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "SpaceHardware":
            return tuple(
                item.value.value
                for item in node.body
                if isinstance(item, ast.Assign)
                and isinstance(item.value, ast.Constant)
                and isinstance(item.value.value, str)
            )
    return ()


def targets_of(target: list[str] | None) -> frozenset[str] | None:
    """`--target` values as a set; None when the option was not given (every Space)."""
    return frozenset(target) if target else None


@contextmanager
def connect(
    endpoint: str | None,
    token: str | None,
    sandbox: bool,
    owners: set[str],
    *,
    need_token: bool = True,
    cache: Path | None = None,
) -> Iterator[Hub]:
    """The Hub to talk to: the real one (or $HF_ENDPOINT), or an embedded sandbox owning
    `owners`, stopped on exit. Without `need_token` a missing token is no error here (doctor
    reports it as a failed check). `cache`: the cache folder whose tree cache the Hub uses."""
    from spacectl.cache import TreeCache
    from spacectl.hub import (
        Hub,
        configure_client,
        resolve_endpoint,
        resolve_token,
        token_or_error,
    )

    configure_client()
    trees = TreeCache(cache) if cache is not None else None
    if not sandbox:
        resolved = resolve_endpoint(endpoint)
        credential = resolve_token(token)
        yield Hub(
            resolved,
            token_or_error(credential) if need_token else credential,
            on_retry=_retry_note,
            tree_cache=trees,
        )
        return
    from spacectl.sandbox.embedded import start_embedded_sandbox

    data_dir = Path.cwd() / SANDBOX_DIR
    running = start_embedded_sandbox(data_dir, owners)
    try:
        # The embedded server's port changes from run to run; its data folder does not.
        yield Hub(
            running.endpoint,
            running.token,
            on_retry=_retry_note,
            identity=f"sandbox:{data_dir}",
            tree_cache=trees,
        )
    finally:
        running.stop()


@contextmanager
def connect_hub(
    endpoint: str | None,
    token: str | None,
    sandbox: bool,
    owners: set[str],
    *,
    oidc: bool,
    cache: Path | None = None,
) -> Iterator[HubPort]:
    """`connect`, or with `oidc` the keyless Hub (spacectl.oidc.KeylessHub): one id token,
    exchanged per Space; `--token`/HF_TOKEN, when set too, does what keyless tokens cannot."""
    if not oidc:
        with connect(endpoint, token, sandbox, owners, cache=cache) as hub:
            yield hub
        return
    from spacectl.errors import ConfigError
    from spacectl.hub import SERVER_CLOCK, Hub, configure_client, mint_id_token, resolve_endpoint
    from spacectl.hub import resolve_token as other_token
    from spacectl.oidc import KeylessHub

    if sandbox:
        raise ConfigError(
            "--oidc cannot be used with --sandbox: the embedded sandbox trusts no publisher",
            hint="run `spacectl sandbox serve --trusted-publisher ... --oidc-jwks ...` and point "
            "--endpoint at it",
        )
    from spacectl.cache import TreeCache

    configure_client()
    resolved = resolve_endpoint(endpoint)
    credential = other_token(token)
    trees = TreeCache(cache) if cache is not None else None
    base = Hub(resolved, credential, on_retry=_retry_note, tree_cache=trees)
    yield KeylessHub(
        base,
        has_token=credential is not None,
        # The id token's audience is the Hub that verifies it.
        mint=lambda: mint_id_token(resolved),
        space_hub=lambda scoped: Hub(resolved, scoped, on_retry=_retry_note, tree_cache=trees),
        now=SERVER_CLOCK.now,
        note=lambda message: err(f"  keyless: {message}"),
    )


def _retry_note(message: str) -> None:
    err(f"  retry: {message}")
