"""The JSON contact book of the course: its wire protocol (sans-IO) and its SQLite store.

One request per connection. The client sends ``{"cmd": ..., "args": {...}}`` and then only reads until
EOF — it never shuts down its write side — so the server cannot wait for EOF: ``JsonRequestReader``
finds where the first complete JSON object ends by tracking brackets and strings as bytes arrive.
``execute`` turns one request into the reply ``{"status": bool, "msg": str, "data": ...}``; every
mistake a client can make becomes ``status: false`` with a message saying what was wrong.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from netlab_tui.engine.core.sessions import NetlabError

MAX_REQUEST = 64 * 1024  # bytes; a contact request is a few dozen
MAX_FIELD = 200  # characters in a name or a mail address
COMMANDS = ("list", "add", "delete", "find")
_MAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class RequestError(Exception):
    """What was wrong with a request, as the ``msg`` of a ``status: false`` reply."""


# -- framing -----------------------------------------------------------------------------------------
# Outside a string only quotes and brackets matter; inside one, only quotes and backslashes.
_OUTSIDE = re.compile(rb'["{}\[\]]')
_INSIDE = re.compile(rb'["\\]')


class JsonRequestReader:
    """Accumulates bytes until they hold one complete JSON object.

    ``feed(chunk)`` returns the object's bytes once its closing brace has arrived, else None. It raises
    ``RequestError`` as soon as the bytes cannot be a JSON object (binary garbage, a bare string …) or
    exceed ``limit``. Validity inside the braces is ``json.loads``'s job, afterwards.
    """

    def __init__(self, limit: int = MAX_REQUEST) -> None:
        self.limit = limit
        self.buffer = bytearray()
        self._start: int | None = None  # index of the opening brace
        self._pos = 0  # scanned up to here
        self._depth = 0
        self._in_string = False
        self._escape = False  # the last scanned byte was a backslash inside a string

    @property
    def received(self) -> int:
        return len(self.buffer)

    def feed(self, chunk: bytes) -> bytes | None:
        buf = self.buffer
        buf += chunk
        if self._start is None:
            stripped = buf.lstrip(b" \t\r\n")
            if not stripped:
                self._check_limit()
                return None
            self._start = len(buf) - len(stripped)
            if stripped[:1] != b"{":
                raise RequestError(
                    "a request must be one JSON object such as {\"cmd\": \"list\"}; "
                    f"got bytes starting {bytes(stripped[:12])!r}"
                )
            self._pos = self._start
        pos = self._pos
        end = len(buf)
        while pos < end:
            if self._escape:
                self._escape = False
                pos += 1
                continue
            match = (_INSIDE if self._in_string else _OUTSIDE).search(buf, pos)
            if match is None:
                pos = end
                break
            byte = buf[match.start()]
            pos = match.start() + 1
            if self._in_string:
                if byte == 0x5C:  # backslash: the next byte is escaped, whatever it is
                    self._escape = True
                else:
                    self._in_string = False
            elif byte == 0x22:
                self._in_string = True
            elif byte in (0x7B, 0x5B):  # { [
                self._depth += 1
            else:  # } ]
                self._depth -= 1
                if self._depth == 0:
                    self._pos = pos
                    return bytes(buf[self._start:pos])
        self._pos = pos
        self._check_limit()
        return None

    def _check_limit(self) -> None:
        if len(self.buffer) > self.limit:
            raise RequestError(f"request too large: more than {self.limit} bytes without a complete JSON object")

    def incomplete_reason(self) -> str:
        """Why the bytes received so far are not a request (said when the client closes early)."""
        if not self.buffer.strip():
            return "empty request: the connection closed before any JSON was sent"
        return (f"incomplete JSON request: the connection closed after {len(self.buffer)} bytes, "
                "before the object's closing brace")


# -- requests ------------------------------------------------------------------------------------------
def parse_request(raw: bytes) -> tuple[str, dict[str, Any]]:
    """``(cmd, args)`` from one JSON object's bytes; RequestError with a precise reason otherwise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"request is not valid UTF-8 (byte {exc.start})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(f"bad JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise RequestError("bad JSON: nested too deeply") from None
    if not isinstance(doc, dict):
        raise RequestError("a request must be a JSON object")
    cmd = doc.get("cmd")
    if "cmd" not in doc:
        raise RequestError(f"missing \"cmd\"; expected one of {', '.join(COMMANDS)}")
    if not isinstance(cmd, str):
        raise RequestError(f"\"cmd\" must be a string, not {_json_type(cmd)}")
    if cmd not in COMMANDS:
        raise RequestError(f"unknown command {cmd!r}; expected one of {', '.join(COMMANDS)}")
    args = doc.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise RequestError(f"\"args\" must be an object, not {_json_type(args)}")
    return cmd, args


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def _text_arg(args: dict[str, Any], key: str) -> str:
    if key not in args:
        raise RequestError(f"missing args.{key}")
    value = args[key]
    if not isinstance(value, str):
        raise RequestError(f"args.{key} must be a string, not {_json_type(value)}")
    value = value.strip()
    if not value:
        raise RequestError(f"args.{key} must not be empty")
    if len(value) > MAX_FIELD:
        raise RequestError(f"args.{key} is longer than {MAX_FIELD} characters")
    return value


