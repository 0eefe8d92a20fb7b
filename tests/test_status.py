"""status rows from live state (pure): stages, drift, absent Spaces, sleep-time spelling."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from spacectl.manifest_loader import parse_manifest
from spacectl.state import LiveSpace
from spacectl.status import format_sleep, render_status_text, status_rows

MANIFEST = """\
owner: acme
spaces:
  app: {sdk: gradio, hardware: t4-small, visibility: private}
  Docs: {sdk: static}
  missing: {sdk: gradio}
  old: {state: absent}
"""


def _rows(tmp_path: Path):
    manifest = parse_manifest(MANIFEST, "spaces.yaml", base_dir=tmp_path)
    live = {
        "acme/app": LiveSpace(
            id="acme/app",
            sdk="gradio",
            visibility="public",
            sha="abcdef1234",
            stage="BUILD_ERROR",
            requested_hardware="t4-small",
            sleep_time=None,
            error_message="Dockerfile has no FROM",
            card_data={"sdk": "gradio"},
        ),
        "acme/Docs": LiveSpace(
            id="acme/docs",
            sdk="static",
            visibility="public",
            sha="1" * 40,
            card_data={"sdk": "static"},
        ),
        "acme/missing": None,
        "acme/old": LiveSpace(id="acme/old", sdk="gradio", visibility="public", sha="2" * 40),
    }
    return status_rows(manifest, live, endpoint="http://hub.test")


def test_rows_show_stage_drift_and_absence(tmp_path: Path) -> None:
    rows = {row.id: row for row in _rows(tmp_path)}
    app = rows["acme/app"]
    assert app.stage == "BUILD_ERROR" and app.sleep_time == -1
    assert app.drift == ("visibility",)
    assert app.warning == "1 change pending: visibility"
    assert app.page_url == "http://hub.test/spaces/acme/app"
    assert app.app_url is None  # hub.test serves no app: no *.hf.space link for it
    public = status_rows(
        parse_manifest("owner: acme\nspaces:\n  app: {}\n", "s.yaml", base_dir=tmp_path),
        {"acme/app": LiveSpace(id="acme/app", sdk="gradio", visibility="public", sha="1" * 40)},
        endpoint="https://huggingface.co",
    )
    assert public[0].app_url == "https://acme-app.hf.space"
    assert rows["acme/Docs"].sleep_time is None and rows["acme/Docs"].warning is None
    assert rows["acme/missing"].stage == "absent"
    assert rows["acme/missing"].warning == "not on the Hub: `spacectl apply` creates it"
    assert rows["acme/old"].warning == "pending deletion (state: absent)"
    text = render_status_text(list(rows.values()))
    assert (
        "! acme/app: BUILD_ERROR: Dockerfile has no FROM (see `spacectl logs acme/app --build`)"
        in text
    )
    assert rows["acme/app"].to_dict()["hardware"] == {"requested": "t4-small", "current": None}


def test_sleep_time_spelling() -> None:
    assert [format_sleep(s) for s in (None, -1, 172800, 3600, 1800, 90)] == [
        "-",
        "never",
        "48h",
        "1h",
        "30m",
        "90s",
    ]


def test_terminal_table_fits_100_columns_and_keeps_urls_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spacectl.cli.operate import _print_status_table

    name = "platform-inference-gateway-with-a-long-name"
    manifest = parse_manifest(
        f"owner: ifcore-org\nspaces:\n  {name}: {{sdk: docker, hardware: t4-small}}\n",
        "spaces.yaml",
        base_dir=tmp_path,
    )
    space_id = f"ifcore-org/{name}"
    live = {
        space_id: LiveSpace(
            id=space_id,
            sdk="docker",
            visibility="public",
            sha="a" * 40,
            last_modified=datetime(2026, 12, 1, 10, 55, tzinfo=UTC),
            stage="RUNTIME_ERROR",
            requested_hardware="t4-small",
            current_hardware="cpu-basic",
            error_message="[bold]exit 1[/bold]",
            card_data={"sdk": "docker"},
            host="https://ifcore-org-gateway.example.test",
        )
    }
    rows = status_rows(manifest, live, endpoint="http://127.0.0.1:45678")
    _print_status_table(rows, width=100)
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 100, lines
    assert lines[0].split() == ["SPACE", "STAGE", "HARDWARE", "SLEEP", "LAST", "COMMIT"]
    assert "RUNTIME_ERROR" in lines[1] and "aaaaaaa 2026-12-01 10:55" in lines[1]
    text = "\n".join(lines)
    # The URLs the Hub reported, whole (clickable); markup in a message printed as written.
    assert "https://ifcore-org-gateway.example.test" in text
    assert f"http://127.0.0.1:45678/spaces/{space_id}" in text
    assert "[bold]exit 1[/bold]" in text
    # Piped, the same rows are one line each (what grep and awk read).
    plain = render_status_text(rows).splitlines()
    assert plain[1].startswith(f"{space_id}  RUNTIME_ERROR")
