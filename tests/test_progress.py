"""apply's live table at scale: it draws the latest rows that fit the terminal, not every Space."""

from __future__ import annotations

import pytest

import spacectl.cli.progress
from spacectl.cli.progress import ApplyProgress


def test_the_live_table_draws_what_fits_newest_last_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spacectl.cli.progress, "decorated", lambda stream: True)
    ids = [f"acme/s{i:04d}" for i in range(1000)]
    progress = ApplyProgress(ids)
    height = progress._console.height
    for sid in ids[:600]:
        progress.report(sid, "create Space (sdk=static)")
    progress.report("acme/s0003", "[bold]failed[/bold]: boom")
    table = progress._table()
    assert table.row_count == height - 1  # the rows that fit, and the count of the others
    names = [str(cell) for cell in table.columns[0].cells]
    steps = [str(cell) for cell in table.columns[1].cells]
    assert names[-3] == "acme/s0599" and names[-2] == "acme/s0003"
    assert steps[-2] == "[bold]failed[/bold]: boom"  # shown as written, not as markup
    assert names[-1] == f"({1000 - (height - 2)} more: 400 not started)"


def test_the_live_table_escapes_control_characters_from_names_and_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    monkeypatch.setattr(spacectl.cli.progress, "decorated", lambda stream: True)
    forged = "acme/s1\r\x1b[2Jacme/s9: deleted"
    progress = ApplyProgress([forged])
    progress.report(forged, "upload evil\nname\u202etxt.exe: done")
    out = io.StringIO()
    Console(file=out, width=200, color_system=None, force_terminal=False).print(progress._table())
    drawn = out.getvalue()
    assert "\x1b" not in drawn and "\r" not in drawn and "\u202e" not in drawn
    assert "\\r\\x1b[2Jacme/s9: deleted" in drawn
    assert "upload evil\\nname\\u202etxt.exe: done" in drawn
