"""What every command writes besides its result: lines on stderr, JSON documents, and whether to
decorate."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

import typer

from spacectl.escape import json_text

# Set by `--no-color` (`no_color_flag`): stronger than FORCE_COLOR.
_no_color = False


def err(message: str) -> None:
    """One line on stderr (notes, progress, errors): stdout carries only the command's result."""
    typer.echo(message, err=True)


def echo_json(document: dict[str, Any]) -> None:
    """A `--format json` result on stdout, alone (notes go to stderr), so `| jq` works. The
    caller's document carries `format_version`; nothing in it is a secret value."""
    typer.echo(json_text(document))


def no_color_flag(value: bool) -> None:
    """The `--no-color` callback: no colour on any stream for the rest of the run."""
    global _no_color
    _no_color = _no_color or value


def _colour_allowed() -> bool:
    # no-color.org and force-color.org: a variable counts when set and not empty.
    return not _no_color and not os.environ.get("NO_COLOR")


def decorated(stream: TextIO) -> bool:
    """Live displays (apply's progress table) only on a terminal, never with `--no-color` or
    NO_COLOR (no-color.org); FORCE_COLOR does not start one in a log."""
    return stream.isatty() and _colour_allowed()


def use_color() -> bool:
    """Whether the result on stdout may be coloured: on a terminal, or anywhere with FORCE_COLOR
    (CI logs render ANSI colour); never with `--no-color` or NO_COLOR."""
    return _colour_allowed() and (sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR")))
