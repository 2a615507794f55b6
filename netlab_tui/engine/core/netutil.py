"""Address resolution and the one-line messages for socket errors users meet."""

from __future__ import annotations

import asyncio
import errno
import socket

from .events import format_addr
from .place import Place, place_socket
from .sessions import NetlabError, Session

ALL_INTERFACES = {"", "0.0.0.0", "::", "*"}


def is_all_interfaces(host: str) -> bool:
    return host in ALL_INTERFACES


async def resolve(host: str, port: int, *, kind: int = socket.SOCK_STREAM, passive: bool = False) -> tuple:
    """The first address ``host`` resolves to, as a sockaddr; NetlabError with a clear line if none."""
    if host == "*":
        host = "0.0.0.0"
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host or None, port, type=kind, flags=socket.AI_PASSIVE if passive else 0
        )
    except socket.gaierror as exc:
        raise NetlabError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    except UnicodeError:
        raise NetlabError(f"invalid host name {host!r}") from None
    if not infos:
        raise NetlabError(f"cannot resolve host {host!r}")
    family, _type, _proto, _canon, sockaddr = infos[0]
    return family, sockaddr


def check_port(port: int | str, *, allow_zero: bool = True) -> int:
    try:
        value = int(port)
    except (TypeError, ValueError):
        raise NetlabError(f"invalid port {port!r}: expected a number from {0 if allow_zero else 1} to 65535") from None
    low = 0 if allow_zero else 1
    if not low <= value <= 65535:
        raise NetlabError(f"invalid port {value}: expected a number from {low} to 65535")
    return value


def bind_error(exc: OSError, where: str) -> NetlabError:
    if exc.errno == errno.EADDRINUSE:
        return NetlabError(f"address already in use: {where} (another program is listening there)")
    if exc.errno == errno.EADDRNOTAVAIL:
        return NetlabError(f"cannot bind {where}: that address does not belong to this machine")
    if exc.errno == errno.EACCES:
        return NetlabError(f"permission denied binding {where} (ports below 1024 need privileges)")
    return NetlabError(f"cannot listen on {where}: {exc.strerror or exc}")


async def start_tcp_server(accept, host: str, port: int, *, place: Place | None = None,
                           **options) -> asyncio.Server:
    """``asyncio.start_server(accept, ...)`` on ``host``:``port`` (resolved; port 0 = any free port), with
    SO_REUSEADDR and a backlog for hundreds of clients; a NetlabError that says why when it cannot bind.
    With a ``place`` (a topology host), the listening socket is opened on that host."""
    return await _listen_tcp(lambda **kw: asyncio.start_server(accept, **kw), host, port, place, options)


async def create_tcp_server(protocol_factory, host: str, port: int, *, place: Place | None = None,
                            **options) -> asyncio.Server:
    """``start_tcp_server`` for an ``asyncio.Protocol`` (``loop.create_server``): no stream per connection."""
    loop = asyncio.get_running_loop()
    return await _listen_tcp(lambda **kw: loop.create_server(protocol_factory, **kw), host, port, place, options)


async def _listen_tcp(serve, host: str, port: int, place: Place | None, options: dict) -> asyncio.Server:
    family, sockaddr = await resolve(host, port, passive=True)
    sock = None
    try:
        sock = place_socket(place, family, socket.SOCK_STREAM)
        if sock is None:
            return await serve(host=sockaddr[0], port=port, family=family, reuse_address=True, backlog=512,
                               **options)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        return await serve(sock=sock, backlog=512, **options)
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise bind_error(exc, format_addr(host, port)) from None


async def open_tcp_connection(sockaddr: tuple, family: int, *, place: Place | None = None, **options):
    """``asyncio.open_connection`` to a resolved address, from ``place`` when given (a topology host)."""
    sock = place_socket(place, family, socket.SOCK_STREAM)
    if sock is None:
        return await asyncio.open_connection(sockaddr[0], sockaddr[1], family=family, **options)
    try:
        await asyncio.get_running_loop().sock_connect(sock, sockaddr)
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock, **options)


async def open_datagram_endpoint(factory, family: int, *, place: Place | None = None,
                                 local_addr: tuple | None = None, remote_addr: tuple | None = None):
    """``loop.create_datagram_endpoint``, with its socket opened on ``place`` when given."""
    loop = asyncio.get_running_loop()
    sock = place_socket(place, family, socket.SOCK_DGRAM)
    if sock is None:
        return await loop.create_datagram_endpoint(factory, local_addr=local_addr, remote_addr=remote_addr,
                                                   family=family)
    try:
        if local_addr is not None:
            sock.bind(local_addr)
        if remote_addr is not None:
            sock.connect(remote_addr)
    except BaseException:
        sock.close()
        raise
    return await loop.create_datagram_endpoint(factory, sock=sock)


def warn_if_all_interfaces(session: Session, host: str, address: str | None, reachable: str = "it") -> None:
    """The visible warning (an ``info`` event) when a server listens on every interface (0.0.0.0, ::)."""
    if is_all_interfaces(host):
        session.emit("info", local=address, meta={"warning": "all-interfaces"},
                     message=f"warning: bound to all interfaces ({address}); other machines can reach {reachable}")


def connect_error(exc: BaseException, where: str, timeout: float | None = None) -> NetlabError:
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return NetlabError(f"timed out connecting to {where} after {timeout:g}s")
    if isinstance(exc, ConnectionRefusedError):
        return NetlabError(f"connection refused by {where} (nothing is listening there)")
    if isinstance(exc, socket.gaierror):
        return NetlabError(f"cannot resolve host in {where}: {exc.strerror}")
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return NetlabError(f"no route to {where}")
        return NetlabError(f"cannot connect to {where}: {exc.strerror or exc}")
    return NetlabError(f"cannot connect to {where}: {exc}")
