"""status rows from live state (pure): stages, drift, absent Spaces, sleep-time spelling."""

from __future__ import annotations

from pathlib import Path

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
    assert app.app_url == "https://acme-app.hf.space"
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
