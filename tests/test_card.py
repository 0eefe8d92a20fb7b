"""The README card: front matter split and read, card and SDK merged into README text, and the
desired file set of a Space with the card merged into its source folder's README."""

from __future__ import annotations

from pathlib import Path

import pytest
from trees import write_tree

from spacectl.card import desired_files, readme_front_matter, render_readme, split_front_matter
from spacectl.errors import ConfigError
from spacectl.files import LocalFile, scan_source
from spacectl.manifest import CardSpec, SpaceSpec

README = """\
---
# managed partly by spacectl
title: Old title
emoji: 🏗️
tags:
- internal
- demo
custom_key: 'kept as written'
---

# Platform

Body text with a --- line inside:
---
"""


def test_render_readme_merges_card_and_keeps_the_rest() -> None:
    out = render_readme(README, {"title": "IFCore Platform", "app_port": 7860}, "docker")
    assert (
        out
        == """\
---
# managed partly by spacectl
title: IFCore Platform
emoji: 🏗️
tags:
- internal
- demo
custom_key: 'kept as written'
sdk: docker
app_port: 7860
---

# Platform

Body text with a --- line inside:
---
"""
    )


def test_render_readme_is_deterministic_and_idempotent() -> None:
    card = {"title": "T", "tags": ["a", "b"], "pinned": True, "colorFrom": "red"}
    first = render_readme(README, card, "gradio")
    assert render_readme(README, card, "gradio") == first
    assert render_readme(first, card, "gradio") is first  # in sync: returned untouched
    assert readme_front_matter(first) == {
        "title": "T",
        "emoji": "🏗️",
        "tags": ["a", "b"],
        "custom_key": "kept as written",
        "colorFrom": "red",
        "sdk": "gradio",
        "pinned": True,
    }


def test_render_readme_in_sync_returns_base_unchanged() -> None:
    assert (
        render_readme(README, {"title": "Old title", "tags": ["internal", "demo"]}, None) is README
    )
    assert render_readme("plain body\n", {}, None) == "plain body\n"


def test_render_readme_tells_true_from_one() -> None:
    out = render_readme("---\npinned: 1\n---\n", {"pinned": True}, None)
    assert out == "---\npinned: true\n---\n"


def test_render_readme_keeps_indented_sequences() -> None:
    base = "---\ntags:\n  - a\nmodels:\n  - m\n---\nbody\n"
    assert render_readme(base, {"tags": ["a", "b"]}, None) == (
        "---\ntags:\n  - a\n  - b\nmodels:\n  - m\n---\nbody\n"
    )


def test_render_readme_without_base() -> None:
    card = {"emoji": "🧪", "title": "Team A", "pinned": None, "app_file": "app.py"}
    assert render_readme(None, card, "gradio") == (
        "---\ntitle: Team A\nemoji: 🧪\nsdk: gradio\napp_file: app.py\n---\n\n# Team A\n"
    )
    assert render_readme(None, {}, "static", name="docs") == "---\nsdk: static\n---\n\n# docs\n"


def test_render_readme_adds_front_matter_to_a_plain_readme() -> None:
    assert render_readme("# Hello\n", {"title": "Hi"}, "docker") == (
        "---\ntitle: Hi\nsdk: docker\n---\n\n# Hello\n"
    )


def test_invalid_front_matter_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        render_readme("---\ntitle: [unclosed\n---\n", {"title": "x"}, None, source="app/README.md")
    assert str(info.value).startswith("app/README.md: front matter is not valid YAML: ")
    with pytest.raises(ConfigError) as info:
        readme_front_matter("---\n- a list\n---\n")
    assert str(info.value) == "README.md: front matter must be a mapping, got a list."


def test_split_front_matter() -> None:
    assert split_front_matter("---\na: 1\n---\nbody\n") == ("a: 1\n", "body\n")
    assert split_front_matter("---\n---\nbody") == ("", "body")
    assert split_front_matter("no front matter\n---\n") == (None, "no front matter\n---\n")
    assert readme_front_matter("# no front matter\n") == {}


# --- desired_files ------------------------------------------------------------------------------


def _spec(source: Path | None, **fields: object) -> SpaceSpec:
    return SpaceSpec.model_validate({"id": "o/demo", "source": source, **fields})


def test_desired_files_without_source_is_none() -> None:
    assert desired_files(_spec(None, sdk="docker", card=CardSpec(title="x"))) is None


def test_desired_files_merges_card_into_the_local_readme(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "src", {"app.py": "", "README.md": "---\nlicense: mit\n---\nBody\n"}
    )
    files = desired_files(_spec(root, sdk="docker", card=CardSpec(title="Demo", app_port=7860)))
    assert files is not None and sorted(files) == ["README.md", "app.py"]
    readme = files["README.md"]
    expected = b"---\nlicense: mit\ntitle: Demo\nsdk: docker\napp_port: 7860\n---\nBody\n"
    assert (readme.content, readme.source_path) == (expected, None)
    assert readme.blob_id == LocalFile.from_bytes("README.md", expected).blob_id


def test_desired_files_keeps_a_readme_already_in_sync_on_disk(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", {"README.md": "---\nsdk: static\n---\n"})
    files = desired_files(_spec(root, sdk="static"))
    assert files is not None
    assert files["README.md"].source_path == root / "README.md"


def test_desired_files_leaves_a_missing_readme_to_the_planner(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", {"index.html": ""})
    files = desired_files(_spec(root, sdk="static", card=CardSpec(title="x")))
    assert files is not None and list(files) == ["index.html"]


def test_desired_files_without_card_or_sdk_is_the_plain_scan(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", {"README.md": "anything", "x.log": "", "a.py": ""})
    assert desired_files(_spec(root, ignore=("*.log",))) == scan_source(root, ["*.log"])


def test_spaces_sharing_a_folder_get_their_own_readme(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "template", {"app.py": "", "README.md": "# Team\n"})
    scanned = scan_source(root)
    team_a = desired_files(_spec(root, sdk="gradio", card=CardSpec(title="A")), scanned=scanned)
    team_b = desired_files(_spec(root, sdk="gradio", card=CardSpec(title="B")), scanned=scanned)
    assert team_a is not None and team_b is not None
    assert team_a["README.md"].content == b"---\ntitle: A\nsdk: gradio\n---\n\n# Team\n"
    assert team_b["README.md"].content == b"---\ntitle: B\nsdk: gradio\n---\n\n# Team\n"
    assert team_a["app.py"] == team_b["app.py"] == scanned["app.py"]
    assert scanned["README.md"].source_path == root / "README.md"  # the shared scan is untouched


def test_changing_the_sdk_drops_the_old_sdks_keys() -> None:
    gradio = (
        "---\ntitle: Demo\nsdk: gradio\nsdk_version: 5.23.1\napp_file: app.py\n"
        "python_version: '3.11'\n---\n\nBody\n"
    )
    streamlit = render_readme(gradio, {}, "streamlit")
    assert "sdk: streamlit" in streamlit and "sdk_version" not in streamlit
    assert "app_file: app.py" in streamlit and "python_version" in streamlit
    docker = render_readme(gradio, {"app_port": 8000}, "docker")
    for gone in ("sdk_version", "app_file", "python_version"):
        assert gone not in docker
    assert "app_port: 8000" in docker and docker.endswith("---\n\nBody\n")
    # A key the card sets is kept even across an SDK change; the same SDK changes nothing.
    pinned = render_readme(gradio, {"sdk_version": "1.44.0"}, "streamlit")
    assert "sdk_version: 1.44.0" in pinned
    assert render_readme(gradio, {}, "gradio") == gradio
