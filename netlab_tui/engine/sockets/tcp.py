"""TCP server and client sessions on asyncio streams.

``TcpServer`` accepts connections and hands each one's bytes to a *behaviour* (echo, greet, chat …, see
``behaviours.py``); every chunk read or written is one ``data`` event carrying the exact bytes.
``TcpClient`` is one persistent connection the user types into, with a settable ``recv`` buffer size so
that the way TCP splits and merges messages can be seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netlab_tui.engine.core.events import HostEvent, TrafficEvent, format_addr, new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import (
    check_port,
    connect_error,
    open_tcp_connection,
    resolve,
    start_tcp_server,
    warn_if_all_interfaces,
)
from netlab_tui.engine.core.sessions import NetlabError, Session, SessionStatus

if TYPE_CHECKING:
    from .behaviours import Behaviour

DEFAULT_BUFSIZE = 4096
MAX_BUFSIZE = 1 << 20


class TcpConnection:
    """One accepted connection, as a behaviour sees it."""

    __slots__ = (
        "id", "server", "reader", "writer", "local", "peer", "state", "opened_at", "closing", "_close_reason",
        "bytes_in", "bytes_out", "task", "reading", "last_active", "timed_out",
    )

    def __init__(self, server: "TcpServer", reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.id = new_conn_id("tcp")
        self.server = server
        self.reader = reader
        self.writer = writer
        self.local = sockaddr_str(writer.get_extra_info("sockname"))
        self.peer = sockaddr_str(writer.get_extra_info("peername"))
        self.state: dict[str, Any] = {}  # the behaviour's per-connection state
        self.opened_at = time.time()
        self.closing = False
        self._close_reason: str | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        # For the server's idle sweep: waiting in recv since last_active (loop time) means idle.
        self.task: asyncio.Task | None = None
        self.reading = False
        self.last_active = 0.0
        self.timed_out = False

    def send(self, data: bytes) -> None:
        """Queue bytes to the peer (flushed after the behaviour returns) and record them."""
        if self.closing or self.writer.is_closing():
            return
        self.writer.write(data)
        self.bytes_out += len(data)
        self.server._data_event("out", data, self)

    def send_text(self, text: str) -> None:
        self.send(text.encode("utf-8"))

    def close(self, reason: str = "closed by server") -> None:
        """Close after what was sent has been flushed."""
        self.closing = True
        self._close_reason = reason

    def info(self, message: str, **meta: Any) -> None:
        self.server.emit("info", message=message, local=self.local, peer=self.peer, conn=self.id, meta=meta or None)


class TcpServer(Session):
    proto = "tcp"
    role = "server"

    def __init__(
        self,
        journal: Journal,
        behaviour: "Behaviour",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bufsize: int = DEFAULT_BUFSIZE,
        idle_timeout: float | None = 300.0,
        max_connections: int = 1024,
    ) -> None:
        super().__init__(journal, name=f"{behaviour.kind}@{format_addr(host, port)}")
        self.behaviour = behaviour
        behaviour.server = self
        self.kind = behaviour.kind  # type: ignore[misc]  # instance-level: one class, many kinds
        self.host = host
        self.port = check_port(port)
        self.bufsize = bufsize
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.address: str | None = None
        self.connections: dict[str, TcpConnection] = {}
        self.total_connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        # Set once the behaviour is ready (its store open): "listen" means a request is served whole.
        self._ready = asyncio.Event()

    @property
    def description(self) -> str:
        return f"{self.address or format_addr(self.host, self.port)}  {len(self.connections)} conn"

    async def _start(self) -> None:
        self._server = await start_tcp_server(self._accept, self.host, self.port, place=self.place)
        sock = self._server.sockets[0]
        self.address = sockaddr_str(sock.getsockname())
        self.port = sock.getsockname()[1]
        self.set_name(f"{self.kind}@{self.address}")
        # The behaviour gets ready (opens its store …) before anyone is told the server listens; a client
        # that connects earlier anyway (it guessed the port) waits in _accept until then.
        self._ready = asyncio.Event()
        try:
            await self.behaviour.on_start()
        except BaseException:
            self._server.close()
            raise
        self._ready.set()
        self.emit(
            "listen",
            local=self.address,
            message=f"{self.behaviour.title} listening on {self.address}",
            meta={"kind": self.kind, "host": sock.getsockname()[0], "port": self.port},
        )
        warn_if_all_interfaces(self, self.host, self.address)
        await self.behaviour.on_listening()
        self._schedule_sweep()

    def _data_event(self, direction: str, payload: bytes, conn: TcpConnection) -> None:
        """``emit("data", ...)`` for the per-chunk path: the same event and counters, built positionally
        (keyword arguments and the generic emit's branches cost a third of the journaling)."""
        stats = self.stats
        stats["events"] += 1
        stats["bytes_in" if direction == "in" else "bytes_out"] += len(payload)
        if self.host_name is None:
            self.journal.publish(TrafficEvent(self.name, "tcp", "data", direction, conn.local, conn.peer, conn.id,
                                              payload))
        else:
            self.journal.publish(HostEvent(self.name, "tcp", "data", direction, conn.local, conn.peer, conn.id,
                                           payload, host=self.host_name))

    # Idle connections are found by one periodic sweep per server rather than one timer per connection
    # re-armed on every chunk: on the per-message path a timer costs as much as journaling the chunk.
    def _schedule_sweep(self) -> None:
        if self.idle_timeout:
            interval = min(max(self.idle_timeout / 10, 0.02), 1.0)
            self._sweeper = asyncio.get_running_loop().call_later(interval, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        if not self.running:
            return
        idle = self.idle_timeout
        if idle:
            deadline = asyncio.get_running_loop().time() - idle
            for conn in list(self.connections.values()):
                if conn.reading and conn.last_active <= deadline and conn.task is not None and not conn.timed_out:
                    conn.timed_out = True
                    conn.task.cancel()
        self._schedule_sweep()

    async def _stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections.values()):
            conn.close("server stopped")
            conn.writer.close()
        tasks = list(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=2.0)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        await self.behaviour.on_stop()
        self.emit("info", local=self.address, message=f"{self.name} stopped", meta={"stopped": True})

    def request_stop(self, reason: str) -> None:
        """For behaviours: stop the whole server soon (the course's QUIT), without awaiting here."""
        self.emit("info", local=self.address, message=reason, meta={"stopping": True})
        asyncio.get_running_loop().create_task(self.stop())

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = TcpConnection(self, reader, writer)
        try:
            if not self._ready.is_set() and self.status == SessionStatus.STARTING:
                await self._ready.wait()
            if self.status != SessionStatus.RUNNING and self.status != SessionStatus.STARTING:
                writer.close()
                return
            if len(self.connections) >= self.max_connections:
                self.emit("error", peer=conn.peer, local=conn.local, conn=conn.id,
                          message=f"refused {conn.peer}: {self.max_connections} connections already open")
                writer.close()
                return
            await self._serve(conn)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, conn: TcpConnection) -> None:
        self.connections[conn.id] = conn
        self.total_connections += 1
        self._changed()
        emit = self.emit
        behaviour = self.behaviour
        reader, writer = conn.reader, conn.writer
        emit("accept", local=conn.local, peer=conn.peer, conn=conn.id, message=f"connection from {conn.peer}")
        closed_by = "server"
        loop = asyncio.get_running_loop()
        conn.task = asyncio.current_task()
        bufsize = self.bufsize
        data_event = self._data_event
        try:
            await behaviour.on_connect(conn)
            if not conn.closing:
                await writer.drain()
            conn.last_active = loop.time()
            while not conn.closing:
                conn.reading = True
                data = await reader.read(bufsize)
                conn.reading = False
                conn.last_active = loop.time()
                if not data:
                    if conn.closing:  # the behaviour closed it while we waited (e.g. aborted)
                        break
                    closed_by = "peer"
                    await behaviour.on_eof(conn)
                    if not conn.closing:
                        await writer.drain()
                    break
                conn.bytes_in += len(data)
                data_event("in", data, conn)
                await behaviour.on_data(conn, data)
                await writer.drain()
        except (ConnectionResetError, BrokenPipeError) as exc:
            closed_by = "reset"
            emit("error", local=conn.local, peer=conn.peer, conn=conn.id,
                 message=f"connection with {conn.peer} reset ({exc.__class__.__name__})")
        except asyncio.CancelledError:
            if conn.timed_out:  # cancelled by the idle sweep, not by a stop
                if conn.task is not None:
                    conn.task.uncancel()
                conn.reading = False
                closed_by = "timeout"
                conn.info(f"closing idle connection from {conn.peer} after {self.idle_timeout:g}s")
                with contextlib.suppress(Exception):
                    await behaviour.on_timeout(conn)
                    async with asyncio.timeout(1.0):
                        await writer.drain()
            else:
                closed_by = "server"
        except Exception as exc:  # a behaviour bug costs one connection, never the server
            emit("error", local=conn.local, peer=conn.peer, conn=conn.id,
                 message=f"{behaviour.kind} failed on data from {conn.peer}: {exc!r}")
        finally:
            self.connections.pop(conn.id, None)
            with contextlib.suppress(Exception):
                await behaviour.on_close(conn)
            writer.close()
            transport = writer.transport
            if transport is not None and transport.get_write_buffer_size():
                # Replies still queued: give them a moment to flush (an empty buffer closes at once).
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await writer.wait_closed()
            reason = conn._close_reason if closed_by == "server" and conn._close_reason else {
                "peer": f"{conn.peer} closed the connection",
                "timeout": "idle timeout",
                "reset": "reset by peer",
                "server": "closed by server",
            }[closed_by]
            emit("close", local=conn.local, peer=conn.peer, conn=conn.id, message=reason,
                 meta={"by": closed_by, "bytes_in": conn.bytes_in, "bytes_out": conn.bytes_out,
                       "duration": round(time.time() - conn.opened_at, 6)})
            self._changed()


