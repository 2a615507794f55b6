"""An HTTP client session on httpx that keeps the exact bytes of every exchange.

httpx (through httpcore and h11) does the HTTP; a recording network backend sits under it and copies
every byte written to and read from the socket into the capture of the request being sent (a context
variable: httpcore reads and writes in the sending task). Redirects are followed here, one hop at a
time, so each hop has its own raw bytes, timings and events.

``HttpRequestSpec`` is what a user fills in (the pane's form, the CLI's arguments); ``HttpClient.send``
turns it into an ``HttpResult``: the hops, each an ``HttpExchange`` with status, headers, body, the raw
bytes sent and received, sizes and times. ``to_curl`` writes the same request as a curl command.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import shlex
import socket
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import httpcore
import httpx
from anyio.abc import SocketStream
from httpcore._backends.anyio import AnyIOStream  # httpcore's own stream over an anyio socket stream

from netlab_tui import __version__
from netlab_tui.engine.core.events import new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import connect_error
from netlab_tui.engine.core.place import Place, place_socket
from netlab_tui.engine.core.sessions import NetlabError, Session

USER_AGENT = f"netlab/{__version__}"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODY_KINDS = ("none", "json", "form", "raw")
AUTH_KINDS = ("none", "basic", "bearer")
HISTORY_SIZE = 200


# -- what the user asks for ------------------------------------------------------------------------------
@dataclass
class HttpRequestSpec:
    method: str = "GET"
    url: str = ""
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body_kind: str = "none"  # none, json, form, raw
    body: str = ""  # the JSON or raw text
    form: list[tuple[str, str]] = field(default_factory=list)
    auth_kind: str = "none"  # none, basic, bearer
    username: str = ""
    password: str = ""
    token: str = ""
    timeout: float = 10.0
    follow_redirects: bool = False
    max_redirects: int = 10

    def copy(self) -> "HttpRequestSpec":
        return replace(self, params=list(self.params), headers=list(self.headers), form=list(self.form))

    def full_url(self) -> str:
        """The URL with the query table appended (what goes on the wire)."""
        url = normalise_url(self.url)
        if not self.params:
            return url
        split = urllib.parse.urlsplit(url)
        query = urllib.parse.urlencode(self.params)
        query = f"{split.query}&{query}" if split.query else query
        return urllib.parse.urlunsplit(split._replace(query=query))

    def body_bytes(self) -> tuple[bytes | None, str | None]:
        """The body and the Content-Type it implies (None when the user's headers should decide)."""
        if self.method in ("GET", "HEAD") and self.body_kind != "none" and not (self.body or self.form):
            return None, None
        if self.body_kind == "json":
            text = self.body.strip()
            if not text:
                return None, None
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                raise NetlabError(f"the JSON body is not valid JSON: {exc.msg} at line {exc.lineno} "
                                  f"column {exc.colno}") from None
            return text.encode("utf-8"), "application/json"
        if self.body_kind == "form":
            return urllib.parse.urlencode(self.form).encode("ascii"), "application/x-www-form-urlencoded"
        if self.body_kind == "raw":
            return self.body.encode("utf-8"), None
        if self.body_kind == "none":
            return None, None
        raise NetlabError(f"unknown body kind {self.body_kind!r} (expected one of {', '.join(BODY_KINDS)})")

    def auth_header(self) -> str | None:
        if self.auth_kind == "basic":
            pair = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if self.auth_kind == "bearer":
            if not self.token:
                raise NetlabError("bearer auth needs a token")
            return f"Bearer {self.token}"
        if self.auth_kind in ("none", ""):
            return None
        raise NetlabError(f"unknown auth {self.auth_kind!r} (expected one of {', '.join(AUTH_KINDS)})")

    def build(self) -> httpx.Request:
        method = self.method.strip().upper()
        if not method or not method.isascii() or not all(c.isalpha() or c in "-_" for c in method):
            raise NetlabError(f"invalid HTTP method {self.method!r}")
        body, content_type = self.body_bytes()
        given = {name.strip().lower() for name, _ in self.headers}
        headers = [("User-Agent", USER_AGENT)]
        if "accept" not in given:
            headers.append(("Accept", "*/*"))
        if content_type and "content-type" not in given:
            headers.append(("Content-Type", content_type))
        auth = self.auth_header()
        if auth and "authorization" not in given:
            headers.append(("Authorization", auth))
        for name, value in self.headers:
            name = name.strip()
            if not name:
                continue
            if name.lower() == "user-agent":
                headers[0] = (name, value)
            else:
                headers.append((name, value))
        try:
            return httpx.Request(method, self.full_url(), headers=headers, content=body)
        except (httpx.InvalidURL, ValueError) as exc:
            raise NetlabError(f"invalid URL {self.url!r}: {exc}") from None
        except (UnicodeEncodeError, TypeError) as exc:
            raise NetlabError(f"invalid header: {exc}") from None

    def to_curl(self) -> str:
        """The same request as a curl command line (quoted for a POSIX shell)."""
        parts = ["curl"]
        method = self.method.upper()
        body, content_type = self.body_bytes()
        if method == "HEAD":
            parts.append("-I")
        elif method != "GET" or body is not None:
            if not (method == "POST" and body is not None):
                parts += ["-X", method]
        for name, value in self.headers:
            if name.strip():
                parts += ["-H", f"{name.strip()}: {value}"]
        if content_type and not any(n.strip().lower() == "content-type" for n, _ in self.headers):
            parts += ["-H", f"Content-Type: {content_type}"]
        if self.auth_kind == "basic":
            parts += ["-u", f"{self.username}:{self.password}"]
        elif self.auth_kind == "bearer":
            parts += ["-H", f"Authorization: Bearer {self.token}"]
        if body is not None:
            parts += ["--data-raw", body.decode("utf-8", "replace")]
        if self.follow_redirects:
            parts += ["-L", "--max-redirs", str(self.max_redirects)]
        parts += ["--max-time", f"{self.timeout:g}"]
        parts.append(self.full_url())
        return " ".join(shlex.quote(p) for p in parts)


def normalise_url(url: str) -> str:
    """``localhost:8080/x`` → ``http://localhost:8080/x``: learners leave the scheme out."""
    url = url.strip()
    if not url:
        raise NetlabError("no URL given")
    if "://" not in url:
        url = "http://" + url
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise NetlabError(f"unsupported scheme {scheme!r} in {url!r} (use http:// or https://)")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError as exc:
        raise NetlabError(f"not a valid URL: {url!r} ({exc})") from None
    if not parts.hostname or any(ch in parts.hostname for ch in ' <>"{}|\\^`%[]'):
        raise NetlabError(f"not a valid URL: {url!r} (no usable host name)")
    return url


# -- what comes back -------------------------------------------------------------------------------------
@dataclass
class HttpExchange:
    """One request and its response, as they crossed the wire."""

    conn: str
    method: str
    url: str
    status: int
    reason: str
    http_version: str
    request_headers: list[tuple[str, str]]
    response_headers: list[tuple[str, str]]
    request_body: bytes
    body: bytes  # the response body, decoded from any Content-Encoding
    raw_sent: bytes
    raw_received: bytes
    local: str | None = None
    peer: str | None = None
    reused: bool = False  # sent on a kept-alive connection
    connect_ms: float | None = None
    ttfb_ms: float | None = None  # until the first byte of the response
    total_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def size(self) -> int:
        return len(self.raw_received)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == lowered), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def pretty_body(self) -> str:
        """JSON indented; anything else as text (binary shown as a count)."""
        if not self.body:
            return ""
        if "json" in self.content_type or self.body[:1] in (b"{", b"["):
            try:
                return json.dumps(json.loads(self.body), indent=2, ensure_ascii=False)
            except (ValueError, UnicodeDecodeError):
                pass
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(self.body)} bytes of binary data>"


