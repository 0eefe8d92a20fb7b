"""The on-disk caches: trees by commit id only, digests invalidated by any stat change, and a
scan through the digest cache giving exactly what a fresh scan gives."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import spacectl.files
from spacectl.cache import CACHE_DIR_ENV, DigestCache, TreeCache, cache_dir
from spacectl.files import scan_source

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_the_cache_folder_is_the_flag_then_the_environment_then_the_user_cache(
    tmp_path: Path,
) -> None:
    assert cache_dir(tmp_path / "flag", {CACHE_DIR_ENV: "/env"}) == tmp_path / "flag"
    assert cache_dir(None, {CACHE_DIR_ENV: "/env", "XDG_CACHE_HOME": "/xdg"}) == Path("/env")
    assert cache_dir(None, {"XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/spacectl")
    assert cache_dir(None, {}) == Path.home() / ".cache" / "spacectl"


def test_trees_are_kept_by_endpoint_space_and_commit_id_only(tmp_path: Path) -> None:
    trees = TreeCache(tmp_path)
    rows = [{"path": "app.py", "size": 3, "blob_id": "b" * 40, "lfs_sha256": None}]
    trees.put("http://hub", "acme/App", COMMIT, rows)
    assert trees.get("http://hub/", "acme/app", COMMIT) == rows
    assert trees.get("http://other", "acme/app", COMMIT) is None
    assert trees.get("http://hub", "acme/other", COMMIT) is None
    assert trees.get("http://hub", "acme/app", "f" * 40) is None
    trees.put("http://hub", "acme/app", "main", rows)  # a branch moves: never cached
    assert trees.get("http://hub", "acme/app", "main") is None
    path = next((tmp_path / "trees").rglob(f"{COMMIT}.json"))
    path.write_text("{damaged")
    assert trees.get("http://hub", "acme/app", COMMIT) is None


def _old(path: Path) -> None:
    """Back-date a file so the racy-clean rule lets its digest be cached."""
    past = time.time() - 60
    os.utime(path, (past, past))


def test_a_digest_is_reused_only_while_the_file_is_unchanged(tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("one\n")
    _old(file)
    cache = DigestCache(tmp_path / "cache")
    cache.put(file, os.stat(file), "b" * 40, "s" * 64)
    cache.save()
    again = DigestCache(tmp_path / "cache")
    assert again.get(file, os.stat(file)) == ("b" * 40, "s" * 64)
    file.write_text("two\n")  # same size, new mtime and ctime
    assert again.get(file, os.stat(file)) is None


def test_a_file_modified_just_now_is_not_cached(tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("fresh\n")
    cache = DigestCache(tmp_path / "cache")
    cache.put(file, os.stat(file), "b" * 40, "s" * 64)
    assert cache.get(file, os.stat(file)) is None


def test_a_scan_through_the_cache_equals_a_fresh_scan_and_reads_no_unchanged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(20):
        (src / ("sub" if i % 2 else "") / f"f{i}.bin").write_bytes(bytes([i]) * (i * 1000 + 1))
    for path in src.rglob("*.bin"):
        _old(path)
    fresh = scan_source(src)
    cache = DigestCache(tmp_path / "cache")
    assert scan_source(src, digests=cache) == fresh
    cache.save()
    reads: list[Path] = []
    real = spacectl.files._read_hashed
    monkeypatch.setattr(
        spacectl.files, "_read_hashed", lambda p, *a: reads.append(p) or real(p, *a)
    )
    (src / "f0.bin").write_bytes(b"changed")
    warm = scan_source(src, digests=DigestCache(tmp_path / "cache"))
    assert reads == [src / "f0.bin"]
    assert warm == scan_source(src)
