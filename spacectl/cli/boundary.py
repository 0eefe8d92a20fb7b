"""The one error boundary: how a command's failure becomes an exit code and a message, never a
traceback (the codes are spacectl.errors')."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer >= 0.29 vendors click

from spacectl.ci.workflow import annotation_path, github_actions, workflow_command
from spacectl.cli.output import err
from spacectl.errors import (
    EXIT_ERROR,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    ManifestError,
    SpacectlError,
)
from spacectl.escape import printable


@contextmanager
def error_boundary(*, every_problem_in: object = None) -> Iterator[None]:
    """Turn a SpacectlError into `Error: ...` (and `Hint: ...`) on stderr and its exit code; in
    GitHub Actions also into an `::error` annotation (on the manifest's line when known).

    `every_problem_in` (the manifest as the user named it): a manifest error that carries every
    problem of the file (`problems`) prints each, one annotation each, then their count."""
    try:
        yield
    except SpacectlError as exc:
        problems = getattr(exc, "problems", None) if every_problem_in is not None else None
        if problems and len(problems) > 1:
            for problem in problems:
                err(f"Error: {printable(problem.message)}")
                if github_actions():
                    err(_annotation(problem))
            err(f"{len(problems)} problems in {every_problem_in}.")
            raise typer.Exit(exc.exit_code) from None
        # A message may quote a file name or a Hub answer: escaped, so it stays one line.
        err(f"Error: {printable(exc.message)}")
        if exc.hint and not problems:
            err(f"Hint: {printable(exc.hint)}")
        if github_actions():
            err(_annotation(exc))
        raise typer.Exit(exc.exit_code) from None


def _annotation(exc: SpacectlError) -> str:
    """`::error file=F,line=L,col=C::message` for a located manifest error, else
    `::error::message`."""
    if not isinstance(exc, ManifestError) or exc.location is None:
        return workflow_command("error", exc.message)
    at = exc.location
    message = f"{exc.where}: {exc.reason}" if exc.where else exc.reason
    return workflow_command(
        "error", message, file=annotation_path(at.path), line=str(at.line), col=str(at.column)
    )


def run_app(app: typer.Typer) -> None:
    """Run `app` as the console entry point: exit 0/1/2 as the commands decide, 1 on a usage
    error (2 is reserved for `plan --detailed-exitcode`'s "changes present", as in Terraform),
    130 on Ctrl-C, 3 on anything else (a bug; SPACECTL_DEBUG=1 shows its traceback instead)."""
    try:
        # Not standalone: click would print usage errors in a box and exit 2.
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # bare `spacectl`: the help, on stdout as `--help` prints it
        typer.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        sys.exit(EXIT_ERROR)
    except typer.TyperException as exc:  # unknown option, missing argument, bad choice
        err(f"Error: {printable(exc.format_message())}")
        ctx = exc.ctx if isinstance(exc, UsageError) else None
        command = ctx.command_path if ctx is not None else "spacectl"
        err(f"Hint: run `{printable(command)} --help`")
        sys.exit(EXIT_ERROR)
    except typer.Abort:  # end of input at a prompt
        err("Aborted.")
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        err("Interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # the last line of defence: a bug, not a user error
        if os.environ.get("SPACECTL_DEBUG"):
            raise
        err(f"Internal error: {type(exc).__name__}: {printable(str(exc))}")
        err("This is a bug in spacectl; run again with SPACECTL_DEBUG=1 and report the traceback.")
        sys.exit(EXIT_INTERNAL)
    # A command's typer.Exit(code), or None when it returned normally.
    sys.exit(code if isinstance(code, int) else 0)