@dataclass
class HttpResult:
    spec: HttpRequestSpec
    hops: list[HttpExchange]
    started: float
    elapsed_ms: float

    @property
    def final(self) -> HttpExchange:
        return self.hops[-1]

    @property
    def status(self) -> int:
        return self.final.status


# -- capturing the wire ----------------------------------------------------------------------------------
class _Capture:
    """What one request put on the wire and got back, and callbacks so the journal hears of the
    connection and of the sent request as they happen (not after the response)."""

    __slots__ = ("sent", "received", "local", "peer", "t0", "connected", "first_byte", "new_connection",
                 "on_connect", "on_sent", "reported_sent")

    def __init__(self) -> None:
        self.sent = bytearray()
        self.received = bytearray()
        self.local: str | None = None
        self.peer: str | None = None
        self.t0 = time.perf_counter()
        self.connected: float | None = None
        self.first_byte: float | None = None
        self.new_connection = False
        self.on_connect: Callable[[], None] | None = None
        self.on_sent: Callable[[], None] | None = None
        self.reported_sent = False

    def request_sent(self) -> None:
        if not self.reported_sent and self.sent:
            self.reported_sent = True
            if self.on_sent is not None:
                self.on_sent()


_capture: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar("netlab_http_capture", default=None)


class _RecordingStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self.local = sockaddr_str(stream.get_extra_info("client_addr"))
        self.peer = sockaddr_str(stream.get_extra_info("server_addr"))

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        capture = _capture.get()
        if capture is not None:
            capture.request_sent()  # HTTP/1.1: the whole request is out before the response is read
        data = await self._stream.read(max_bytes, timeout)
        if capture is not None:
            if capture.first_byte is None:
                capture.first_byte = time.perf_counter()
            capture.received += data
            capture.local, capture.peer = self.local, self.peer
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        capture = _capture.get()
        if capture is not None:
            capture.sent += buffer
            capture.local, capture.peer = self.local, self.peer
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.AsyncNetworkStream:
        # What we record from then on is the plaintext HTTP inside TLS.
        return _RecordingStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, place: Place | None = None) -> None:
        self._backend = httpcore.AnyIOBackend()
        self._place = place

    async def _connect_on_place(self, host, port, timeout, local_address, socket_options):
        """httpcore's AnyIO connect, with the socket opened inside ``self._place`` (a topology host);
        None when the place needs no socket of its own (this process already runs on that host)."""
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                family, _type, _proto, _canon, sockaddr = infos[0]
                sock = place_socket(self._place, family, socket.SOCK_STREAM)
                if sock is None:
                    return None
                try:
                    if local_address:
                        sock.bind((local_address, 0))
                    for option in socket_options or ():
                        sock.setsockopt(*option)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    await asyncio.get_running_loop().sock_connect(sock, sockaddr)
                    stream = await SocketStream.from_socket(sock)
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except (OSError, anyio.BrokenResourceError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return AnyIOStream(stream)

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        raw = None
        if self._place is not None:
            raw = await self._connect_on_place(host, port, timeout, local_address, socket_options)
        if raw is None:
            raw = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        stream = _RecordingStream(raw)
        capture = _capture.get()
        if capture is not None:
            capture.connected = time.perf_counter()
            capture.new_connection = True
            capture.local, capture.peer = stream.local, stream.peer
            if capture.on_connect is not None:
                capture.on_connect()
        return stream

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _RecordingStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class RecordingTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with the recording backend under its connection pool (connecting from
    ``place``, a topology host, when given)."""

    def __init__(self, verify: bool = True, place: Place | None = None) -> None:
        super().__init__(verify=verify)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=10,
            keepalive_expiry=5.0,
            network_backend=_RecordingBackend(place),
        )


# -- the session -----------------------------------------------------------------------------------------
class HttpClient(Session):
    """Sends requests on one httpx client (so connections are kept alive between sends)."""

    kind = "http-client"
    proto = "http"
    role = "client"

    def __init__(self, journal: Journal, *, verify: bool = True, name: str | None = None) -> None:
        super().__init__(journal, name=name or "http-client")
        self.verify = verify
        self.history: deque[HttpResult] = deque(maxlen=HISTORY_SIZE)
        self._client: httpx.AsyncClient | None = None
        self.last_target: str | None = None

    @property
    def description(self) -> str:
        return f"{len(self.history)} sent" + (f", last {self.last_target}" if self.last_target else "")

    async def _start(self) -> None:
        self._client = httpx.AsyncClient(transport=RecordingTransport(self.verify, self.place), follow_redirects=False,
                                         trust_env=False)

    async def _stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, spec: HttpRequestSpec) -> HttpResult:
        """Send, following redirects when asked; NetlabError (one line) for anything that fails."""
        if self._client is None:
            raise NetlabError("the HTTP client is not running")
        request = spec.build()
        if not 0 < spec.timeout <= 3600:
            raise NetlabError("timeout must be between 0 and 3600 seconds")
        self.last_target = f"{request.method} {request.url}"
        timeout = httpx.Timeout(spec.timeout)
        started = time.time()
        t0 = time.perf_counter()
        hops: list[HttpExchange] = []
        while True:
            hop, response = await self._send_one(request, timeout)
            hops.append(hop)
            if not (spec.follow_redirects and response.next_request is not None):
                break
            if len(hops) > spec.max_redirects:
                self.emit("error", conn=hop.conn, message=f"more than {spec.max_redirects} redirects",
                          meta={"url": hop.url})
                raise NetlabError(f"stopped after {spec.max_redirects} redirects (last: {hop.url})")
            request = response.next_request
        result = HttpResult(spec=spec.copy(), hops=hops, started=started,
                            elapsed_ms=round((time.perf_counter() - t0) * 1000, 3))
        self.history.append(result)
        self._changed()
        return result

    async def _send_one(self, request: httpx.Request, timeout: httpx.Timeout) -> tuple[HttpExchange, httpx.Response]:
        assert self._client is not None
        conn = new_conn_id("http")
        capture = _Capture()
        capture.on_connect = lambda: self.emit(
            "connect", local=capture.local, peer=capture.peer, conn=conn, message=f"connected to {capture.peer}",
            meta={"url": str(request.url)})
        capture.on_sent = lambda: self.emit(
            "request", direction="out", payload=bytes(capture.sent), local=capture.local, peer=capture.peer,
            conn=conn, meta=_request_meta(request))
        token = _capture.set(capture)
        where = request.url.netloc.decode("ascii", "replace")
        request.extensions = {**request.extensions, "timeout": timeout.as_dict()}
        try:
            await request.aread()
            response = await self._client.send(request, follow_redirects=False)
        except httpx.HTTPError as exc:
            message = _explain(exc, where, timeout.read)
            capture.request_sent()
            self.emit("error", local=capture.local, peer=capture.peer, conn=conn, message=message,
                      meta={"method": request.method, "url": str(request.url)})
            raise NetlabError(message) from None
        finally:
            _capture.reset(token)
        end = time.perf_counter()
        capture.request_sent()
        hop = HttpExchange(
            conn=conn,
            method=request.method,
            url=str(request.url),
            status=response.status_code,
            reason=response.reason_phrase,
            http_version=response.http_version,
            request_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
            request_body=request.content,
            body=response.content,
            raw_sent=bytes(capture.sent),
            raw_received=bytes(capture.received),
            local=capture.local,
            peer=capture.peer,
            reused=not capture.new_connection,
            connect_ms=_ms(capture.t0, capture.connected),
            ttfb_ms=_ms(capture.t0, capture.first_byte),
            total_ms=round((end - capture.t0) * 1000, 3),
        )
        self.emit("response", direction="in", payload=hop.raw_received, local=hop.local, peer=hop.peer,
                  conn=conn, meta={"method": hop.method, "url": hop.url, "path": request.url.path,
                                   "status": hop.status, "reason": hop.reason, "elapsed_ms": hop.total_ms,
                                   "body_size": len(hop.body), "reused": hop.reused})
        return hop, response


def _request_meta(request: httpx.Request) -> dict[str, Any]:
    return {"method": request.method, "url": str(request.url), "path": request.url.path,
            "body_size": len(request.content)}


def _ms(t0: float, t: float | None) -> float | None:
    return None if t is None else round((t - t0) * 1000, 3)


def _root_os_error(exc: BaseException) -> OSError | None:
    """The most specific OS error under httpx's (anyio reports "All connection attempts failed")."""
    found = None
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, OSError) and type(current) is not OSError:
            return current
        if isinstance(current, OSError) and found is None and current.errno is not None:
            found = current
        current = current.__cause__ or current.__context__
        seen += 1
    return found


