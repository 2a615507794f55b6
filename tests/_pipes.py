"""Reading a child's output line by line with a deadline.

A thread does the blocking ``readline`` and hands lines over a queue: ``select()`` on a pipe wrapped
in a buffered reader misses lines already read into the buffer, and waits out its timeout on them.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import IO


class PipeLines:
    def __init__(self, stream: IO[bytes]) -> None:
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        try:
            for line in iter(stream.readline, b""):
                self._lines.put(line)
        except (OSError, ValueError):  # the test closed the pipe while we were reading: that is EOF
            pass
        self._lines.put(b"")  # EOF

    def readline(self, timeout: float) -> bytes:
        """The next line, or b"" at EOF or when nothing came within ``timeout`` seconds."""
        try:
            return self._lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return b""

    def events_until(self, until: Callable[[dict], bool], timeout: float = 10.0) -> list[dict]:
        """JSON events until ``until(event)`` is true, EOF, or the deadline."""
        found: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(deadline - time.monotonic())
            if not line:
                return found
            event = json.loads(line)
            found.append(event)
            if until(event):
                return found
