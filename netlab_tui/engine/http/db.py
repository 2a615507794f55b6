"""The users/messages database behind the lab HTTP server's API: one SQLite file anyone may open.

The schema is part of what netlab offers (the course's PHP <-> Python page): a PHP script with PDO, a
Python script with ``sqlite3`` and the server all read and write the same file. WAL mode lets readers
and one writer work at once; ``data_version`` tells the server when another program committed.

Every method is blocking; the server calls them in its own single worker thread.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import platformdirs

STATUSES = ("online", "offline", "away", "busy")
MAX_TEXT = 2000
SEED_USERS = (("alice", "online"), ("bob", "offline"), ("carol", "away"), ("dave", "busy"))

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'offline'
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    from_id    INTEGER NOT NULL REFERENCES users(id),
    to_id      INTEGER NOT NULL REFERENCES users(id),
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
"""


def default_path() -> Path:
    return platformdirs.user_data_path("netlab") / "http-lab.sqlite3"


class LabDatabase:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._db:
                self._db.executescript(SCHEMA)
                if self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0:
                    self._db.executemany("INSERT INTO users (name, status) VALUES (?, ?)", SEED_USERS)
        except (OSError, sqlite3.Error) as exc:
            raise OSError(f"cannot open the lab database {self.path}: {exc}") from None
        self._version = self.data_version()

    def close(self) -> None:
        self._db.close()

    # -- users -------------------------------------------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._db.execute("SELECT id, name, status FROM users ORDER BY id")]

    def user(self, user_id: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT id, name, status FROM users WHERE id = ?", (user_id,)).fetchone()
        return dict(row) if row else None

    def set_status(self, user_id: int, status: str) -> dict[str, Any] | None:
        with self._db:
            self._db.execute("UPDATE users SET status = ? WHERE id = ?", (status, user_id))
        return self.user(user_id)

    # -- messages ----------------------------------------------------------------------------------------
    def add_message(self, from_id: int, to_id: int, text: str) -> dict[str, Any]:
        with self._db:
            cursor = self._db.execute("INSERT INTO messages (from_id, to_id, text) VALUES (?, ?, ?)",
                                      (from_id, to_id, text))
        return self.message(cursor.lastrowid)

    def message(self, message_id: int | None) -> dict[str, Any]:
        row = self._db.execute(
            'SELECT id, from_id AS "from", to_id AS "to", text, created_at FROM messages WHERE id = ?',
            (message_id,)).fetchone()
        return dict(row)

    def messages(self, to_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = 'SELECT id, from_id AS "from", to_id AS "to", text, created_at FROM messages'
        args: tuple = ()
        if to_id is not None:
            sql += " WHERE to_id = ?"
            args = (to_id,)
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [dict(row) for row in reversed(rows)]

    def counts(self) -> dict[str, int]:
        return {
            "users": self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0],
            "messages": self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
        }

    # -- changes by other programs ------------------------------------------------------------------------
    def data_version(self) -> int:
        """Changes when another connection commits (never for this connection's own writes)."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def changed_elsewhere(self) -> bool:
        """True once per commit made by another connection (a PHP script, the sqlite3 shell …)."""
        version = self.data_version()
        if version != self._version:
            self._version = version
            return True
        return False