class TcpClient(Session):
    """A persistent client connection: ``send`` bytes, see every chunk the peer sends back."""

    kind = "tcp-client"
    proto = "tcp"
    role = "client"

    def __init__(
        self,
        journal: Journal,
        host: str,
        port: int,
        *,
        bufsize: int = DEFAULT_BUFSIZE,
        connect_timeout: float = 5.0,
    ) -> None:
        super().__init__(journal, name=f"tcp-client→{format_addr(host, port)}")
        self.host = host
        self.port = check_port(port, allow_zero=False)
        self.bufsize = bufsize
        self.connect_timeout = connect_timeout
        self.local: str | None = None
        self.peer: str | None = None
        self.conn: str | None = None
        self.eof = asyncio.Event()  # the peer closed its side
        self.write_closed = False
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task | None = None
        self._pending_read: asyncio.Future | None = None
        self._listeners: list[Callable[[bytes | None], None]] = []

    @property
    def description(self) -> str:
        return f"{self.local} → {self.peer}" if self.peer else format_addr(self.host, self.port)

    def set_bufsize(self, size: int) -> None:
        if not 1 <= size <= MAX_BUFSIZE:
            raise NetlabError(f"recv buffer size must be 1 to {MAX_BUFSIZE} bytes")
        self.bufsize = size
        # The recv already waiting was asked for the old size; nothing is consumed until data arrives,
        # so cancel it and let the loop ask again, or the next chunk would still be of the old size.
        if self._pending_read is not None and not self._pending_read.done():
            self._pending_read.cancel()

    def on_receive(self, listener: Callable[[bytes | None], None]) -> Callable[[], None]:
        """``listener(chunk)`` for each chunk received; ``listener(None)`` once at EOF."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def _start(self) -> None:
        where = format_addr(self.host, self.port)
        family, sockaddr = await resolve(self.host, self.port)
        try:
            async with asyncio.timeout(self.connect_timeout):
                self._reader, self._writer = await open_tcp_connection(
                    (sockaddr[0], self.port, *sockaddr[2:]), family, place=self.place, limit=MAX_BUFSIZE
                )
        except (OSError, TimeoutError) as exc:
            raise connect_error(exc, where, self.connect_timeout) from None
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.local = sockaddr_str(self._writer.get_extra_info("sockname"))
        self.peer = sockaddr_str(self._writer.get_extra_info("peername"))
        self.conn = new_conn_id("tcp")
        self.set_name(f"tcp-client {self.local}→{self.peer}")
        self.emit("connect", local=self.local, peer=self.peer, conn=self.conn, message=f"connected to {self.peer}")
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self._reader is not None
        task = asyncio.current_task()
        try:
            while True:
                self._pending_read = asyncio.ensure_future(self._reader.read(self.bufsize))
                try:
                    data = await self._pending_read
                except asyncio.CancelledError:
                    if task is not None and task.cancelling():
                        raise  # the session is stopping
                    continue  # set_bufsize cancelled the pending recv: ask again with the new size
                if not data:
                    break
                self.emit("data", direction="in", payload=data, local=self.local, peer=self.peer, conn=self.conn)
                for listener in list(self._listeners):
                    listener(data)
            self.eof.set()
            self.emit("close", local=self.local, peer=self.peer, conn=self.conn,
                      message=f"{self.peer} closed the connection (EOF)", meta={"by": "peer"})
        except (ConnectionResetError, BrokenPipeError):
            self.eof.set()
            self.emit("error", local=self.local, peer=self.peer, conn=self.conn, message=f"connection reset by {self.peer}")
        except asyncio.CancelledError:
            return
        for listener in list(self._listeners):
            listener(None)
        if self._writer is not None:
            self._writer.close()
        self.finished()

    async def send(self, data: bytes) -> None:
        if self._writer is None or self.status != SessionStatus.RUNNING:
            raise NetlabError("not connected")
        if self.write_closed:
            raise NetlabError("the write side is shut down (half-closed); reconnect to send more")
        try:
            self._writer.write(data)
            self.emit("data", direction="out", payload=data, local=self.local, peer=self.peer, conn=self.conn)
            await self._writer.drain()
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise NetlabError(f"cannot send: connection to {self.peer} is gone ({exc.__class__.__name__})") from None

    async def shutdown_write(self) -> None:
        """Half-close: send FIN, keep reading (what ``sock.shutdown(socket.SHUT_WR)`` does)."""
        if self._writer is None or self.status != SessionStatus.RUNNING:
            raise NetlabError("not connected")
        if not self.write_closed:
            self.write_closed = True
            self._writer.write_eof()
            self.emit("info", local=self.local, peer=self.peer, conn=self.conn,
                      message="write side shut down (FIN sent); still reading", meta={"half_close": True})

    async def _stop(self) -> None:
        if self._read_task is not None and not self._read_task.done():
            self._read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._read_task
            self.emit("close", local=self.local, peer=self.peer, conn=self.conn,
                      message="closed by netlab", meta={"by": "netlab"})
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self._writer.wait_closed()
