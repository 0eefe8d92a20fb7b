"""The command line: thin commands over the library, and the one error boundary.

This package is the only one that prints to the terminal or exits, and the only importer of typer
and rich. Modules: `options` (the shared options and the Hub a command talks to), `boundary`
(errors -> exit codes), `output` (stderr lines, colour), the commands (`plan`: validate, schema,
plan, apply; `lock`: unlock; `adopt`: import; `operate`: status, logs, doctor; `sandbox`:
sandbox serve) and `progress` (apply's live display). A command imports the library modules it
needs when it runs, so that `--help`, `validate` and `schema` start without loading the Hub client
or the sandbox.
"""

from __future__ import annotations

import gc
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand

from spacectl import __version__
from spacectl.cli import adopt, lock, operate, plan
from spacectl.cli.boundary import run_app
from spacectl.cli.options import NoColorOpt, examples
from spacectl.cli.preview import preview_app
from spacectl.cli.sandbox import sandbox_app

app = typer.Typer(
    name="spacectl",
    help="Declarative infrastructure-as-code for Hugging Face Spaces.",
    epilog=examples(
        "spacectl validate",
        "spacectl plan --sandbox",
        "spacectl apply --yes --wait",
        "spacectl --install-completion   # shell completion (bash, zsh, fish, PowerShell)",
    ),
    no_args_is_help=True,
    # `--install-completion` / `--show-completion`: typer's completion for the running shell.
    add_completion=True,
    pretty_exceptions_enable=False,
    # Click's plain help: metavars as the options declare them (FILE, NAME, N), no Python types.
    rich_markup_mode=None,
    # Inherited by every command (a click context's default), so `-h` works everywhere.
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(preview_app, name="preview")


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
    no_color: NoColorOpt = False,
) -> None:
    """Declarative infrastructure-as-code for Hugging Face Spaces."""


class _Argument(TyperArgument):
    """A positional argument as help shows it: its metavar (OWNER, NAME), no `<str>` type, and
    `OWNER` / `[PLANFILE]` in the usage line rather than typer's `{OWNER}`."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."


class _Command(TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _Argument


def _command(name: str | None = None, *, epilog: str) -> Any:
    return app.command(name, cls=_Command, epilog=epilog)


# In this order in `spacectl --help`.
_command(
    epilog=examples(
        "spacectl validate",
        "spacectl validate prod.yaml staging.yaml",
        "spacectl validate --format json | jq '.problems[]'",
    )
)(plan.validate)
_command(
    epilog=examples(
        "spacectl schema > spaces.schema.json",
        "# then, first line of spaces.yaml:",
        "# yaml-language-server: $schema=spaces.schema.json",
    )
)(plan.schema)
_command(
    epilog=examples(
        "spacectl plan",
        "spacectl plan --sandbox",
        "spacectl plan --target team-a --target team-b",
        "spacectl plan --out plan.json && spacectl apply plan.json",
        "spacectl plan --detailed-exitcode --format markdown > plan.md",
    )
)(plan.plan)
_command(
    epilog=examples(
        "spacectl apply",
        "spacectl apply --yes --wait --timeout 600",
        "spacectl apply plan.json",
        "spacectl apply --yes --format json | jq '.spaces[] | select(.outcome != \"applied\")'",
    )
)(plan.apply)
_command(
    epilog=examples(
        "spacectl unlock acme/demo   # after a killed apply left its lock",
        "spacectl unlock demo other -f spaces.yaml",
        "spacectl unlock acme/demo --format json | jq '.spaces[].unlocked'",
    )
)(lock.unlock)
_command(
    "import",
    epilog=examples(
        "spacectl import acme > spaces.yaml",
        "spacectl import acme --space demo -o spaces.yaml",
        "spacectl import acme --download spaces -o spaces.yaml",
        "spacectl import acme --format json -o spaces.yaml | jq .added",
    ),
)(adopt.import_)
_command(
    epilog=examples(
        "spacectl status",
        "spacectl status --detailed-exitcode   # exit 2 when a Space failed or is missing",
        "spacectl status --format json | jq -r '.spaces[] | [.id, .stage] | @tsv'",
    )
)(operate.status)
_command(
    epilog=examples(
        "spacectl logs demo",
        "spacectl logs demo --build",
        "spacectl logs acme/demo --tail 50 --follow",
    )
)(operate.logs)
_command(
    epilog=examples(
        "spacectl doctor",
        "spacectl doctor -f prod.yaml",
        "spacectl doctor --format json | jq '.checks[] | select(.verdict != \"PASS\")'",
    )
)(operate.doctor)


def main() -> None:
    """Console entry point (`spacectl`, `python -m spacectl`): see `boundary.run_app`."""
    try:
        run_app(app)
    finally:
        # The command is done: freezing what is alive keeps the interpreter's collections at
        # shutdown from walking every imported module's objects (measured: 0.25 s of a plan's
        # exit, 0.02 s frozen). atexit handlers and flushes still run.
        gc.freeze()
