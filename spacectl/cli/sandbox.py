"""`spacectl sandbox serve`: a local Hub for Spaces, in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spacectl.cli.boundary import error_boundary

sandbox_app = typer.Typer(help="Run a local Hub sandbox that huggingface_hub can talk to.")


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
    lost_response_rate: Annotated[
        float,
        typer.Option(help="Fraction of requests carried out whose answer is then lost."),
    ] = 0.0,
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
            lost_response_rate=lost_response_rate,
            rate_limit=rate_limit,
        )
        serve(config, announce=lambda line: typer.echo(line))
