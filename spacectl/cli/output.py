"""What every command writes besides its result: lines on stderr, and whether to decorate."""

from __future__ import annotations

import os
import sys
from typing import TextIO

import typer


def err(message: str) -> None:
    """One line on stderr (notes, progress, errors): stdout carries only the command's result."""
    typer.echo(message, err=True)


def decorated(stream: TextIO) -> bool:
    """Colour and live displays only on a terminal, and never with NO_COLOR (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def use_color() -> bool:
    """Whether the result on stdout may be coloured."""
    return decorated(sys.stdout)