def reply(status: bool, msg: str, data: Any = None) -> dict[str, Any]:
    return {"status": status, "msg": msg, "data": data}


def execute(book: "ContactBook", cmd: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one parsed request against the book. RequestError for bad arguments."""
    if cmd == "list":
        contacts = book.list()
        return reply(True, f"{len(contacts)} contact{'s' if len(contacts) != 1 else ''}", contacts)
    if cmd == "add":
        name, mail = _text_arg(args, "name"), _text_arg(args, "mail")
        if not _MAIL.match(mail):
            raise RequestError(f"args.mail {mail!r} is not a mail address (expected name@domain)")
        if not book.add(name, mail):
            return reply(False, f"contact {name!r} already exists")
        return reply(True, f"contact {name!r} added", {"name": name, "mail": mail})
    if cmd == "delete":
        name = _text_arg(args, "name")
        if not book.delete(name):
            return reply(False, f"no contact named {name!r}")
        return reply(True, f"contact {name!r} deleted", {"name": name})
    if cmd == "find":
        name = _text_arg(args, "name")
        found = book.find(name)
        if not found:
            return reply(False, f"no contact matches {name!r}", [])
        verb = "contact matches" if len(found) == 1 else "contacts match"
        return reply(True, f"{len(found)} {verb} {name!r}", found)
    raise RequestError(f"unknown command {cmd!r}")  # parse_request already refused it


def handle_request(book: "ContactBook", raw: bytes) -> dict[str, Any]:
    """One request's bytes to its reply; never raises for anything a client sends."""
    try:
        cmd, args = parse_request(raw)
        return execute(book, cmd, args)
    except RequestError as exc:
        return reply(False, str(exc))


def encode_reply(response: dict[str, Any]) -> bytes:
    return json.dumps(response, ensure_ascii=False).encode("utf-8") + b"\n"


# -- storage -------------------------------------------------------------------------------------------
def default_db_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("netlab", appauthor=False) / "contacts.sqlite3"


class ContactBook:
    """Contacts in an SQLite file: ``name`` (unique) and ``mail``. Safe to call from any one thread at
    a time (the server runs every call in a single worker thread)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS contacts ("
                " name TEXT PRIMARY KEY, mail TEXT NOT NULL, created REAL NOT NULL)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise NetlabError(f"cannot open the contact database {self.path}: {exc}") from None
        self._lock = threading.Lock()

    def list(self) -> list[dict[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT name, mail FROM contacts ORDER BY name COLLATE NOCASE").fetchall()
        return [{"name": name, "mail": mail} for name, mail in rows]

    def add(self, name: str, mail: str) -> bool:
        with self._lock:
            try:
                self._db.execute("INSERT INTO contacts (name, mail, created) VALUES (?, ?, ?)",
                                 (name, mail, time.time()))
            except sqlite3.IntegrityError:
                return False
        return True

    def delete(self, name: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM contacts WHERE name = ?", (name,))
        return cursor.rowcount > 0

    def find(self, text: str) -> list[dict[str, str]]:
        """Contacts whose name or mail contains ``text``, ignoring case."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._lock:
            rows = self._db.execute(
                "SELECT name, mail FROM contacts WHERE name LIKE ? ESCAPE '\\' OR mail LIKE ? ESCAPE '\\'"
                " ORDER BY name COLLATE NOCASE", (pattern, pattern)
            ).fetchall()
        return [{"name": name, "mail": mail} for name, mail in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
