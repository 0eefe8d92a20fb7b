"""The one atomic writer: whole files or none, permissions, no temporary file left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from spacectl.fsio import os_reason, write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "spaces.yaml"
    target.write_text("old\n")
    write_atomic(target, "new: ü\n")
    assert target.read_bytes() == "new: ü\n".encode()
    write_atomic(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spaces.yaml"]


def test_private_files_are_the_owners_only_others_follow_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "plan.json", "{}", private=True)
        write_atomic(tmp_path / "spaces.yaml", "owner: me\n")
    finally:
        os.umask(umask)
    assert _mode(tmp_path / "plan.json") == 0o600
    assert _mode(tmp_path / "spaces.yaml") == 0o644


def test_a_failed_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "spaces.yaml"
    target.write_text("old\n")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError) as caught:
        write_atomic(target, "new\n")
    assert os_reason(caught.value) == "Permission denied"
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spaces.yaml"]


def test_a_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        write_atomic(tmp_path / "no" / "such" / "plan.json", "{}")
    assert os_reason(caught.value) == "No such file or directory"
