"""The command line: thin commands over the library, and the one error boundary.

This package is the only one that prints to the terminal or exits, and the only importer of typer
and rich. Modules: `options` (the shared options and the Hub a command talks to), `boundary`
(errors -> exit codes), `output` (stderr lines, colour), the commands (`plan`: validate, schema,
plan, apply; `adopt`: import; `operate`: status, logs, doctor; `sandbox`: sandbox serve) and
`progress` (apply's live display). A command imports the library modules it needs when it runs,
so that `--help`, `validate` and `schema` start without loading the Hub client or the sandbox.
"""

from __future__ import annotations

from typing import Annotated

import typer

from spacectl import __version__
from spacectl.cli import adopt, operate, plan
from spacectl.cli.boundary import run_app
from spacectl.cli.sandbox import sandbox_app

app = typer.Typer(
    name="spacectl",
    help="Declarative infrastructure-as-code for Hugging Face Spaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox_app, name="sandbox")


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


# In this order in `spacectl --help`.
app.command()(plan.validate)
app.command()(plan.schema)
app.command()(plan.plan)
app.command()(plan.apply)
app.command("import")(adopt.import_)
app.command()(operate.status)
app.command()(operate.logs)
app.command()(operate.doctor)


def main() -> None:
    """Console entry point (`spacectl`, `python -m spacectl`): see `boundary.run_app`."""
    run_app(app)
