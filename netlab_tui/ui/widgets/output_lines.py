"""Chunks of program output → whole lines, for panes that show stdout/stderr as they arrive.

A read returns whatever the program wrote, often half a line. ``LineAssembler`` keeps the unfinished
tail per stream and releases it when the rest arrives — or after ``partial_after`` seconds, so a prompt
without a newline (``Password:``, ``>>> ``) still shows.
"""

from __future__ import annotations

import time
from collections.abc import Hashable


class LineAssembler:
    def __init__(self, partial_after: float = 0.25) -> None:
        self.partial_after = partial_after
        self._partial: dict[Hashable, tuple[str, float]] = {}

    def feed(self, key: Hashable, text: str, now: float | None = None) -> list[str]:
        """The complete lines ``text`` finishes on stream ``key``."""
        now = time.monotonic() if now is None else now
        previous, since = self._partial.pop(key, ("", now))
        lines = (previous + text).split("\n")
        if lines[-1]:
            self._partial[key] = (lines[-1], since if previous else now)
        return lines[:-1]

    @property
    def pending(self) -> bool:
        """Whether an unfinished line waits (to be released by ``due`` after ``partial_after``)."""
        return bool(self._partial)

    def due(self, now: float | None = None, final: bool = False) -> list[tuple[Hashable, str]]:
        """Unfinished lines that have waited long enough (all of them with ``final``), released."""
        now = time.monotonic() if now is None else now
        released = []
        for key, (text, since) in list(self._partial.items()):
            if final or now - since >= self.partial_after:
                del self._partial[key]
                released.append((key, text))
        return released

    def close(self, match) -> list[tuple[Hashable, str]]:
        """Release the unfinished lines of the streams for which ``match(key)`` is true (they ended)."""
        released = []
        for key in [k for k in self._partial if match(k)]:
            released.append((key, self._partial.pop(key)[0]))
        return released

    def clear(self) -> None:
        self._partial.clear()
