"""The command line: thin commands over the library, and the one error boundary.

This is the only module that prints to the terminal or exits, and the only importer of typer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from spacectl import __version__
from spacectl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, SpacectlError

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


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 0,
    data: Annotated[
        Path | None,
        typer.Option(help="Folder for persistent state; in memory when omitted."),
    ] = None,
    user: Annotated[
        list[str] | None,
        typer.Option("--user", help="NAME:TOKEN[:read|write]; repeatable."),
    ] = None,
    org: Annotated[
        list[str] | None,
        typer.Option("--org", help="ORG:MEMBER[,MEMBER...]; repeatable."),
    ] = None,
    build_seconds: Annotated[
        float, typer.Option(help="Simulated build time of an SDK Space.")
    ] = 2.0,
    upload_mode: Annotated[
        str,
        typer.Option(help="auto: LFS for binary or large files like the Hub; regular: never LFS."),
    ] = "auto",
    latency_ms: Annotated[int, typer.Option(help="Injected latency per request.")] = 0,
    error_rate: Annotated[float, typer.Option(help="Fraction of API requests that fail.")] = 0.0,
    error_statuses: Annotated[
        str, typer.Option(help="Comma-separated statuses for injected errors.")
    ] = "500,502,503",
    reset_rate: Annotated[float, typer.Option(help="Fraction of connections reset.")] = 0.0,
    rate_limit: Annotated[
        str | None, typer.Option(help="N/SECONDS: at most N API requests per window.")
    ] = None,
) -> None:
    """Serve a local Hub for Spaces until SIGINT/SIGTERM; prints the endpoint URL once ready."""
    from spacectl.sandbox.server import SandboxConfig, serve

    with error_boundary():
        config = SandboxConfig.from_cli(
            host=host,
            port=port,
            data=data,
            users=user or [],
            orgs=org or [],
            build_seconds=build_seconds,
            upload_mode=upload_mode,
            latency_ms=latency_ms,
            error_rate=error_rate,
            error_statuses=error_statuses,
            reset_rate=reset_rate,
            rate_limit=rate_limit,
        )
        serve(config, announce=lambda line: typer.echo(line))


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
