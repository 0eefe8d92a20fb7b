"""Local folder -> file set: hashes checked against git itself, ignore rules, symbolic links."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from trees import write_tree

from spacectl.errors import ConfigError
from spacectl.files import LocalFile, scan_source

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


# --- hashes ------------------------------------------------------------------------------------


def test_blob_ids_and_sha256_match_git_and_hashlib(tmp_path: Path) -> None:
    contents: dict[str, bytes | str] = {
        "empty.txt": b"",
        "hello.txt": "Hello, World!",
        "binary.bin": bytes(range(256)) * 7,
        "big.bin": os.urandom(3 * (1 << 20) + 123),  # several 1 MiB chunks plus a tail
        "unicode/émoji 🏗️.md": "# 🏗️\n",
    }
    root = write_tree(tmp_path / "src", contents)
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
    write_tree(root, {**contents, ".gitignore": "*.log\n", "pkg00/skip.log": "x"})
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
    root = write_tree(
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
    root = write_tree(
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
    root = write_tree(
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
    root = write_tree(tmp_path / "src", {"app.py": "", "sub/.cache/pip/wheel.whl": ""})
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
    outside = write_tree(tmp_path / "outside", {"secret.txt": "s", "shared/LICENSE": "MIT"})
    root = write_tree(tmp_path / "src", {"app.py": "", "public/index.html": "<p>"})
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
    root = write_tree(tmp_path / "src", {"a.txt": "", "a/b.txt": "", "B.txt": "", "a-b.txt": ""})
    files = scan_source(root)
    assert list(files) == ["B.txt", "a-b.txt", "a.txt", "a/b.txt"]
    assert scan_source(root) == files


def test_the_credential_prefilter_never_misses_what_the_rules_match() -> None:
    """`scan_source` asks the gitwildmatch rules only about paths the cheap regex flags: the
    regex must flag every path the rules match (false positives only cost a rule check)."""
    from spacectl.files import _CREDENTIAL_NAMES, _CREDENTIAL_RULES, CREDENTIAL_FILES

    # The regex translates '*' only: a pattern with other glob syntax or a '/' needs more.
    assert all("/" not in p and not set(p) & set("?[]!\\") for p in CREDENTIAL_FILES)
    names = ["app.py", "README.md", "env", "x.env", ".envrc", "a.pem.txt", "id_rsa.pub", "key"]
    names += [".env", ".env.local", "server.pem", ".pem", "tls.key", "id_ed25519", ".netrc"]
    paths = [*names, *(f"sub/{n}" for n in names), *(f"{n}/inner.txt" for n in names)]
    paths += ["deep/er/.git-credentials", "a.key/b", "ok/.pypirc.bak", "x/id_dsa/y"]
    for path in paths:
        ruled = bool(_CREDENTIAL_RULES.match_file(path))
        assert not ruled or _CREDENTIAL_NAMES.search(path), path
    assert _CREDENTIAL_RULES.match_file("sub/.env") and _CREDENTIAL_NAMES.search("sub/.env")
    assert not _CREDENTIAL_NAMES.search("app.py")
