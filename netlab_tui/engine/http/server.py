"""An HTTP/1.1 server on asyncio streams and h11 that journals the exact bytes of every exchange.

h11 parses and frames; this module only moves bytes, which is what lets it record, for each exchange,
the request exactly as it arrived (chunk framing, header case, pipelined neighbours cut off) and the
response exactly as it left. Each exchange is two events, ``request`` (in) and ``response`` (out),
sharing one ``conn`` id (``http-N``); ``meta`` carries the method, path and status and, under
``tcp``, the keep-alive connection the exchange travelled on.

What a server answers is an ``HttpApp`` (a router of async handlers): ``http_lab.py`` is the lab's, and
``rpc.py`` the XML-RPC/JSON-RPC one. Bad requests get a clear 400/405/408/413/431; limits and timeouts
protect the server from slow or oversized clients, and a handler's bug costs one 500, never the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import http
import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h11

from netlab_tui import __version__
from netlab_tui.engine.core.events import format_addr, new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import check_port, start_tcp_server, warn_if_all_interfaces
from netlab_tui.engine.core.sessions import Session, SessionStatus

SERVER_NAME = f"netlab/{__version__}"
READ_SIZE = 65536
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
KEEPALIVE_TIMEOUT = 15.0
REQUEST_TIMEOUT = 30.0
LINGER_SECONDS = 1.0  # after an error answer, drain what the client still sends so it reads our answer
SWEEP_SECONDS = 0.1  # how often deadlines are checked: timeouts fire up to this much late


# -- requests and responses ------------------------------------------------------------------------------
class HttpError(Exception):
    """Raised by handlers (and the router) to answer with an error status and a JSON body."""

    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []

    def response(self) -> "HttpResponse":
        return json_response({"error": self.message, "status": self.status}, self.status, self.headers)


@dataclass(slots=True)
class HttpRequest:
    method: str
    target: str  # as sent: path and query, still percent-encoded
    path: str  # percent-decoded
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # names as the client spelled them
    http_version: str
    body: bytes
    conn: str  # the exchange id
    peer: str | None = None
    local: str | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return default

    def arg(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    @property
    def host(self) -> str:
        return self.header("host") or self.local or "localhost"

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.target}"

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON; a 400 naming the problem when it is not."""
        if not self.body:
            raise HttpError(400, "the request has no body; send JSON (Content-Type: application/json)")
        try:
            return json.loads(self.body)
        except UnicodeDecodeError:
            raise HttpError(400, "the body is not UTF-8 text, so it cannot be JSON") from None
        except json.JSONDecodeError as exc:
            raise HttpError(400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None  # sent chunked (HTTP/1.1) when set
    close: bool = False


def json_response(data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
    return HttpResponse(status, body, "application/json", list(headers or ()))


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> HttpResponse:
    return HttpResponse(status, text.encode("utf-8"), content_type)


def reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """The Date header value, formatted once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


# -- routing ---------------------------------------------------------------------------------------------
Handler = Callable[..., Awaitable[HttpResponse]]
_PARAM = re.compile(r"\{(\w+)(?::(path))?\}")


class Router:
    """Path patterns (``/api/users/{id}``, ``/anything/{rest:path}``) to handlers by method.

    A path that matches with another method answers 405 with ``Allow``; ``HEAD`` is served by the GET
    handler, ``OPTIONS`` answers 204 with ``Allow`` for any known path, and ``*`` takes any method.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str] | None, str, dict[str, Handler]]] = []
        self._exact: dict[str, dict[str, Handler]] = {}  # patterns without parameters: one dict lookup

    def add(self, pattern: str, methods: str | tuple[str, ...], handler: Handler) -> None:
        if isinstance(methods, str):
            methods = (methods,)
        for _regex, source, table in self._routes:
            if source == pattern:
                table.update({m: handler for m in methods})
                return
        table = {m: handler for m in methods}
        if _PARAM.search(pattern) is None:
            self._exact[pattern] = table
            self._routes.append((None, pattern, table))
            return
        regex = "^" + _PARAM.sub(
            lambda m: f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)", re.escape(pattern)
            .replace(r"\{", "{").replace(r"\}", "}")
        ) + "$"
        self._routes.append((re.compile(regex), pattern, table))

    def route(self, pattern: str, *methods: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add(pattern, methods or ("GET",), handler)
            return handler

        return decorate

    def patterns(self) -> list[tuple[str, list[str]]]:
        return [(source, sorted(table)) for _regex, source, table in self._routes]

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed: set[str] = set()
        exact = self._exact.get(path)
        candidates: list[tuple[dict[str, Handler], dict[str, str]]] = [(exact, {})] if exact is not None else []
        if exact is None:
            for regex, _source, table in self._routes:
                if regex is not None and (match := regex.match(path)) is not None:
                    candidates.append((table, match.groupdict()))
        for table, params in candidates:
            handler = table.get(method) or table.get("*")
            if handler is None and method == "HEAD":
                handler = table.get("GET")
            if handler is not None:
                return handler, params
            allowed.update(table)
        if not allowed:
            raise HttpError(404, f"no route for {path}")
        if "GET" in allowed:
            allowed.add("HEAD")
        allow = ", ".join(sorted(allowed | {"OPTIONS"}))
        if method == "OPTIONS":
            raise _Options(allow)
        raise HttpError(405, f"{method} is not allowed on {path}; use {allow}", [("Allow", allow)])


class _Options(Exception):
    def __init__(self, allow: str) -> None:
        self.allow = allow


class HttpApp:
    """What an ``HttpServer`` answers. Subclasses fill ``self.router`` and may use start/stop hooks."""

    kind = "http"
    title = "HTTP server"
    server: "HttpServer"

    def __init__(self) -> None:
        self.router = Router()

    async def on_start(self) -> None:
        """The socket is bound; a failure here fails the start (open databases here)."""

    async def on_listening(self) -> None:
        """The ``listen`` event is out (it comes first in the journal): say more, start helpers."""

    async def on_stop(self) -> None:
        """The server stopped."""

    async def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            handler, params = self.router.resolve(request.method, request.path)
        except _Options as options:
            return HttpResponse(204, headers=[("Allow", options.allow)])
        return await handler(request, **params)


# -- the server ------------------------------------------------------------------------------------------
class _Connection:
    """The per-connection state the exchange loop threads through."""

    __slots__ = ("id", "reader", "writer", "local", "peer", "raw", "eof", "task", "deadline", "timed_out", "phase",
                 "started", "exchange",
                 "requests", "bytes_in", "bytes_out", "method", "target", "http_version", "interim", "closing")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.id = new_conn_id("tcp")
        self.reader = reader
        self.writer = writer
        self.local = sockaddr_str(writer.get_extra_info("sockname"))
        self.peer = sockaddr_str(writer.get_extra_info("peername"))
        self.raw = bytearray()  # bytes received and not yet attributed to a request
        self.eof = False  # the client shut its side
        self.task = asyncio.current_task()
        # When the current phase must be over (loop time); the server's sweeper enforces it. One float per
        # phase instead of a timer handle per phase: this is the per-request hot path.
        self.deadline: float | None = None
        self.timed_out = False
        self.phase = "idle"  # idle (between requests), reading, handling, writing, done
        self.started: float | None = None  # wall-clock time of the current request's first byte
        self.exchange: str | None = None
        self.requests = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.method: str | None = None
        self.target: str | None = None
        self.http_version = "1.1"
        self.interim = b""  # a "100 Continue" already sent for the current request
        self.closing: str | None = None  # why the connection ends after this exchange


class HttpServer(Session):
    proto = "http"
    role = "server"

    def __init__(
        self,
        journal: Journal,
        app: HttpApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        keepalive_timeout: float = KEEPALIVE_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
        max_connections: int = 1024,
    ) -> None:
        super().__init__(journal, name=f"{app.kind}@{format_addr(host, port)}")
        self.app = app
        app.server = self
        self.kind = app.kind  # type: ignore[misc]  # instance-level: one class, several kinds
        self.host = host
        self.port = check_port(port)
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.keepalive_timeout = keepalive_timeout
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        self.address: str | None = None
        self.connections: dict[str, _Connection] = {}
        self.total_requests = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None

    @property
    def url(self) -> str | None:
        return f"http://{self.address}/" if self.address else None

    @property
    def description(self) -> str:
        where = self.url or format_addr(self.host, self.port)
        return f"{where}  {len(self.connections)} conn  {self.total_requests} req"

    async def _start(self) -> None:
        self._server = await start_tcp_server(self._accept, self.host, self.port, limit=READ_SIZE, place=self.place)
        sock = self._server.sockets[0]
        self.address = sockaddr_str(sock.getsockname())
        self.port = sock.getsockname()[1]
        self.set_name(f"{self.kind}@{self.address}")
        try:
            await self.app.on_start()
        except BaseException:
            self._server.close()
            raise
        self.emit(
            "listen",
            local=self.address,
            message=f"{self.app.title} listening on {self.url}",
            meta={"kind": self.kind, "host": sock.getsockname()[0], "port": self.port, "url": self.url},
        )
        warn_if_all_interfaces(self, self.host, self.address)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        await self.app.on_listening()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=3.0)
        await self.app.on_stop()
        self.emit("info", local=self.address, message=f"{self.name} stopped", meta={"stopped": True})

    # -- connections ---------------------------------------------------------------------------------------
    async def _sweep(self) -> None:
        """Enforce the connections' deadlines (idle keep-alive, slow request, slow reader)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = loop.time()
            for c in list(self.connections.values()):
                if c.deadline is not None and now >= c.deadline and not c.timed_out and c.task is not None:
                    c.timed_out = True
                    c.task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if self.status not in (SessionStatus.RUNNING, SessionStatus.STARTING):
                writer.close()
                return
            if len(self.connections) >= self.max_connections:
                peer = sockaddr_str(writer.get_extra_info("peername"))
                self.emit("error", peer=peer, message=f"refused {peer}: {self.max_connections} connections open")
                body = b'{"error": "too many connections", "status": 503}\n'
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                writer.close()
                return
            await self._serve(_Connection(reader, writer))
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, c: _Connection) -> None:
        self.connections[c.id] = c
        self._changed()
        self.emit("accept", local=c.local, peer=c.peer, conn=c.id, message=f"connection from {c.peer}")
        reason = "closed by server"
        try:
            try:
                while await self._exchange(c):
                    pass
                reason = c.closing or reason
            except asyncio.CancelledError:
                if not c.timed_out or c.task is None:
                    raise
                c.task.uncancel()
                c.deadline = None
                if c.phase == "reading":
                    seconds = self.request_timeout
                    await self._reject(c, 408, f"the request was not complete after {seconds:g}s")
                    reason = "request timeout"
                elif c.phase == "writing":
                    reason = "client stopped reading the response"
                else:
                    reason = f"idle keep-alive timeout ({self.keepalive_timeout:g}s)"
        except (ConnectionResetError, BrokenPipeError):
            reason = "reset by peer"
        except asyncio.CancelledError:
            reason = "server stopped"
        except Exception as exc:  # a bug costs one connection, never the server
            reason = "internal error"
            self.emit("error", local=c.local, peer=c.peer, conn=c.exchange or c.id,
                      message=f"{self.kind} failed serving {c.peer}: {exc!r}")
        finally:
            self.connections.pop(c.id, None)
            c.writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(1.0):
                    await c.writer.wait_closed()
            self.emit("close", local=c.local, peer=c.peer, conn=c.id, message=reason,
                      meta={"requests": c.requests, "bytes_in": c.bytes_in, "bytes_out": c.bytes_out})
            self._changed()

    async def _next_event(self, h: h11.Connection, c: _Connection) -> Any:
        while True:
            event = h.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await c.reader.read(READ_SIZE)
            if data:
                if c.started is None:
                    self._request_begins(c)
                c.raw += data
                c.bytes_in += len(data)
            else:
                c.eof = True
            h.receive_data(data)

    def _request_begins(self, c: _Connection) -> None:
        c.started = time.time()
        c.phase = "reading"
        c.deadline = asyncio.get_running_loop().time() + self.request_timeout

    async def _exchange(self, c: _Connection) -> bool:
        """Read one request, answer it; True when the connection stays open for another.

        h11 parses the request (one parser per request: the response is written here, so h11's view of
        our side never has to advance); the bytes it did not consume stay in ``c.raw`` for the next.
        """
        c.started = None
        c.exchange = None
        c.method = c.target = None
        c.http_version = "1.1"
        c.interim = b""
        h = h11.Connection(h11.SERVER, max_incomplete_event_size=self.max_header_bytes)
        if c.raw:  # a pipelined request is already waiting
            h.receive_data(bytes(c.raw))
            self._request_begins(c)
        else:
            c.phase = "idle"
            c.deadline = asyncio.get_running_loop().time() + self.keepalive_timeout
        if c.eof:
            h.receive_data(b"")
        keep_alive = True
        try:
            event = await self._next_event(h, c)
            if type(event) is h11.ConnectionClosed:
                c.closing = "client closed the connection"
                return False
            c.exchange = new_conn_id("http")
            c.method = event.method.decode("ascii", "replace")
            c.target = event.target.decode("ascii", "replace")
            c.http_version = event.http_version.decode("ascii", "replace")
            head_size = len(c.raw) - len(h.trailing_data[0]) if len(c.raw) > self.max_header_bytes else 0
            if head_size > self.max_header_bytes:
                return await self._reject(c, 431, f"the request head is {head_size} bytes; "
                                                  f"this server accepts {self.max_header_bytes}")
            length = None
            for name, value in event.headers:
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and b"close" in value.lower():
                    keep_alive = False
            if c.http_version != "1.1":
                keep_alive = False  # HTTP/1.0 closes after each response (as h11 does)
            if length is not None and length > self.max_body_bytes:
                return await self._reject(c, 413, f"the body is {length} bytes; "
                                                  f"this server accepts {self.max_body_bytes}")
            if h.they_are_waiting_for_100_continue:
                c.interim = b"HTTP/1.1 100 Continue\r\n\r\n"
                c.writer.write(c.interim)
            body = bytearray()
            while True:
                part = await self._next_event(h, c)
                kind = type(part)
                if kind is h11.Data:
                    body += part.data
                    if len(body) > self.max_body_bytes:
                        return await self._reject(c, 413, f"the body is over {self.max_body_bytes} bytes, "
                                                          "the most this server accepts")
                elif kind is h11.EndOfMessage:
                    break
        except h11.RemoteProtocolError as exc:
            return await self._reject(c, exc.error_status_hint, _explain(exc))

        consumed = len(c.raw) - len(h.trailing_data[0])
        raw_request = bytes(c.raw[:consumed])
        del c.raw[:consumed]
        c.requests += 1
        self.total_requests += 1
        target = c.target
        path, _, query = target.partition("?")
        if "%" in path:
            path = urllib.parse.unquote(path)
        request = HttpRequest(
            method=c.method,
            target=target,
            path=path,
            query=urllib.parse.parse_qsl(query, keep_blank_values=True) if query else [],
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()],
            http_version=c.http_version,
            body=bytes(body),
            conn=c.exchange,
            peer=c.peer,
            local=c.local,
        )
        self.emit("request", direction="in", payload=raw_request, local=c.local, peer=c.peer, conn=c.exchange,
                  meta={"method": c.method, "path": path, "target": target, "http_version": c.http_version,
                        "body_size": len(body), "tcp": c.id})

        c.phase = "handling"
        c.deadline = None  # handlers bound their own time (/delay is capped)
        try:
            response = await self.app.handle(request)
        except HttpError as exc:
            response = exc.response()
        except Exception as exc:
            self.emit("error", local=c.local, peer=c.peer, conn=c.exchange,
                      message=f"{c.method} {path} failed: {exc!r}")
            response = _internal_error(exc)
        keep_alive = keep_alive and not response.close
        await self._respond(c, response, keep_alive)
        if not keep_alive:
            c.closing = "Connection: close" if not response.close else "closed by server"
        return keep_alive and not c.eof

    async def _respond(self, c: _Connection, response: HttpResponse, keep_alive: bool,
                       error: str | None = None) -> None:
        c.phase = "writing"
        try:
            head, framing, keep_alive = _response_head(response, c.method, c.http_version, keep_alive)
        except ValueError as exc:  # a handler put a line break in a header
            self.emit("error", local=c.local, peer=c.peer, conn=c.exchange, message=f"bad response header: {exc}")
            response = _internal_error(exc)
            head, framing, keep_alive = _response_head(response, c.method, c.http_version, keep_alive)
        writer = c.writer
        status = response.status
        if framing == "length":
            out = head + response.body
            writer.write(out)
        elif framing == "none":
            out = head
            writer.write(out)
            if response.stream is not None:
                await _aclose(response.stream)
        else:
            writer.write(head)
            wire = bytearray(head)
            assert response.stream is not None
            self._arm_write_deadline(c)
            async for chunk in response.stream:
                if chunk:
                    piece = b"%x\r\n%s\r\n" % (len(chunk), chunk) if framing == "chunked" else chunk
                    wire += piece
                    writer.write(piece)
                    await writer.drain()
            if framing == "chunked":
                wire += b"0\r\n\r\n"
                writer.write(b"0\r\n\r\n")
            out = bytes(wire)
        if writer.transport.get_write_buffer_size():
            self._arm_write_deadline(c)
            await writer.drain()
        if c.interim:
            out = c.interim + out
        c.bytes_out += len(out)
        meta = {"method": c.method, "path": (c.target or "").partition("?")[0] or None, "status": status,
                "reason": reason_phrase(status), "tcp": c.id}
        if c.started is not None:
            meta["elapsed_ms"] = round((time.time() - c.started) * 1000, 3)
        if error:
            meta["error"] = error
        self.emit("response", direction="out", payload=out, local=c.local, peer=c.peer, conn=c.exchange, meta=meta)

    def _arm_write_deadline(self, c: _Connection) -> None:
        c.deadline = asyncio.get_running_loop().time() + self.request_timeout

    async def _reject(self, c: _Connection, status: int, message: str) -> bool:
        """Answer a request we will not serve, then close the connection. Always False (do not keep)."""
        c.exchange = c.exchange or new_conn_id("http")
        c.closing = f"closed after answering {status}"
        received = bytes(c.raw)
        c.raw.clear()
        self.emit("request", direction="in", payload=received, local=c.local, peer=c.peer, conn=c.exchange,
                  meta={"method": c.method, "path": (c.target or "").partition("?")[0] or None,
                        "target": c.target, "error": message, "tcp": c.id})
        if c.writer.is_closing():
            return False
        response = json_response({"error": message, "status": status}, status)
        try:
            async with asyncio.timeout(self.request_timeout):
                await self._respond(c, response, False, error=message)
                await self._linger(c)
        except (TimeoutError, ConnectionError):
            pass
        return False

    async def _linger(self, c: _Connection) -> None:
        """Closing with unread input makes the kernel send RST, which can destroy our answer before the
        client reads it: shut our side, then drain the client's for a moment."""
        if c.writer.can_write_eof():
            c.writer.write_eof()
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(LINGER_SECONDS):
                drained = 0
                while drained < 16 * MAX_BODY_BYTES:
                    data = await c.reader.read(READ_SIZE)
                    if not data:
                        break
                    drained += len(data)


