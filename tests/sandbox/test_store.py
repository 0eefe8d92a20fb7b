"""The sandbox's persistence (`Store` on SQLite), in process: a request writes only the records
it changed, whatever the store's size; two stores on one folder (two processes) see each other's
writes and lose none; a state.json of the one-file store is converted once."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from spacectl.sandbox.records import Commit, Setting, Space, new_object_id
from spacectl.sandbox.store import Store

LEGACY = Path(__file__).with_name("data") / "legacy-v1"  # written by the one-file store


def _space(store: Store, repo_id: str) -> Space:
    readme = store.put_file(f"# {repo_id}\n".encode())
    first = Commit(secrets.token_hex(20), "initial commit", "", 1.0, "alice", {"README.md": readme})
    return Space(repo_id, new_object_id(), 1.0, "public", [first])


def _fill(store: Store, count: int) -> None:
    with store.transaction():
        for index in range(count):
            store.put(_space(store, f"alice/s{index:04d}"))


def _last_transaction(data: Path) -> tuple[int, int, int]:
    """(transaction number, rows it wrote, bytes of JSON it wrote), read from the file."""
    with closing(sqlite3.connect(data / "state.sqlite3")) as db:
        (seq,) = db.execute("SELECT value FROM meta WHERE name = 'seq'").fetchone()
        rows, size = db.execute(
            "SELECT count(*), coalesce(sum(length(data)), 0) FROM records WHERE seq = ?", (seq,)
        ).fetchone()
    return int(seq), rows, size


def _request_costs(data: Path, spaces: int) -> list[tuple[int, int]]:
    """Rows and bytes written by a read, a variable write, a commit and a no-op write to one
    Space of a store holding `spaces` Spaces."""
    store = Store(data)
    _fill(store, spaces)
    costs = []
    before = _last_transaction(data)[0]
    with store.transaction():
        found = store.find("alice/s0001")
        assert found is not None and found.variables == {}  # a read
    assert _last_transaction(data)[0] == before  # wrote nothing at all
    with store.transaction():
        found = store.find("ALICE/s0001")  # any letter case
        assert found is not None
        found.variables["MODE"] = Setting("fast", None, 2.0)
    costs.append(_last_transaction(data)[1:])
    with store.transaction():
        found = store.find("alice/s0001")
        assert found is not None
        files = {**found.head.files, "app.py": store.put_file(b"print(1)\n")}
        found.commits.append(Commit("c" * 40, "add app", "", 3.0, "alice", files))
    costs.append(_last_transaction(data)[1:])
    seq = _last_transaction(data)[0]
    with store.transaction():
        found = store.find("alice/s0001")
        assert found is not None
        found.variables["MODE"] = Setting("fast", None, 2.0)  # the value it already has
    assert _last_transaction(data)[0] == seq
    return costs


def test_a_request_writes_the_records_it_changed_whatever_the_store_size(tmp_path: Path) -> None:
    small = _request_costs(tmp_path / "small", 10)
    large = _request_costs(tmp_path / "large", 1000)
    # The variable write is one row (the Space); the commit two (the Space, the new commit).
    assert [rows for rows, _ in small] == [1, 2]
    assert large == small  # the same rows and the same bytes at 1,000 Spaces as at 10
    assert all(size < 2000 for _, size in large)


def test_state_reloads_in_a_new_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.add_user("alice", "hf_alice", "write")
    store.add_org("acme", ["alice"])
    _fill(store, 3)
    with store.transaction():
        space = store.find("alice/s0002")
        assert space is not None
        space.secrets["KEY"] = Setting("value", "a secret", 5.0)
        space.lfs_objects.add("a" * 64)
        store.remove(store.spaces["alice/s0000"])
    again = Store(tmp_path)
    assert set(again.spaces) == {"alice/s0001", "alice/s0002"}
    reloaded = again.spaces["alice/s0002"]
    assert reloaded.secrets == {"KEY": Setting("value", "a secret", 5.0)}
    assert reloaded.lfs_objects == {"a" * 64}
    assert reloaded.commits == store.spaces["alice/s0002"].commits
    assert again.read_file(reloaded.head, "README.md") == b"# alice/s0002\n"
    assert again.tokens["hf_alice"].user == "alice" and again.orgs["acme"].members == ["alice"]


def test_two_stores_on_one_folder_keep_each_others_writes(tmp_path: Path) -> None:
    one, two = Store(tmp_path), Store(tmp_path)  # as two processes would: two connections
    with one.transaction():
        one.put(_space(one, "alice/from-one"))
    with two.transaction():
        two.put(_space(two, "alice/from-two"))
        assert set(two.spaces) == {"alice/from-one", "alice/from-two"}  # read what one wrote
    with one.transaction():
        assert set(one.spaces) == {"alice/from-one", "alice/from-two"}
        found = one.find("alice/from-two")
        assert found is not None
        found.variables["SET_BY"] = Setting("one", None, 1.0)  # one changes two's Space
    with two.transaction():
        found = two.find("alice/from-two")
        assert found is not None and found.variables["SET_BY"].value == "one"
        moved = two.find("alice/from-one")
        assert moved is not None
        two.remove(moved)
        moved.id = "alice/renamed"
        two.put(moved)
    two.add_user("bob", "hf_bob", "read")
    with one.transaction():
        assert set(one.spaces) == {"alice/renamed", "alice/from-two"}
        assert one.spaces["alice/renamed"].head.files == moved.head.files
        assert one.tokens["hf_bob"].role == "read"
    assert set(Store(tmp_path).spaces) == {"alice/renamed", "alice/from-two"}


def test_a_failed_save_leaves_memory_as_the_file_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    _fill(store, 2)
    assert store._db is not None

    def full_disk(*args: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store._db, "write", full_disk)
    with pytest.raises(sqlite3.OperationalError), store.transaction():
        found = store.find("alice/s0000")
        assert found is not None
        found.variables["LOST"] = Setting("x", None, 1.0)
    monkeypatch.undo()
    with store.transaction():
        found = store.find("alice/s0000")
        assert found is not None and found.variables == {}  # reloaded from the file


def test_a_state_json_of_the_one_file_store_is_converted_once(tmp_path: Path) -> None:
    shutil.copytree(LEGACY, tmp_path, dirs_exist_ok=True)
    store = Store(tmp_path)
    assert not (tmp_path / "state.json").exists()
    assert (tmp_path / "state.json.migrated").exists()
    app = store.spaces["acme/legacy-app"]
    assert app.variables["MODE"].value == "legacy"
    assert app.secrets["API_KEY"].value == "legacy-secret-value"
    assert store.read_file(app.head, "app.py") == b"print('from the one-file store')\n"
    assert [c.title for c in app.commits][1] == "Upload app.py with huggingface_hub"
    assert store.spaces["alice/site"].visibility == "private"
    assert store.tokens["hf_alice_legacy_write_token_01"].user == "alice"
    assert store.orgs["acme"].members == ["alice"]
    with store.transaction():
        found = store.find("acme/legacy-app")
        assert found is not None
        found.variables["MODE"] = Setting("converted", None, 1.0)
    # A copy of the old file put back is not converted again over newer state.
    shutil.copy(LEGACY / "state.json", tmp_path / "state.json")
    assert Store(tmp_path).spaces["acme/legacy-app"].variables["MODE"].value == "converted"


def test_a_file_that_is_not_the_state_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").write_bytes(b"not a database, " * 100)
    with pytest.raises(ValueError, match=r"state\.sqlite3"):
        Store(tmp_path)
