"""The one error boundary: how a command's failure becomes an exit code and a message, never a
traceback (the codes are spacectl.errors')."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from spacectl.ci.workflow import annotation_path, github_actions, workflow_command
from spacectl.cli.output import err
from spacectl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, ManifestError, SpacectlError


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn a SpacectlError into `Error: ...` (and `Hint: ...`) on stderr and its exit code; in
    GitHub Actions also into an `::error` annotation (on the manifest's line when known)."""
    try:
        yield
    except SpacectlError as exc:
        err(f"Error: {exc.message}")
        if exc.hint:
            err(f"Hint: {exc.hint}")
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
