"""The SQLite file behind `--data`: records as JSON text, keyed by kind and key.

One table, `records(kind, key, seq, data)`: `data` is the record's JSON, NULL once it was
deleted (a tombstone, so that another process sharing the file learns of the deletion), and
`seq` the number of the transaction that last wrote it; `meta` holds the schema version and the
last transaction number. A reader that knows the number it last saw reads only the records
written since (`changed_since`), through the index on `seq`.

The connection is in WAL mode with `synchronous=NORMAL`: a committed transaction survives the
process being killed at any moment (it is in the WAL, which the next open replays); only a power
loss may drop the last few commits, never leaving a half-written one. Transactions are
`BEGIN IMMEDIATE`: each takes the file's write lock for its whole length (others wait, up to
`timeout` seconds), so a read-modify-write in one process never interleaves with another's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = "2"  # version 1 was the single state.json file
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_seq ON records (seq);
"""

Row = tuple[str, str, str | None]  # kind, key, JSON text or None (deleted)


class Database:
    """One SQLite file of records. Not thread-safe: the caller serialises use (the Store's
    lock). Raises ValueError for a file that is not such a database."""

    def __init__(self, path: Path, *, timeout: float = 60.0) -> None:
        self.path = path
        try:
            self._conn = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self.begin()
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._conn.execute(statement)
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('seq', '0')")
            self._conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('version', ?)", (SCHEMA_VERSION,)
            )
            version = self.meta("version")
            self.commit()
        except sqlite3.Error as error:
            raise ValueError(f"{path}: {error}") from None
        if version != SCHEMA_VERSION:
            raise ValueError(f"{path}: unsupported sandbox state version {version}")

    # -- transactions -------------------------------------------------------------------------

    def begin(self) -> None:
        """Start a transaction holding the write lock (waiting for another process's)."""
        self._conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()

    # -- reads --------------------------------------------------------------------------------

    def meta(self, name: str) -> str | None:
        found = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if found is None else str(found[0])

    def seq(self) -> int:
        """The number of the last transaction that wrote records."""
        return int(self.meta("seq") or 0)

    def changed_since(self, seq: int) -> list[Row]:
        """Records (tombstones included) written by transactions after `seq`."""
        query = "SELECT kind, key, data FROM records WHERE seq > ?"
        return list(self._conn.execute(query, (seq,)))

    def live(self) -> list[Row]:
        """Every record that is not deleted."""
        query = "SELECT kind, key, data FROM records WHERE data IS NOT NULL"
        return list(self._conn.execute(query))

    def get(self, kind: str, key: str) -> str | None:
        """The JSON of a record, None when absent or deleted."""
        query = "SELECT data FROM records WHERE kind = ? AND key = ?"
        found = self._conn.execute(query, (kind, key)).fetchone()
        return None if found is None else found[0]

    # -- writes -------------------------------------------------------------------------------

    def write(self, rows: list[Row], removed: list[tuple[str, str]]) -> int:
        """Store `rows` (a None data is a tombstone) and drop the `removed` (kind, prefix)
        record groups, as one new transaction number (returned); nothing when both are empty."""
        seq = self.seq()
        if not rows and not removed:
            return seq
        seq += 1
        self._conn.execute("UPDATE meta SET value = ? WHERE name = 'seq'", (str(seq),))
        self._conn.executemany(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
            [(kind, key, seq, data) for kind, key, data in rows],
        )
        for kind, prefix in removed:
            self._conn.execute(
                "DELETE FROM records WHERE kind = ? AND key >= ? AND key < ?",
                (kind, prefix, prefix + "\U0010ffff"),
            )
        return seq

    def set_meta(self, name: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))
