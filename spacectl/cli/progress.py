"""apply's progress display (rich's only use): imported by `apply` alone, when it runs."""

from __future__ import annotations

import itertools
import sys
import threading
from collections import OrderedDict

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from spacectl.cli.output import decorated, err
from spacectl.escape import printable


class ApplyProgress:
    """Per-Space progress of apply, on stderr: a live table on a terminal, plain
    `space: message` lines otherwise (CI logs).

    The table shows the Spaces most recently reported, newest last, as many as the terminal has
    rows for, and a count of the others: a report costs O(1) and a refresh O(rows shown), never
    O(Spaces), so a 1,000-Space apply draws as cheaply as a 10-Space one."""

    def __init__(self, space_ids: list[str]) -> None:
        self._total = len(space_ids)
        self._steps: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._live: Live | None = None
        if decorated(sys.stderr):
            self._console = Console(stderr=True)
            self._live = Live(
                console=self._console,
                refresh_per_second=8,
                transient=True,
                get_renderable=self._table,
            )

    def _table(self) -> Table:
        """The rows to draw now (rich calls this on each refresh)."""
        room = max(1, self._console.height - 2)
        table = Table(box=None, show_header=False, pad_edge=False)
        with self._lock:
            shown = list(itertools.islice(reversed(self._steps.items()), room))
            started = len(self._steps)
        for space_id, step in reversed(shown):
            # Steps quote file names and Hub answers: Text takes no markup; printable() no control
            # character.
            table.add_row(Text(printable(space_id)), Text(printable(step)))
        hidden = self._total - len(shown)
        if hidden:
            table.add_row(Text(f"({hidden} more: {self._total - started} not started)"), "")
        return table

    def report(self, space_id: str, message: str) -> None:
        """Show `message` as the current step of `space_id` (apply's `Reporter`)."""
        if self._live is None:
            err(f"{printable(space_id)}: {printable(message)}")
            return
        with self._lock:
            self._steps[space_id] = message
            self._steps.move_to_end(space_id)

    def __enter__(self) -> ApplyProgress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
