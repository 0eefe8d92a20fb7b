"""`ignore_changes` where the plan cases cannot look: the patterns, the values an operation that
writes a whole value carries (volumes, the card in README.md), and the table's names."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plan import _plan

from spacectl.attributes import ATTRIBUTES
from spacectl.ignoring import hold, is_ignored
from spacectl.manifest import IGNORABLE
from spacectl.operations import Commit, SetVolumes


def test_the_ignorable_names_are_the_attribute_table() -> None:
    assert tuple(attr.name for attr in ATTRIBUTES) == IGNORABLE


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("hardware", "hardware", True),
        ("hardware", "hard*", True),
        ("sleep_time", "hardware", False),
        ("variables.DEMO_MODE", "variables.DEMO_MODE", True),
        ("variables.DEMO_MODE_2", "variables.DEMO_MODE", False),
        ("variables.DEMO_MODE", "variables", True),
        ("secrets.API_KEY", "secrets.*", True),
        ("card.title", "card", True),
        ("cardinal", "card", False),
        ("volumes[/data].readOnly", "volumes[/data]", True),
        ("volumes[/models]", "volumes[/data]", False),
        ("files/data/a.csv", "files/data/*", True),
        ("files/data/sub/b.csv", "files/data/*", True),  # data/sub is below data/*, as in git
        ("files/data/sub/b.csv", "files/data/**", True),
        ("files/data/sub/b.csv", "files/data", True),
        ("files/database.csv", "files/data", False),
    ],
)
def test_patterns(path: str, pattern: str, expected: bool) -> None:
    assert is_ignored(path, [pattern]) is expected


def test_hold_takes_the_hubs_value_where_ignored_and_drops_what_the_hub_lacks() -> None:
    want = {"/data": {"source": "o/new", "readOnly": True}, "/new": {"source": "o/x"}}
    have = {"/data": {"source": "o/old", "readOnly": False}, "/kept": {"source": "o/k"}}

    def path_of(parts: tuple[object, ...]) -> str:
        return "volumes" + "".join(f"[{p}]" for p in parts)

    held = hold(want, have, path_of, ["volumes[/data][source]", "volumes[/new]", "volumes[/kept]"])
    assert held == {"/data": {"source": "o/old", "readOnly": True}, "/kept": {"source": "o/k"}}


def _case(manifest: str, live: dict[str, object]) -> dict[str, object]:
    return {"manifest": manifest, "live": {"acme/app": live}}


def test_an_ignored_volume_is_written_back_as_the_hub_has_it(tmp_path: Path) -> None:
    manifest = """\
owner: acme
spaces:
  app:
    sdk: docker
    ignore_changes: ["volumes[/data]"]
    volumes:
      - {source: acme/data-v2, mount_path: /data}
      - {source: acme/models, mount_path: /models, type: model}
"""
    live = {
        "sdk": "docker",
        "card_data": {"sdk": "docker"},
        "volumes": [{"type": "bucket", "source": "acme/data-by-hand", "mount_path": "/data"}],
    }
    plan = _plan(_case(manifest, live), tmp_path)
    (change,) = plan.changes
    assert change.ignored == ("volumes[/data].source",)
    (op,) = change.operations
    assert isinstance(op, SetVolumes)
    assert [v["source"] for v in op.volumes] == ["acme/data-by-hand", "acme/models"]


def test_an_ignored_card_key_keeps_the_hubs_value_in_the_committed_readme(tmp_path: Path) -> None:
    manifest = """\
owner: acme
spaces:
  app:
    sdk: gradio
    ignore_changes: [card.title]
    card: {title: Manifest title, emoji: "🚀"}
"""
    readme = "---\ntitle: Renamed by hand\nemoji: 🐢\nsdk: gradio\n---\nHello\n"
    live = {
        "sdk": "gradio",
        "card_data": {"title": "Renamed by hand", "emoji": "🐢", "sdk": "gradio"},
        "readme": readme,
        "files": {"README.md": readme},
    }
    plan = _plan(_case(manifest, live), tmp_path)
    (change,) = plan.changes
    assert change.ignored == ("card.title",)
    assert [fc.path for fc in change.fields] == ["card.emoji", "files/README.md"]
    (commit,) = change.operations
    assert isinstance(commit, Commit)
    (add,) = commit.additions
    text = str(add.content)
    assert "title: Renamed by hand" in text and "emoji: 🚀" in text