def _response_head(response: HttpResponse, method: str | None, http_version: str,
                   keep_alive: bool) -> tuple[bytes, str, bool]:
    """The status line and headers, and how the body is framed: ``length``, ``chunked``, ``close``
    (HTTP/1.0 streaming: the end of the body is the end of the connection) or ``none``."""
    status = response.status
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}\r\nServer: {SERVER_NAME}\r\nDate: {http_date()}\r\n"]
    if response.content_type:
        lines.append(f"Content-Type: {response.content_type}\r\n")
    for name, value in response.headers:
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name or ":" in name:
            raise ValueError(f"{name!r}: {value!r}")
        lines.append(f"{name}: {value}\r\n")
    no_content = status in (204, 304) or status < 200  # never a body, nor a length
    if response.stream is None:
        if not no_content:
            lines.append(f"Content-Length: {len(response.body)}\r\n")
        framing = "none" if no_content or method == "HEAD" else "length"
    elif no_content or method == "HEAD":
        framing = "none"
    elif http_version == "1.1":
        framing = "chunked"
        lines.append("Transfer-Encoding: chunked\r\n")
    else:
        framing = "close"
        keep_alive = False
    if not keep_alive:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1"), framing, keep_alive


def _internal_error(exc: BaseException) -> HttpResponse:
    return json_response({"error": f"internal server error: {exc.__class__.__name__}", "status": 500}, 500)


async def _aclose(stream: AsyncIterator[bytes]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


def _explain(exc: h11.RemoteProtocolError) -> str:
    text = str(exc)
    if exc.error_status_hint == 431:
        return "the request head is too large (or never ends with an empty line)"
    if text.startswith("peer unexpectedly closed"):
        return "the client closed the connection before the request was complete"
    if "illegal request line" in text:
        line = text.partition(":")[2].strip()
        found = re.fullmatch(r"bytearray\(b(['\"])(.*)\1\)", line)
        shown = found.group(2) if found else line
        return f"not an HTTP request line: '{shown}' (expected METHOD /path HTTP/1.1)"
    return f"malformed request: {text}"
