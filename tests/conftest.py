"""Shared pytest fixtures: `hub_sandbox`, a Hub sandbox process of its own for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spacectl.sandbox.testing import SandboxProcess, sandbox_process


@pytest.fixture
def hub_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """A fresh in-memory sandbox process with one write user and 0.5 s builds."""
    with sandbox_process(tmp_path, build_seconds=0.5) as process:
        yield process
