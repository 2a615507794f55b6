"""Directory watching with watchdog, and forwarding every change to a TCP server.

``WatchSession`` watches a directory tree (recursively) and publishes one ``fs`` event per change —
``created`` ``modified`` ``moved`` ``deleted`` with ``meta = {path, dest_path, is_dir, rel, dest_rel}``.
Include/exclude globs choose the paths. watchdog calls back on its own thread; changes are queued
there and handed to the loop in batches, so a burst of thousands of files costs a handful of
wake-ups and loses nothing.

With ``forward="HOST:PORT"`` each change is also sent as one JSON line to a TCP server (the course's
exercise). ``ChangeForwarder`` keeps changes in a bounded queue while the server is unreachable and
reconnects until it is back. A server that greets with ``{"netlab": "watch-collector", "ack": true}``
(``netlab serve watch-collector``) acknowledges what it received, so changes in flight when it went
down are sent again; any other server gets plain JSON lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from netlab_tui.engine.core.events import format_addr, new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import check_port, connect_error, open_tcp_connection, resolve
from netlab_tui.engine.core.sessions import NetlabError, Session

from .kind import COLLECTOR_NAME

CHANGE_KINDS = ("created", "modified", "moved", "deleted")
DEFAULT_QUEUE_LIMIT = 10_000
GREETING_KEY = "netlab"


# -- paths and globs -----------------------------------------------------------------------------------
class PathFilter:
    """Include/exclude globs on paths relative to the watched directory.

    A glob with a ``/`` matches the whole relative path (``src/*.py``); one without matches the file
    name (``*.txt``), and for excludes any directory on the way too (``.git`` excludes ``.git/HEAD``).
    With includes, only matching paths pass; excludes always win.
    """

    def __init__(self, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
        self.include = tuple(p.strip() for p in include if p and p.strip())
        self.exclude = tuple(p.strip() for p in exclude if p and p.strip())

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def allows(self, rel: str) -> bool:
        parts = rel.split("/")
        name = parts[-1]
        for pattern in self.exclude:
            if "/" in pattern.strip("/"):
                if fnmatch.fnmatchcase(rel, pattern.strip("/")):
                    return False
            elif any(fnmatch.fnmatchcase(part, pattern.strip("/")) for part in parts):
                return False
        if not self.include:
            return True
        for pattern in self.include:
            target = rel if "/" in pattern.strip("/") else name
            if fnmatch.fnmatchcase(target, pattern.strip("/")):
                return True
        return False


def parse_forward(target: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) → (host, port), with one clear line when malformed."""
    text = target.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise NetlabError(f"invalid forward target {target!r}: write HOST:PORT, e.g. 127.0.0.1:9000 or [::1]:9000")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host or ":" in host:
            raise NetlabError(f"invalid forward target {target!r}: write HOST:PORT, e.g. 127.0.0.1:9000 or [::1]:9000")
    if not port_text.isdigit():
        raise NetlabError(f"invalid port {port_text!r} in {target!r}: expected a number from 1 to 65535")
    return host, check_port(port_text, allow_zero=False)


# -- the watch -----------------------------------------------------------------------------------------
class WatchSession(Session):
    kind = "watch"
    proto = "fs"
    role = "watch"

    def __init__(
        self,
        journal: Journal,
        path: str | os.PathLike[str],
        *,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        forward: str | None = None,
        recursive: bool = True,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
    ) -> None:
        self.root = Path(path).expanduser()
        super().__init__(journal, name=f"watch@{self.root}")
        self.filter = PathFilter(include, exclude)
        self.recursive = recursive
        self.forward_target = parse_forward(forward) if forward else None
        self.queue_limit = queue_limit
        self.forwarder: ChangeForwarder | None = None
        self.counts: dict[str, int] = dict.fromkeys(CHANGE_KINDS, 0)
        self.conn = new_conn_id("fs")
        self._observer: Any = None
        self._pending: deque[Any] = deque()
        self._lock = threading.Lock()
        self._drain_scheduled = False

    @property
    def description(self) -> str:
        total = sum(self.counts.values())
        text = f"{self.root}  {total:,} change{'s' if total != 1 else ''}"
        if self.forwarder is not None:
            text += f"  → {self.forwarder.address} ({self.forwarder.state})"
        return text

    async def _start(self) -> None:
        if not self.root.exists():
            raise NetlabError(f"no such directory: {self.root}")
        if not self.root.is_dir():
            raise NetlabError(f"not a directory: {self.root} (watch the directory that contains it)")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise NetlabError(f"permission denied: cannot read {self.root}")
        self.root = self.root.resolve()
        self.set_name(f"watch@{self.root}")
        handler = _Handler(self)
        observer = Observer()
        try:
            observer.schedule(
                handler, str(self.root), recursive=self.recursive,
                # Directory "modified" events only say that a file inside changed: that file's own
                # event says it better.
                event_filter=[FileCreatedEvent, DirCreatedEvent, FileModifiedEvent, FileMovedEvent,
                              DirMovedEvent, FileDeletedEvent, DirDeletedEvent],
            )
            observer.start()
        except OSError as exc:
            with contextlib.suppress(Exception):
                observer.stop()
            hint = " (raise fs.inotify.max_user_watches)" if exc.errno == 28 else ""
            raise NetlabError(f"cannot watch {self.root}: {exc.strerror or exc}{hint}") from None
        self._observer = observer
        globs = []
        if self.filter.include:
            globs.append("include " + " ".join(self.filter.include))
        if self.filter.exclude:
            globs.append("exclude " + " ".join(self.filter.exclude))
        self.emit(
            "info", conn=self.conn,
            message=f"watching {self.root}{' recursively' if self.recursive else ''}"
                    + (f" ({'; '.join(globs)})" if globs else ""),
            meta={"path": str(self.root), "recursive": self.recursive,
                  "include": list(self.filter.include), "exclude": list(self.filter.exclude)},
        )
        if self.forward_target is not None:
            host, port = self.forward_target
            self.forwarder = ChangeForwarder(self, host, port, limit=self.queue_limit)
            self.forwarder.start()

    async def _stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            await asyncio.to_thread(observer.join, 5.0)
        self._drain()  # what watchdog delivered before it stopped
        if self.forwarder is not None:
            await self.forwarder.stop()
        self.emit("info", conn=self.conn, message=f"stopped watching {self.root}",
                  meta={"stopped": True, "counts": dict(self.counts)})

    # -- from watchdog's thread ----------------------------------------------------------------------
    def _queue(self, event: Any) -> None:
        with self._lock:
            self._pending.append(event)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        if self._loop is not None:
            self.call_threadsafe(self._drain)

    # -- on the loop ---------------------------------------------------------------------------------
    def _drain(self) -> None:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            self._drain_scheduled = False
        for event in batch:
            self._publish(event)

    def _publish(self, event: Any) -> None:
        kind = event.event_type
        if kind not in CHANGE_KINDS:
            return
        path = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if kind == "moved" and event.dest_path else None
        rel = self._rel(path)
        dest_rel = self._rel(dest) if dest else None
        if self.filter and not (self.filter.allows(rel) or (dest_rel is not None and self.filter.allows(dest_rel))):
            return
        is_dir = bool(event.is_directory)
        self.counts[kind] += 1
        shown = rel + ("/" if is_dir else "")
        if dest_rel is not None:
            shown += f" → {dest_rel}{'/' if is_dir else ''}"
        meta = {"path": path, "dest_path": dest, "is_dir": is_dir, "rel": rel, "dest_rel": dest_rel}
        self.emit(kind, conn=self.conn, message=f"{kind} {shown}", meta=meta)
        if self.forwarder is not None:
            self.forwarder.enqueue(kind, meta)

    def _rel(self, path: str) -> str:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path
        return rel if rel != "." else ""


class _Handler(FileSystemEventHandler):
    """Hands every event, on watchdog's thread, to the session's queue."""

    def __init__(self, session: WatchSession) -> None:
        super().__init__()
        self.session = session

    def dispatch(self, event: Any) -> None:
        self.session._queue(event)


# -- forwarding ----------------------------------------------------------------------------------------
def _changes(count: int) -> str:
    return f"{count:,} change{'s' if count != 1 else ''}"


class ChangeForwarder:
    """Sends each change as one JSON line to HOST:PORT, reconnecting forever, queueing meanwhile.

    Lines carry ``watcher`` (host:directory), ``run`` (one watch's random id) and ``seq`` (1, 2, 3 …)
    so a collector can tell watchers apart and drop the duplicates a resend may cause.
    """

    GREETING_WAIT = 0.3
    RETRY_FIRST = 0.1
    RETRY_MAX = 2.0
    CONNECT_TIMEOUT = 3.0

    def __init__(self, session: WatchSession, host: str, port: int, *, limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        if limit < 1:
            raise NetlabError("the forward queue must hold at least one change")
        self.session = session
        self.host = host
        self.port = port
        self.address = format_addr(host, port)
        self.limit = limit
        self.watcher = f"{socket.gethostname()}:{session.root}"
        self.run_id = secrets.token_hex(4)
        self.state = "connecting"
        self.acks = False  # the server acknowledges (a netlab collector)
        self.sent = 0  # lines written to a socket
        self.acked = 0  # lines the server confirmed
        self.dropped = 0  # lines thrown away because the queue was full
        self.connections = 0
        self._seq = 0
        self._queue: deque[tuple[int, bytes]] = deque()  # not yet sent on the current connection
        self._inflight: deque[tuple[int, bytes]] = deque()  # sent, waiting for an ack
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    @property
    def queued(self) -> int:
        """Changes not yet confirmed delivered (waiting, or in flight to an acknowledging server)."""
        return len(self._queue) + len(self._inflight)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, flush_timeout: float = 2.0) -> None:
        """Stop, after giving queued changes ``flush_timeout`` seconds to go out if connected."""
        if self.state == "connected" and self.queued:
            deadline = time.monotonic() + flush_timeout
            while self.queued and self.state == "connected" and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        self._stopping = True
        self._wakeup.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.queued:
            self.session.emit("error", conn=self.session.conn, peer=self.address,
                              message=f"forward: {self.queued:,} changes were never delivered to {self.address}",
                              meta={"undelivered": self.queued})

    def enqueue(self, kind: str, meta: dict[str, Any]) -> None:
        self._seq += 1
        record = {"watcher": self.watcher, "run": self.run_id, "seq": self._seq, "ts": time.time(), "kind": kind,
                  **meta}
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        if self.queued >= self.limit:
            (self._inflight or self._queue).popleft()  # the oldest
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                self.session.emit("error", conn=self.session.conn, peer=self.address,
                                  message=f"forward queue full ({self.limit:,} changes): dropped the oldest "
                                          f"({self.dropped:,} so far)", meta={"dropped": self.dropped})
        self._queue.append((self._seq, line))
        self._wakeup.set()

    async def _run(self) -> None:
        delay = self.RETRY_FIRST
        reported_outage = False
        while not self._stopping:
            try:
                async with asyncio.timeout(self.CONNECT_TIMEOUT):
                    family, sockaddr = await resolve(self.host, self.port)
                    reader, writer = await open_tcp_connection((sockaddr[0], self.port), family,
                                                               place=self.session.place)
            except (OSError, TimeoutError) as exc:
                self.state = "waiting"
                if not reported_outage:
                    reported_outage = True
                    error = connect_error(exc, self.address, self.CONNECT_TIMEOUT)
                    self.session.emit("info", conn=self.session.conn, peer=self.address,
                                      message=f"forward: {error}; queueing changes and retrying",
                                      meta={"forward": "waiting", "queued": self.queued})
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RETRY_MAX)
                continue
            delay = self.RETRY_FIRST
            reported_outage = False
            await self._connected(reader, writer)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = self.session
        local = sockaddr_str(writer.get_extra_info("sockname"))
        peer = sockaddr_str(writer.get_extra_info("peername"))
        conn = new_conn_id("tcp")
        self.state = "connected"
        self.acks = False
        self.connections += 1
        session.emit("connect", proto="tcp", local=local, peer=peer, conn=conn,
                     message=f"forward: connected to {peer}" + (f", {_changes(self.queued)} queued" if self.queued else ""),
                     meta={"forward": "connected", "queued": self.queued})
        # A collector greets at once; wait a moment for that before sending, so that from the first
        # line on we know whether lines must be kept until acknowledged.
        with contextlib.suppress(TimeoutError, ValueError, ConnectionError, OSError):
            async with asyncio.timeout(self.GREETING_WAIT):
                first = await reader.readline()
                if first:
                    self._on_server_line(first, local, peer, conn)
        reading = asyncio.ensure_future(self._read_acks(reader, local, peer, conn))
        why = "closed by netlab"
        try:
            while True:
                if reading.done():
                    why = reading.result()
                    break
                if not self._queue:
                    if self._stopping:
                        break
                    self._wakeup.clear()
                    waiter = asyncio.ensure_future(self._wakeup.wait())
                    await asyncio.wait({waiter, reading}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                    continue
                batch = []
                size = 0
                while self._queue and size < 256 * 1024:
                    item = self._queue.popleft()
                    batch.append(item)
                    size += len(item[1])
                data = b"".join(line for _seq, line in batch)
                self._inflight.extend(batch)
                writer.write(data)
                session.emit("data", proto="tcp", direction="out", payload=data, local=local, peer=peer, conn=conn)
                self.sent += len(batch)
                await writer.drain()
                if not self.acks:
                    self._inflight.clear()  # plain TCP: what the kernel accepted counts as delivered
        except (ConnectionError, OSError) as exc:
            why = f"connection lost ({exc.__class__.__name__})"
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            # Whatever the server did not confirm goes out again on the next connection.
            if self._inflight:
                self._queue.extendleft(reversed(self._inflight))
                self._inflight.clear()
            self.state = "connecting"
            session.emit("close", proto="tcp", local=local, peer=peer, conn=conn,
                         message=f"forward: {why}" + (f"; {_changes(self.queued)} queued" if self.queued else ""),
                         meta={"forward": "closed", "queued": self.queued})

    async def _read_acks(self, reader: asyncio.StreamReader, local: str | None, peer: str | None, conn: str) -> str:
        """Read the server's lines (greeting, acks) until it closes; returns why the connection ended."""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return f"{peer} closed the connection"
                self._on_server_line(line, local, peer, conn)
        except (ConnectionError, OSError) as exc:
            return f"connection lost ({exc.__class__.__name__})"
        except ValueError:  # a line longer than the stream limit: not a collector
            return f"{peer} sent a line too long to be an acknowledgement"

    def _on_server_line(self, line: bytes, local: str | None, peer: str | None, conn: str) -> None:
        self.session.emit("data", proto="tcp", direction="in", payload=line, local=local, peer=peer, conn=conn)
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get(GREETING_KEY) == COLLECTOR_NAME and message.get("ack") is True:
            self.acks = True
            return
        ack = message.get("ack")
        if isinstance(ack, int) and not isinstance(ack, bool):
            inflight = self._inflight
            while inflight and inflight[0][0] <= ack:
                inflight.popleft()
                self.acked += 1
