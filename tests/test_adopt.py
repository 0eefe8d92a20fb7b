"""import's pure logic: manifest entries from live state, merged into a new or existing manifest."""

from __future__ import annotations

from pathlib import Path

from spacectl.adopt import MANAGED_FIELDS, entry_from_live, import_spaces
from spacectl.manifest_loader import parse_manifest
from spacectl.state import LiveSecret, LiveSpace, LiveVariable, LiveVolume
from spacectl.yamlio import merge_spaces_into_manifest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _live(name: str = "demo", **fields: object) -> LiveSpace:
    base: dict[str, object] = {
        "id": f"acme/{name}",
        "sdk": "gradio",
        "visibility": "public",
        "sha": "a" * 40,
        "requested_hardware": "cpu-basic",
        "sleep_time": 172800,
        "variables": {},
        "secrets": {},
    }
    base.update(fields)
    return LiveSpace(**base)  # type: ignore[arg-type]


def test_static_space_has_no_hardware_or_sleep_time() -> None:
    entry = entry_from_live(_live(sdk="static", requested_hardware=None, sleep_time=None)).entry
    assert entry == {"sdk": "static", "visibility": "public"}


def test_free_hardware_leaves_out_its_fixed_sleep_time() -> None:
    entry = entry_from_live(_live()).entry
    assert entry["hardware"] == "cpu-basic" and "sleep_time" not in entry
    # A default sleep time (for the paid Spaces) is cleared: cpu-basic takes none.
    cleared = entry_from_live(_live(), defaults={"sleep_time": 3600}).entry
    assert "sleep_time" in cleared and cleared["sleep_time"] is None


def test_paid_hardware_null_sleep_time_is_never() -> None:
    entry = entry_from_live(_live(requested_hardware="t4-small", sleep_time=None)).entry
    assert entry["hardware"] == "t4-small" and entry["sleep_time"] == -1
    timed = entry_from_live(_live(requested_hardware="cpu-upgrade", sleep_time=3600)).entry
    assert timed["sleep_time"] == 3600


def test_secrets_become_env_references_and_keep_the_user_description() -> None:
    live = _live(
        secrets={
            "API_KEY": LiveSecret("Key for X [spacectl hmac=- at=2026-01-01T00:00:00Z]"),
            "TOKEN": LiveSecret(None),
        }
    )
    entry = entry_from_live(live).entry
    assert entry["secrets"] == {
        "API_KEY": {"from_env": "API_KEY", "description": "Key for X"},
        "TOKEN": {"from_env": "TOKEN"},
    }
    # A secret already mapped to another variable keeps that mapping.
    mapped = entry_from_live(live, existing={"secrets": {"TOKEN": {"from_env": "PROD_TOKEN"}}})
    assert mapped.entry["secrets"]["TOKEN"] == {"from_env": "PROD_TOKEN"}


def test_card_keeps_hub_keys_of_the_right_type_only() -> None:
    live = _live(
        card_data={
            "title": "Demo",
            "sdk": "gradio",
            "app_port": 8000,
            "tags": ["a", "b"],
            "sdk_version": 4.1,  # a YAML float on the Hub: the manifest wants a string
            "thumbnail": "x.png",  # not a key spacectl manages
        }
    )
    imported = entry_from_live(live)
    assert imported.entry["card"] == {"title": "Demo", "app_port": 8000, "tags": ["a", "b"]}
    assert any("sdk_version" in note for note in imported.notes)
    assert any("'thumbnail' not imported" in note for note in imported.notes)
    assert not any("'sdk'" in note for note in imported.notes)


def test_card_leaves_out_what_the_source_readme_already_says() -> None:
    live = _live(card_data={"title": "Demo", "emoji": "🔥", "pinned": False})
    entry = entry_from_live(live, readme_card={"title": "Demo", "emoji": "🚀"}).entry
    assert entry["card"] == {"emoji": "🔥", "pinned": False}