# What went wrong, most specific class first ({reason}: the error's text, or "reset" when it has none).
_FAILURES: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ConnectTimeout, "timed out connecting to {where} after {timeout:g}s"),
    (httpx.ReadTimeout, "no response from {where} after {timeout:g}s"),
    (httpx.TimeoutException, "timed out talking to {where} after {timeout:g}s"),
    (httpx.RemoteProtocolError, "{where} broke the HTTP protocol: {exc}"),
    (httpx.UnsupportedProtocol, "unsupported URL: {exc}"),
    (httpx.ReadError, "connection to {where} failed while reading the response: {reason}"),
    (httpx.WriteError, "connection to {where} failed while sending the request: {reason}"),
)


def _explain(exc: httpx.HTTPError, where: str, timeout: float | None) -> str:
    if isinstance(exc, httpx.ConnectError):
        cause = _root_os_error(exc)
        if cause is not None:
            return str(connect_error(cause, where, timeout))
        return f"cannot connect to {where}: {str(exc) or exc.__class__.__name__}"
    for failure, template in _FAILURES:
        if isinstance(exc, failure):
            return template.format(where=where, timeout=timeout, exc=exc, reason=str(exc) or "reset")
    return f"request to {where} failed: {str(exc) or exc.__class__.__name__}"
