"""TCP server and client sessions: the server on an asyncio protocol, the client on streams.

``TcpServer`` accepts connections and hands each one's bytes to a *behaviour* (echo, greet, chat …, see
``behaviours.py``); every chunk read or written is one ``data`` event carrying the exact bytes.
``TcpClient`` is one persistent connection the user types into, with a settable ``recv`` buffer size so
that the way TCP splits and merges messages can be seen.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import socket
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from netlab_tui.engine.core.events import HostEvent, TrafficEvent, format_addr, new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import (
    check_port,
    connect_error,
    create_tcp_server,
    open_tcp_connection,
    resolve,
    warn_if_all_interfaces,
)
from netlab_tui.engine.core.sessions import NetlabError, Session, SessionStatus

if TYPE_CHECKING:
    from .behaviours import Behaviour

DEFAULT_BUFSIZE = 4096
MAX_BUFSIZE = 1 << 20


class _Resumed(collections.abc.Coroutine):
    """A behaviour hook started by hand (``send(None)``) that then waited on something: lets a Task take
    it over. The first step hands the Task what the hook is waiting on; every later one goes to the hook."""

    __slots__ = ("_coro", "_waiting", "_started")

    def __init__(self, coro: Coroutine, waiting: Any) -> None:
        self._coro = coro
        self._waiting = waiting
        self._started = False

    def send(self, value: Any) -> Any:
        if not self._started:
            self._started = True
            return self._waiting
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._started = True
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)  # pragma: no cover - asyncio throws exceptions, not triples

    def close(self) -> None:
        self._coro.close()

    def __await__(self):  # pragma: no cover - only ever driven by a Task
        raise TypeError("a resumed hook is driven by its task, not awaited")


_REASONS = {
    "peer": "{peer} closed the connection",
    "timeout": "idle timeout",
    "reset": "reset by peer",
    "server": "closed by server",
}


class TcpConnection(asyncio.Protocol):
    """One accepted connection, as a behaviour sees it (and, for asyncio, its protocol).

    The behaviour's hooks are coroutines, but most never wait on anything (echo answers at once): a hook
    is started by hand and, when it finishes without waiting, a chunk costs no task, no future and no
    wake-up more than the bare ``data_received``. A hook that does wait (the contact book's SQLite thread)
    goes on in a task, and reading pauses until it is done, so chunks are still handled one at a time in
    order. After each hook, as a streams server's ``await writer.drain()`` would, reading waits while the
    peer is not reading what was sent (the transport paused writing).
    """

    __slots__ = (
        "id", "server", "transport", "local", "peer", "state", "opened_at", "closing", "_close_reason",
        "bytes_in", "bytes_out", "reading", "last_active", "timed_out", "busy", "lost", "_lost_exc",
        "_write_paused", "_finishing", "_done", "_flushed", "_on_data", "_time",
    )

    def __init__(self, server: "TcpServer") -> None:
        self.id = new_conn_id("tcp")
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.local: str | None = None
        self.peer: str | None = None
        self.state: dict[str, Any] = {}  # the behaviour's per-connection state
        self.opened_at = time.time()
        self.closing = False
        self._close_reason: str | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        # For the server's idle sweep: reading (waiting for data, no hook running) since last_active
        # (loop time) means idle.
        self.reading = False
        self.last_active = 0.0
        self.timed_out = False
        self.busy = False  # a hook is running in a task
        self.lost = False  # asyncio said connection_lost
        self._lost_exc: BaseException | None = None
        self._write_paused = False
        self._finishing = False
        self._done = False  # the close event is out
        self._flushed: asyncio.Future | None = None
        self._on_data = server.behaviour.on_data
        self._time = asyncio.get_running_loop().time

    # -- what behaviours call --------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Queue bytes to the peer and record them."""
        transport = self.transport
        if self.closing or transport is None or transport.is_closing():
            return
        transport.write(data)
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

    # -- asyncio.Protocol --------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.local = sockaddr_str(transport.get_extra_info("sockname"))
        self.peer = sockaddr_str(transport.get_extra_info("peername"))
        server = self.server
        if hasattr(transport, "max_size"):
            # Each chunk is what one recv(bufsize) returns, as in the course's servers (asyncio reads 256 KiB).
            transport.max_size = server.bufsize  # type: ignore[attr-defined]
        transport.pause_reading()  # until the behaviour has greeted the connection
        if not server._ready.is_set() and server.status == SessionStatus.STARTING:
            # A client that guessed the port before "listen": served once the behaviour is ready.
            server._track(asyncio.get_running_loop().create_task(self._open_when_ready()))
        else:
            self._open()

    async def _open_when_ready(self) -> None:
        await self.server._ready.wait()
        self._open()

    def _open(self) -> None:
        server = self.server
        transport = self.transport
        assert transport is not None
        if server.status != SessionStatus.RUNNING and server.status != SessionStatus.STARTING:
            transport.close()
            return
        if len(server.connections) >= server.max_connections:
            server.emit("error", peer=self.peer, local=self.local, conn=self.id,
                        message=f"refused {self.peer}: {server.max_connections} connections already open")
            transport.close()
            return
        server.connections[self.id] = self
        server._live.add(self)
        server.total_connections += 1
        server._changed()
        server.emit("accept", local=self.local, peer=self.peer, conn=self.id, message=f"connection from {self.peer}")
        self._call(server.behaviour.on_connect(self), self._after_hook)

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self.server._data_event("in", data, self)
        coro = self._on_data(self, data)
        try:
            waiting = coro.send(None)
        except StopIteration:  # the hook is done (echo …): the per-message path stays in this call
            if self.closing or self._write_paused:
                self._after_hook(None)
            else:
                self.last_active = self._time()
            return
        except (Exception, asyncio.CancelledError) as exc:
            self.reading = False
            self._after_hook(exc)
            return
        self._go_on(coro, waiting, self._after_hook)

    def eof_received(self) -> bool:
        self.reading = False
        if self.closing:  # the behaviour had closed it; the peer's FIN crossed our close
            self._finish("server")
        else:
            self._call(self.server.behaviour.on_eof(self), self._after_eof)
        return True  # keep our write side open for what on_eof answers; _finish closes it

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = True
        self._lost_exc = exc
        self.reading = False
        if self._flushed is not None and not self._flushed.done():
            self._flushed.set_result(None)
        if self._finishing or self.busy or not self.server._is_live(self):
            return  # closing already, or the running hook's end will see `lost`
        self._after_lost()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if not self.busy and not self._finishing and not self.lost and self.server._is_live(self):
            self._listen()

    # -- the hooks' ends -----------------------------------------------------------------------------------
    def _call(self, coro: Coroutine, then: Callable[[BaseException | None], None]) -> None:
        """Run a behaviour hook, then ``then(exc)`` (exc None when it returned): inline when it never waits,
        in a task when it does (reading paused meanwhile)."""
        self.reading = False
        try:
            waiting = coro.send(None)
        except StopIteration:
            then(None)
            return
        except (Exception, asyncio.CancelledError) as exc:
            then(exc)
            return
        self._go_on(coro, waiting, then)

    def _go_on(self, coro: Coroutine, waiting: Any, then: Callable[[BaseException | None], None]) -> None:
        self.busy = True
        self.reading = False
        transport = self.transport
        if transport is not None and not self._finishing:
            transport.pause_reading()
        task = asyncio.get_running_loop().create_task(_Resumed(coro, waiting))
        self.server._track(task)

        def done(task: asyncio.Task) -> None:
            self.busy = False
            then(asyncio.CancelledError() if task.cancelled() else task.exception())

        task.add_done_callback(done)

    def _after_hook(self, exc: BaseException | None) -> None:
        """After on_connect / on_data: carry on reading, or close."""
        if self._finishing:
            return
        if exc is not None:
            self._failed(exc)
        elif self.lost:
            self._after_lost()
        elif self.closing:
            self._finish("server")
        else:
            self._listen()

    def _after_eof(self, exc: BaseException | None) -> None:
        if exc is not None and not isinstance(exc, asyncio.CancelledError):
            self._report_failure(exc)
        self._finish("peer")

    def _after_lost(self) -> None:
        exc = self._lost_exc
        if self.closing or exc is None:  # aborted by the behaviour (chat drops a slow member), or gone
            self._finish("server" if self.closing else "peer")
        else:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            self.server.emit("error", local=self.local, peer=self.peer, conn=self.id,
                             message=f"connection with {self.peer} reset ({exc.__class__.__name__})")
            self._finish("reset")
        else:
            if not isinstance(exc, asyncio.CancelledError):
                self._report_failure(exc)
            self._finish("server")

    def _report_failure(self, exc: BaseException) -> None:
        # A behaviour bug costs one connection, never the server.
        self.server.emit("error", local=self.local, peer=self.peer, conn=self.id,
                         message=f"{self.server.behaviour.kind} failed on data from {self.peer}: {exc!r}")

    def _listen(self) -> None:
        self.last_active = self._time()
        transport = self.transport
        if self._write_paused:  # the peer reads nothing of what we send: stop reading it too
            self.reading = False
            if transport is not None:
                transport.pause_reading()
            return
        self.reading = True
        if transport is not None and not transport.is_reading():
            transport.resume_reading()

    def _time_out(self) -> None:
        """The idle sweep found it silent too long."""
        self.timed_out = True
        self.reading = False
        if self.transport is not None:
            self.transport.pause_reading()
        self.info(f"closing idle connection from {self.peer} after {self.server.idle_timeout:g}s")
        self._call(self.server.behaviour.on_timeout(self), lambda exc: self._finish("timeout"))

    def _finish(self, closed_by: str) -> None:
        if self._finishing:
            return
        self._finishing = True
        self.reading = False
        self.server.connections.pop(self.id, None)
        self._call(self.server.behaviour.on_close(self), lambda exc: self._shut(closed_by))

    def _shut(self, closed_by: str) -> None:
        transport = self.transport
        assert transport is not None
        transport.close()  # flushes what is queued, then closes
        if not self.lost and transport.get_write_buffer_size():
            # Replies still queued: give them a moment to flush before saying it is closed.
            self._flushed = asyncio.get_running_loop().create_future()
            self.server._track(asyncio.get_running_loop().create_task(self._closed_after_flush(closed_by)))
        else:
            self._closed(closed_by)

    async def _closed_after_flush(self, closed_by: str) -> None:
        assert self._flushed is not None
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._flushed
        finally:
            self._closed(closed_by)

    def _closed(self, closed_by: str) -> None:
        if self._done:
            return
        self._done = True
        server = self.server
        server.connections.pop(self.id, None)
        reason = self._close_reason if closed_by == "server" and self._close_reason else \
            _REASONS[closed_by].format(peer=self.peer)
        server.emit("close", local=self.local, peer=self.peer, conn=self.id, message=reason,
                    meta={"by": closed_by, "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                          "duration": round(time.time() - self.opened_at, 6)})
        server._gone(self)


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
        self.connections: dict[str, TcpConnection] = {}  # open: accepted, not yet closing
        self.total_connections = 0
        self._live: set[TcpConnection] = set()  # accepted, close event not yet out
        self._all_gone: asyncio.Future | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        # Set once the behaviour is ready (its store open): "listen" means a request is served whole.
        self._ready = asyncio.Event()

    @property
    def description(self) -> str:
        return f"{self.address or format_addr(self.host, self.port)}  {len(self.connections)} conn"

    async def _start(self) -> None:
        self._server = await create_tcp_server(lambda: TcpConnection(self), self.host, self.port, place=self.place)
        sock = self._server.sockets[0]
        self.address = sockaddr_str(sock.getsockname())
        self.port = sock.getsockname()[1]
        self.set_name(f"{self.kind}@{self.address}")
        # The behaviour gets ready (opens its store …) before anyone is told the server listens; a client
        # that connects earlier anyway (it guessed the port) waits until then.
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

    def _track(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _is_live(self, conn: TcpConnection) -> bool:
        return conn in self._live

    def _gone(self, conn: TcpConnection) -> None:
        self._live.discard(conn)
        if not self._live and self._all_gone is not None and not self._all_gone.done():
            self._all_gone.set_result(None)
        self._changed()

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
                if conn.reading and conn.last_active <= deadline and not conn.timed_out:
                    conn._time_out()
        self._schedule_sweep()

    async def _stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._server is not None:
            self._server.close()
        for conn in list(self._live):
            if not conn._finishing:
                conn.close("server stopped")
                if not conn.busy:
                    conn._finish("server")
        if self._live:
            self._all_gone = asyncio.get_running_loop().create_future()
            _done, pending = await asyncio.wait({self._all_gone, *self._tasks}, timeout=2.0)
            if self._live:  # hooks still waiting on something: cancelled, their connections closed
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.wait({self._all_gone, *self._tasks}, timeout=1.0)
            for conn in list(self._live):
                if conn.transport is not None:
                    conn.transport.abort()
                conn._closed("server")
        tasks = list(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=1.0)
            for task in pending:
                task.cancel()
        await self.behaviour.on_stop()
        self.emit("info", local=self.address, message=f"{self.name} stopped", meta={"stopped": True})

    def request_stop(self, reason: str) -> None:
        """For behaviours: stop the whole server soon (the course's QUIT), without awaiting here."""
        self.emit("info", local=self.address, message=reason, meta={"stopping": True})
        asyncio.get_running_loop().create_task(self.stop())


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
