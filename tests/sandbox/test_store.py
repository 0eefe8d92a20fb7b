"""The sandbox's persistence: a request that changes nothing does not rewrite the state file."""

from __future__ import annotations

from pathlib import Path

import pytest

import spacectl.sandbox.store as store_module
from spacectl.sandbox.store import Store


def test_only_a_change_rewrites_the_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[Path] = []
    real = store_module.write_atomic

    def counting(path: Path, data: bytes, **kwargs: bool) -> None:
        writes.append(path)
        real(path, data, **kwargs)

    monkeypatch.setattr(store_module, "write_atomic", counting)
    store = Store(tmp_path)
    store.add_user("bob", "hf_bob", "write")
    after_write = len(writes)
    for _ in range(5):
        with store.transaction():
            assert "bob" in store.users  # a read
    assert len(writes) == after_write
    store.add_user("carol", "hf_carol", "read")
    assert len(writes) == after_write + 1
    assert set(Store(tmp_path).users) == {"bob", "carol"}  # what was written reloads
