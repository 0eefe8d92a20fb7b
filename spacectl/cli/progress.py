"""apply's progress display (rich's only use): imported by `apply` alone, when it runs."""

from __future__ import annotations

import sys
import threading

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from spacectl.cli.output import decorated, err
from spacectl.escape import printable


class ApplyProgress:
    """Per-Space progress of apply, on stderr: a live table on a terminal (one row per Space,
    its current step), plain `space: message` lines otherwise (CI logs)."""

    def __init__(self, space_ids: list[str]) -> None:
        self._steps = dict.fromkeys(space_ids, "waiting")
        self._lock = threading.Lock()
        self._live: Live | None = None
        if decorated(sys.stderr):
            self._live = Live(
                self._table(), console=Console(stderr=True), refresh_per_second=8, transient=True
            )

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        for space_id, step in self._steps.items():
            # Steps quote file names and Hub answers: neither rich markup nor a control character.
            table.add_row(escape(printable(space_id)), escape(printable(step)))
        return table

    def report(self, space_id: str, message: str) -> None:
        """Show `message` as the current step of `space_id` (apply's `Reporter`)."""
        if self._live is None:
            err(f"{printable(space_id)}: {printable(message)}")
            return
        with self._lock:
            self._steps[space_id] = message
            self._live.update(self._table())

    def __enter__(self) -> ApplyProgress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
