"""The one error boundary: how a command's failure becomes an exit code and a message, never a
traceback (the codes are spacectl.errors')."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from spacectl.cli.output import err
from spacectl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, SpacectlError


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
    """Run `app` as the console entry point: exit 0/1/2 as the commands decide, 130 on Ctrl-C,
    3 on anything else (a bug; SPACECTL_DEBUG=1 shows its traceback instead)."""
    try:
        app()
    except KeyboardInterrupt:
        err("Interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # the last line of defence: a bug, not a user error
        if os.environ.get("SPACECTL_DEBUG"):
            raise
        err(f"Internal error: {type(exc).__name__}: {exc}")
        err("This is a bug in spacectl; run again with SPACECTL_DEBUG=1 and report the traceback.")
        sys.exit(EXIT_INTERNAL)