def test_volumes_normalised_and_kept_as_written_when_equal() -> None:
    live = _live(
        requested_hardware="cpu-upgrade",
        volumes=(
            LiveVolume("model", "acme/emb", "/models", read_only=True),
            LiveVolume("bucket", "acme/data", "/data", read_only=False),
        ),
    )
    entry = entry_from_live(live).entry
    assert entry["volumes"] == [
        {"type": "model", "source": "acme/emb", "mount_path": "/models"},
        {"type": "bucket", "source": "acme/data", "mount_path": "/data"},
    ]
    written = [
        {"source": "acme/data", "mount_path": "/data"},
        {"type": "model", "source": "acme/emb", "mount_path": "/models", "read_only": True},
    ]
    assert entry_from_live(live, existing={"volumes": written}).entry["volumes"] == written


def test_entry_is_relative_to_defaults_and_notes_what_defaults_add() -> None:
    live = _live(
        visibility="private",
        variables={"ORG": LiveVariable("acme"), "MODE": LiveVariable("fast")},
    )
    defaults = {"visibility": "private", "variables": {"ORG": "acme", "LOG_LEVEL": "info"}}
    imported = entry_from_live(live, defaults=defaults)
    assert "visibility" not in imported.entry
    assert imported.entry["variables"] == {"MODE": "fast"}
    assert any("LOG_LEVEL" in note for note in imported.notes)


def test_variable_written_as_number_or_boolean_is_kept() -> None:
    live = _live(variables={"WORKERS": LiveVariable("4"), "ON": LiveVariable("true")})
    existing = {"variables": {"WORKERS": 4, "ON": True}}
    assert entry_from_live(live, existing=existing).entry["variables"] == {"WORKERS": 4, "ON": True}


def test_new_manifest_is_valid_and_keys_foreign_owners_fully() -> None:
    result = import_spaces(
        None,
        [_live("one"), _live("site", sdk="static", requested_hardware=None)],
        owner="acme",
        header=["imported"],
    )
    assert result.text.startswith("# imported\nversion: 1\nowner: acme\n")
    manifest = parse_manifest(result.text, "spaces.yaml", base_dir=Path("."))
    assert [s.id for s in manifest.spaces] == ["acme/one", "acme/site"]
    other = merge_spaces_into_manifest(
        result.text, [("bob/tool", {"sdk": "docker"})], managed=("sdk",)
    )
    assert "\n  bob/tool:\n    sdk: docker\n" in other.text
    assert other.added == ("bob/tool",)


def test_import_spells_every_managed_attribute_but_the_files() -> None:
    from spacectl.adopt import _IMPORTERS, MANAGED_FIELDS
    from spacectl.attributes import ATTRIBUTES

    assert set(MANAGED_FIELDS) == {a.name for a in ATTRIBUTES} - {"files"}
    assert set(_IMPORTERS) == set(MANAGED_FIELDS)


def test_dev_mode_is_written_when_on_or_when_a_default_would_turn_it_on() -> None:
    assert entry_from_live(_live(dev_mode=True)).entry["dev_mode"] is True
    assert "dev_mode" not in entry_from_live(_live()).entry
    # A default `dev_mode: true` must not reach a Space that has it off (plan would turn it on).
    off = entry_from_live(_live(), defaults={"dev_mode": True}).entry
    assert off["dev_mode"] is False
    assert (
        "dev_mode" not in entry_from_live(_live(dev_mode=True), defaults={"dev_mode": True}).entry
    )
    # An entry that keeps dev mode off says so again on re-import.
    kept = entry_from_live(_live(), existing={"dev_mode": False}).entry
    assert kept["dev_mode"] is False


def test_import_keeps_a_healthcheck_the_user_wrote() -> None:
    """`healthcheck` is no Hub attribute: import neither writes nor drops it."""
    text = (
        "version: 1\nowner: acme\nspaces:\n  one:\n    sdk: docker\n"
        "    healthcheck: {path: /health, expect: 200, timeout: 30}\n"
    )
    live = _live("one", requested_hardware="cpu-upgrade")
    result = import_spaces(text, [live], owner="acme", header=[])
    assert "    healthcheck: {path: /health, expect: 200, timeout: 30}\n" in result.text
    assert "hardware: cpu-upgrade" in result.text
    (spec,) = parse_manifest(result.text, "spaces.yaml", base_dir=Path(".")).spaces
    assert spec.healthcheck is not None and spec.healthcheck.timeout == 30
    assert "healthcheck" not in MANAGED_FIELDS
