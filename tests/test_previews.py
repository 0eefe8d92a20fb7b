"""What a preview is, without a Hub: the copies' settings, the IDs and ages the CLI accepts,
and the marker that alone allows a deletion (the lifecycle itself: tests/e2e/test_previews.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spacectl.errors import ConfigError, ManifestError
from spacectl.manifest_loader import parse_manifest
from spacectl.previews import MARKER, check_id, expired, is_preview, parse_age, preview_manifest
from spacectl.state import LiveSpace, LiveVariable

MANIFEST = """\
owner: acme
previews:
  secrets: [PUBLIC_DEMO_KEY]
spaces:
  api:
    sdk: docker
    visibility: public
    hardware: a10g-small
    sleep_time: 3600
    dev_mode: true
    protect: true
    prune: true
    ignore_changes: [hardware]
    variables: {MODE: prod}
    secrets:
      API_KEY: {from_env: API_KEY}
      PUBLIC_DEMO_KEY: {from_env: DEMO_KEY}
    volumes: [{source: acme/data, mount_path: /data}]
  site: {sdk: static}
  gone: {state: absent}
"""


def _manifest(text: str = MANIFEST):
    return parse_manifest(text, "spaces.yaml", base_dir=Path.cwd(), check_sources=False)


def test_a_preview_is_a_private_cheap_copy_without_secrets_unless_allowed() -> None:
    preview = preview_manifest(_manifest(), "pr-7")
    assert dict(preview.copies) == {"acme/api-pr-7": "acme/api", "acme/site-pr-7": "acme/site"}
    api, site = preview.manifest.spaces
    assert (api.id, api.visibility, api.hardware, api.sleep_time, api.dev_mode) == (
        "acme/api-pr-7",
        "private",
        "cpu-basic",
        None,
        None,
    )
    assert api.variables == {"MODE": "prod", MARKER: "pr-7"}
    assert list(api.secrets) == ["PUBLIC_DEMO_KEY"]
    assert api.volumes is None and not api.protect and not api.prune and api.ignore_changes == ()
    assert site.hardware is None  # a static Space runs on no hardware


def test_previews_settings_and_targets() -> None:
    text = MANIFEST.replace(
        "  secrets: [PUBLIC_DEMO_KEY]\n",
        "  name: 'preview-{id}-{name}'\n  visibility: protected\n  hardware: cpu-upgrade\n",
    )
    preview = preview_manifest(_manifest(text), "pr-8", ["api"])
    [api] = preview.manifest.spaces
    assert (api.id, api.visibility, api.hardware, dict(api.secrets)) == (
        "acme/preview-pr-8-api",
        "protected",
        "cpu-upgrade",
        {},
    )
    with pytest.raises(ConfigError, match="--target nope names no Space"):
        preview_manifest(_manifest(), "pr-8", ["nope"])


def test_a_preview_never_renames_onto_a_manifest_space() -> None:
    text = MANIFEST.replace("  site: {sdk: static}\n", "  site: {sdk: static}\n  api-pr-7: {}\n")
    with pytest.raises(ManifestError, match="would be acme/api-pr-7, a Space of the manifest"):
        preview_manifest(_manifest(text), "pr-7")


@pytest.mark.parametrize(
    "pattern", ["{name}", "pr-{id}", "{name}-{id}-{sha}"], ids=["no-id", "no-name", "other"]
)
def test_the_name_pattern_is_checked_where_it_is_written(pattern: str) -> None:
    text = MANIFEST.replace("  secrets: [PUBLIC_DEMO_KEY]\n", f"  name: '{pattern}'\n")
    with pytest.raises(ManifestError) as info:
        _manifest(text)
    assert str(info.value).startswith("spaces.yaml:3:3: previews.name: ")


@pytest.mark.parametrize("good", ["pr-7", "42", "feature-x1"])
def test_ids(good: str) -> None:
    assert check_id(good) == good


@pytest.mark.parametrize("bad", ["", "PR-7", "pr--7", "pr-", "-pr", "a" * 32, "pr_7", "pr/7"])
def test_bad_ids(bad: str) -> None:
    with pytest.raises(ConfigError):
        check_id(bad)


def test_ages() -> None:
    assert parse_age("7d") == timedelta(days=7)
    assert parse_age("12h") == timedelta(hours=12)
    assert parse_age("30m") == timedelta(minutes=30)
    for bad in ("0d", "7", "1w", "d7", "-1d"):
        with pytest.raises(ConfigError):
            parse_age(bad)


def _live(space_id: str, marker: str | None, modified: datetime | None = None) -> LiveSpace:
    variables = {MARKER: LiveVariable(marker)} if marker is not None else {}
    return LiveSpace(
        id=space_id,
        sdk="docker",
        visibility="private",
        sha=None,
        stage=None,
        variables=variables,
        last_modified=modified,
    )


def test_only_the_marker_outside_the_manifest_allows_a_deletion() -> None:
    manifest = _manifest()
    assert is_preview(_live("acme/api-pr-7", "pr-7"), manifest, "pr-7")
    assert is_preview(_live("acme/api-pr-7", "pr-7"), manifest)  # any preview (list, prune)
    assert not is_preview(_live("acme/api-pr-7", "pr-8"), manifest, "pr-7")
    assert not is_preview(_live("acme/api-pr-7", None), manifest, "pr-7")
    assert not is_preview(_live("acme/api", "pr-7"), manifest, "pr-7")  # a manifest Space
    assert not is_preview(_live("ACME/Api", "pr-7"), manifest)  # names are case-insensitive


def test_expired_counts_from_the_last_commit() -> None:
    now = datetime(2026, 1, 10, tzinfo=UTC)
    week = timedelta(days=7)
    assert expired(_live("acme/a-pr-1", "pr-1", now - timedelta(days=8)), now, week)
    assert not expired(_live("acme/a-pr-1", "pr-1", now - timedelta(days=6)), now, week)
    assert not expired(_live("acme/a-pr-1", "pr-1", None), now, week)  # unknown: kept
