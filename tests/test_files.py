"""Local folder -> desired files: hashes checked against git itself, ignore rules, README merge."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from spacectl.errors import ConfigError
from spacectl.files import (
    LocalFile,
    desired_files,
    readme_front_matter,
    render_readme,
    scan_source,
    split_front_matter,
)
from spacectl.manifest import CardSpec, SpaceSpec

GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=GIT_ENV,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)
    return root


# --- hashes ------------------------------------------------------------------------------------


def test_blob_ids_and_sha256_match_git_and_hashlib(tmp_path: Path) -> None:
    contents: dict[str, bytes | str] = {
        "empty.txt": b"",
        "hello.txt": "Hello, World!",
        "binary.bin": bytes(range(256)) * 7,
        "big.bin": os.urandom(3 * (1 << 20) + 123),  # several 1 MiB chunks plus a tail
        "unicode/émoji 🏗️.md": "# 🏗️\n",
    }
    root = _tree(tmp_path / "src", contents)
    files = scan_source(root)
    assert sorted(files) == sorted(contents)
    for rel, local in files.items():
        data = (root / rel).read_bytes()
        assert local.blob_id == _git(root, "hash-object", "--", rel).strip(), rel
        assert local.sha256 == hashlib.sha256(data).hexdigest()
        assert local.size == len(data)
        assert local.source_path == root / rel and local.content is None
    assert files["hello.txt"].blob_id == "b45ef6fec89518d314f546fd6c3025367b721684"


def test_local_file_from_bytes_matches_git(tmp_path: Path) -> None:
    data = b"---\nsdk: docker\n---\n"
    (tmp_path / "README.md").write_bytes(data)
    local = LocalFile.from_bytes("README.md", data)
    assert local.blob_id == _git(tmp_path, "hash-object", "README.md").strip()
    assert (local.size, local.content, local.source_path) == (len(data), data, None)
    assert local.read_bytes() == data


def test_two_thousand_files_are_scanned_correctly_and_quickly(tmp_path: Path) -> None:
    root = tmp_path / "src"
    contents = {
        f"pkg{i % 20:02d}/mod{i:04d}.py": f"VALUE = {i}\n" * (i % 7 + 1) for i in range(2000)
    }
    _tree(root, {**contents, ".gitignore": "*.log\n", "pkg00/skip.log": "x"})
    started = time.perf_counter()
    files = scan_source(root)
    elapsed = time.perf_counter() - started
    assert list(files) == sorted([*contents, ".gitignore"])
    paths = list(files)
    expected = _git(root, "hash-object", "--stdin-paths", stdin="\n".join(paths) + "\n").split()
    assert [files[p].blob_id for p in paths] == expected
    assert elapsed < 5, f"scanning 2,000 files took {elapsed:.2f}s"


# --- what is uploaded ---------------------------------------------------------------------------


def test_ignore_rules_agree_with_git(tmp_path: Path) -> None:
    """git itself (`ls-files --others --exclude-standard`) is the oracle for .gitignore rules."""
    root = _tree(
        tmp_path / "src",
        {
            ".gitignore": "*.log\n/build/\nsecrets.env\n!keep.log\ndocs/*.tmp\n*.csv\n",
            "app.py": "",
            "debug.log": "",
            "keep.log": "",
            "build/out.bin": "",
            "sub/build/kept.txt": "",
            "sub/secrets.env": "",
            "docs/a.tmp": "",
            "docs/deep/b.tmp": "",
            # the deeper .gitignore wins over the root one
            "nested/.gitignore": "!important.csv\n/local-only/\n",
            "nested/data.csv": "",
            "nested/important.csv": "",
            "nested/local-only/x.txt": "",
            "nested/inner/local-only/y.txt": "",
            "nested/inner/z.csv": "",
            "other/data.csv": "",
        },
    )
    _git(root, "init", "-q")
    expected = sorted(_git(root, "ls-files", "--others", "--exclude-standard").splitlines())
    assert sorted(scan_source(root)) == expected
    assert "nested/important.csv" in expected and "debug.log" not in expected  # oracle sanity


def test_manifest_ignore_patterns_come_first_and_can_reinclude(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "src",
        {
            ".gitignore": "dist/\n",
            "dist/app.js": "",
            "app.py": "",
            "notes.md": "",
            "tests/test_app.py": "",
            "data/raw/big.parquet": "",
        },
    )
    files = scan_source(root, ["*.md", "tests/", "/data/raw/"])
    assert sorted(files) == [".gitignore", "app.py"]
    assert sorted(scan_source(root, ["!dist/"])) == [
        ".gitignore",
        "app.py",
        "data/raw/big.parquet",
        "dist/app.js",
        "notes.md",
        "tests/test_app.py",
    ]


def test_git_folders_and_hf_cache_are_never_included(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "src",
        {
            "app.py": "",
            ".git/config": "",
            "vendor/lib/.git": "gitdir: ../../.git/modules/lib\n",
            "vendor/lib/code.py": "",
            "vendor/other/.git/HEAD": "",
            ".cache/huggingface/upload/x.lock": "",
            "sub/.cache/huggingface/download/y": "",
            ".gitignore": "!.git/\n",  # cannot re-include .git: it is skipped before any rule
        },
    )
    assert sorted(scan_source(root)) == [".gitignore", "app.py", "vendor/lib/code.py"]


def test_path_the_hub_refuses_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", {"app.py": "", "sub/.cache/pip/wheel.whl": ""})
    with pytest.raises(ConfigError) as info:
        scan_source(root)
    assert str(info.value) == (
        "The Hub refuses 'sub/.cache/pip/wheel.whl' (no file may be under a '.cache/' folder); "
        "add the folder to 'ignore' or .gitignore."
    )
    assert sorted(scan_source(root, [".cache/"])) == ["app.py"]


def test_missing_source_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        scan_source(tmp_path / "nope")
    assert (
        str(info.value) == f"Source folder '{tmp_path / 'nope'}' does not exist or is not a folder."
    )


def test_symbolic_links(tmp_path: Path) -> None:
    outside = _tree(tmp_path / "outside", {"secret.txt": "s", "shared/LICENSE": "MIT"})
    root = _tree(tmp_path / "src", {"app.py": "", "public/index.html": "<p>"})
    (root / "LICENSE").symlink_to(root / "public" / "index.html")
    (root / "home").symlink_to(outside, target_is_directory=True)
    (root / "static").symlink_to(root / "public", target_is_directory=True)
    (root / "public" / "loop").symlink_to(root / "public", target_is_directory=True)
    files = scan_source(root)
    assert sorted(files) == ["LICENSE", "app.py", "public/index.html", "static/index.html"]
    assert files["LICENSE"].size == 3
    (root / "creds").symlink_to(outside / "secret.txt")
    with pytest.raises(ConfigError) as info:
        scan_source(root)
    assert str(info.value) == (
        "'creds' is a symbolic link to a file outside the source folder; spacectl does not "
        "upload it. Copy the file in, or add the link to 'ignore'."
    )
    assert "creds" not in scan_source(root, ["creds"])
    (root / "creds").unlink()
    (root / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(ConfigError) as info:
        scan_source(root)
    assert (
        str(info.value) == "'dangling' is a broken symbolic link; remove it or add it to 'ignore'."
    )


def test_scan_is_deterministic_and_sorted_by_path(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", {"a.txt": "", "a/b.txt": "", "B.txt": "", "a-b.txt": ""})
    files = scan_source(root)
    assert list(files) == ["B.txt", "a-b.txt", "a.txt", "a/b.txt"]
    assert scan_source(root) == files


# --- README card --------------------------------------------------------------------------------

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
    root = _tree(tmp_path / "src", {"app.py": "", "README.md": "---\nlicense: mit\n---\nBody\n"})
    files = desired_files(_spec(root, sdk="docker", card=CardSpec(title="Demo", app_port=7860)))
    assert files is not None and sorted(files) == ["README.md", "app.py"]
    readme = files["README.md"]
    expected = b"---\nlicense: mit\ntitle: Demo\nsdk: docker\napp_port: 7860\n---\nBody\n"
    assert (readme.content, readme.source_path) == (expected, None)
    assert readme.blob_id == LocalFile.from_bytes("README.md", expected).blob_id


def test_desired_files_keeps_a_readme_already_in_sync_on_disk(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", {"README.md": "---\nsdk: static\n---\n"})
    files = desired_files(_spec(root, sdk="static"))
    assert files is not None
    assert files["README.md"].source_path == root / "README.md"


def test_desired_files_leaves_a_missing_readme_to_the_planner(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", {"index.html": ""})
    files = desired_files(_spec(root, sdk="static", card=CardSpec(title="x")))
    assert files is not None and list(files) == ["index.html"]


def test_desired_files_without_card_or_sdk_is_the_plain_scan(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", {"README.md": "anything", "x.log": "", "a.py": ""})
    assert desired_files(_spec(root, ignore=("*.log",))) == scan_source(root, ["*.log"])


def test_spaces_sharing_a_folder_get_their_own_readme(tmp_path: Path) -> None:
    root = _tree(tmp_path / "template", {"app.py": "", "README.md": "# Team\n"})
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
