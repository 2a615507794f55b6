"""Forward netlab's own standard input to a running child (``netlab run``, ``netlab ssh``).

Terminals and pipes are watched with the loop's ``add_reader``, so a line typed at ``bc -q`` reaches it
as soon as Enter is pressed and nothing blocks a thread on exit. Regular files and ``/dev/null`` (which
epoll refuses) are read straight through: they never block. End of input closes the child's stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

CHUNK = 65536


class StdinForwarder:
    def __init__(self, write: Callable[[bytes], Awaitable[Any]], close: Callable[[], Awaitable[Any]],
                 fd: int = 0) -> None:
        self._write = write
        self._close = close
        self._fd = fd
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._watching = False
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._deliver())
        try:
            self._loop.add_reader(self._fd, self._readable)
            self._watching = True
        except (OSError, ValueError):
            # Not pollable (a regular file, /dev/null) or not open at all: read it now, it cannot block.
            while True:
                data = self._read()
                self._queue.put_nowait(data)
                if data is None:
                    break

    def _read(self) -> bytes | None:
        try:
            data = os.read(self._fd, CHUNK)
        except BlockingIOError:
            return b""
        except OSError:
            return None
        return data or None

    def _readable(self) -> None:
        data = self._read()
        if data == b"":
            return
        if data is None:
            self._unwatch()
        self._queue.put_nowait(data)

    def _unwatch(self) -> None:
        if self._watching and self._loop is not None:
            self._watching = False
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._fd)

    async def _deliver(self) -> None:
        while True:
            data = await self._queue.get()
            try:
                if data is None:
                    await self._close()
                    return
                if await self._write(data) is False:  # the child stopped reading
                    self._unwatch()
                    return
            except Exception:  # noqa: BLE001 - the child went away; the exit is reported elsewhere
                self._unwatch()
                return

    async def stop(self) -> None:
        self._unwatch()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
