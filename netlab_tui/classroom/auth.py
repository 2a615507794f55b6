"""Who is asking: signed session cookies, learner names, and the class's secrets kept under its directory.

A cookie is ``base64(json payload) "." base64(HMAC-SHA256)``. The key mixes the class secret with the class
code (learners) or the teacher password (teacher), so changing the code or the password logs everyone out.
Nothing is ever put in a URL.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

LEARNER_COOKIE = "netlab_class"
TEACHER_COOKIE = "netlab_teacher"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_NAME = re.compile(r"^[^\W_][\w.-]{0,31}$")


def new_code(length: int = 6) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def new_password() -> str:
    return secrets.token_urlsafe(12)


def learner_name(raw: str) -> tuple[str, str]:
    """``(display name, key)`` for a typed name, or ValueError with what is wrong in words.

    The key (case-folded) names the learner's folder, so "Alice" and "alice" are the same learner.
    """
    name = unicodedata.normalize("NFC", raw.strip())
    if not name:
        raise ValueError("type your name")
    if not _NAME.match(name):
        raise ValueError("a name is 1 to 32 letters, digits, '.', '-' or '_', starting with a letter or digit "
                         "(no spaces: Marie-Dupont)")
    return name, name.casefold()


@dataclass
class ClassSecrets:
    """The class code, teacher password and signing secret, kept in ``DIR/class.json`` (mode 0600)."""

    code: str
    teacher_password: str
    secret: str
    uid_base: int
    created_password: bool = False  # True when this run made the password (print it once)

    @classmethod
    def load_or_create(cls, directory: Path, code: str | None) -> "ClassSecrets":
        path = directory / "class.json"
        data: dict = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
        created = not data.get("teacher_password")
        data.setdefault("secret", secrets.token_hex(32))
        if created:
            data["teacher_password"] = new_password()
        if code:
            data["code"] = code
        data.setdefault("code", new_code())
        # Learners' uids: a block of 10,000 unlikely to belong to anyone, fixed for this class directory.
        data.setdefault("uid_base", 1_000_000_000 + secrets.randbelow(100_000) * 10_000)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.chmod(path, 0o600)
        return cls(data["code"], data["teacher_password"], data["secret"], int(data["uid_base"]), created)


class CookieSigner:
    def __init__(self, secret: str, code: str, password: str) -> None:
        self._keys = {
            "learner": hashlib.sha256(f"learner\0{secret}\0{code}".encode()).digest(),
            "teacher": hashlib.sha256(f"teacher\0{secret}\0{password}".encode()).digest(),
        }

    def sign(self, role: str, name: str = "") -> str:
        payload = _b64(json.dumps({"r": role, "n": name, "t": int(time.time())}, separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._mac(role, payload))}"

    def verify(self, role: str, value: str | None) -> str | None:
        """The name in a valid cookie of this role (``""`` for the teacher), else None."""
        if not value or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        try:
            if not hmac.compare_digest(_unb64(mac), self._mac(role, payload)):
                return None
            data = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(data, dict) or data.get("r") != role or not isinstance(data.get("n"), str):
            return None
        return data["n"]

    def _mac(self, role: str, payload: str) -> bytes:
        return hmac.new(self._keys[role], payload.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Throttle:
    """Slows down guessing: after ``limit`` failures from one address within ``window`` seconds, that
    address's attempts are served one at a time, ``delay`` seconds each (right or wrong).

    Never a lock-out: a whole class behind one NAT address still gets in, a few seconds later, even while
    someone there keeps typing wrong codes.
    """

    def __init__(self, limit: int = 10, window: float = 60.0, delay: float = 1.0) -> None:
        self.limit, self.window, self.delay = limit, window, delay
        self._failures: dict[str, list[float]] = {}
        self._queues: dict[str, asyncio.Lock] = {}

    def _throttled(self, who: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self._failures.get(who, []) if now - t < self.window]
        if recent:
            self._failures[who] = recent
        else:
            self._failures.pop(who, None)
        return len(recent) >= self.limit

    @contextlib.asynccontextmanager
    async def attempt(self, who: str) -> AsyncIterator[None]:
        if not self._throttled(who):
            yield
            return
        async with self._queues.setdefault(who, asyncio.Lock()):
            await asyncio.sleep(self.delay)
            yield

    def failed(self, who: str) -> None:
        self._failures.setdefault(who, []).append(time.monotonic())
