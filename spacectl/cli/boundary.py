"""The one error boundary: how a command's failure becomes an exit code and a message, never a
traceback (the codes are spacectl.errors')."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer >= 0.29 vendors click

from spacectl.cli.output import err
from spacectl.errors import EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED, SpacectlError


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn a SpacectlError into `Error: ...` (and `Hint: ...`) on stderr and its exit code."""
    try:
        yield
    except SpacectlError as exc:
        err(f"Error: {exc.message}")
        if exc.hint:
            err(f"Hint: {exc.hint}")
        raise typer.Exit(exc.exit_code) from None


def run_app(app: typer.Typer) -> None:
    """Run `app` as the console entry point: exit 0/1/2 as the commands decide, 1 on a usage
    error (2 is reserved for `plan --detailed-exitcode`'s "changes present", as in Terraform),
    130 on Ctrl-C, 3 on anything else (a bug; SPACECTL_DEBUG=1 shows its traceback instead)."""
    try:
        # Not standalone: click would print usage errors in a box and exit 2.
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # bare `spacectl`: the help
        exc.show()
        sys.exit(EXIT_ERROR)
    except typer.TyperException as exc:  # unknown option, missing argument, bad choice
        err(f"Error: {_printable(exc.format_message())}")
        ctx = exc.ctx if isinstance(exc, UsageError) else None
        command = ctx.command_path if ctx is not None else "spacectl"
        err(f"Hint: run `{_printable(command)} --help`")
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
        err(f"Internal error: {type(exc).__name__}: {exc}")
        err("This is a bug in spacectl; run again with SPACECTL_DEBUG=1 and report the traceback.")
        sys.exit(EXIT_INTERNAL)
    # A command's typer.Exit(code), or None when it returned normally.
    sys.exit(code if isinstance(code, int) else 0)


def _printable(text: str) -> str:
    """`text` with control characters (from a mistyped argument, say) shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
