"""Writes small source folders for tests."""

from __future__ import annotations

from pathlib import Path


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    """Create each file of `files` (relative path -> content) under `root`; returns `root`."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)
    return root
