"""`spacectl sandbox serve`: a local Hub for Spaces, in the foreground.

The sandbox declares and parses its own flags (`spacectl.sandbox.config.FLAGS`, one row per
flag); this command only forwards its arguments, so a flag is declared once."""

from __future__ import annotations

import typer

from spacectl.cli.boundary import error_boundary

sandbox_app = typer.Typer(help="Run a local Hub sandbox that huggingface_hub can talk to.")


@sandbox_app.command(
    "serve",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def sandbox_serve(ctx: typer.Context) -> None:
    """Serve a local Hub for Spaces until SIGINT/SIGTERM; prints the endpoint URL once ready.

    `spacectl sandbox serve --help` lists the sandbox's flags."""
    from spacectl.sandbox.server import main

    with error_boundary():
        main(ctx.args)
