"""UDP server and client sessions on asyncio datagram endpoints.

A datagram is a message: it arrives whole or not at all, from any peer, with no connection. Each
datagram is one ``data`` event; the ``conn`` of a UDP event names the peer pair, so one peer's
exchanges can be followed. ``UdpServer`` hands each datagram to a *datagram behaviour* (``udp-echo``,
``udp-sink``); ``UdpClient`` is the course's ``sendto``/``recvfrom`` with a reply timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

from netlab_tui.engine.core.catalog import register_behaviour
from netlab_tui.engine.core.events import format_addr, new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import (
    bind_error,
    check_port,
    connect_error,
    open_datagram_endpoint,
    resolve,
    warn_if_all_interfaces,
)
from netlab_tui.engine.core.sessions import NetlabError, Session, SessionStatus

MAX_DATAGRAM = 65507  # the largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP header bytes)
MAX_PEERS = 4096  # peer → conversation ids remembered by a server


class DatagramBehaviour:
    """What a UDP server does with each datagram. ``server.reply(peer, data)`` answers the sender."""

    kind: ClassVar[str] = "udp"
    title: ClassVar[str] = "UDP server"
    server: "UdpServer"

    def on_datagram(self, peer: Any, data: bytes) -> None:
        """One datagram from ``peer`` (the sockaddr ``recvfrom`` gives)."""


class UdpEchoBehaviour(DatagramBehaviour):
    kind = "udp-echo"
    title = "UDP echo"

    def on_datagram(self, peer: Any, data: bytes) -> None:
        self.server.reply(peer, b"Recu: " + data)


class UdpSinkBehaviour(DatagramBehaviour):
    """Receives and logs datagrams from any number of peers; the datagram ``FIN`` stops it."""

    kind = "udp-sink"
    title = "UDP sink"

    def on_datagram(self, peer: Any, data: bytes) -> None:
        if data.strip() == b"FIN":
            self.server.request_stop(f"FIN received from {sockaddr_str(peer)}: stopping the server")


class _DatagramProtocol(asyncio.DatagramProtocol):
    """Hands each datagram and socket error to its UdpServer or UdpClient."""

    def __init__(self, owner: "UdpServer | UdpClient") -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner._received(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.owner._error(exc)


class UdpServer(Session):
    proto = "udp"
    role = "server"

    def __init__(self, journal: Journal, behaviour: DatagramBehaviour, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(journal, name=f"{behaviour.kind}@{format_addr(host, port)}")
        self.behaviour = behaviour
        behaviour.server = self
        self.kind = behaviour.kind  # type: ignore[misc]
        self.host = host
        self.port = check_port(port)
        self.address: str | None = None
        self.datagrams = 0
        self._peers: OrderedDict[str, str] = OrderedDict()  # "host:port" → conversation id
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def description(self) -> str:
        return f"{self.address or format_addr(self.host, self.port)}  {self.datagrams} dgram  {len(self._peers)} peers"

    @property
    def peers(self) -> list[str]:
        return list(self._peers)

    async def _start(self) -> None:
        where = format_addr(self.host, self.port)
        family, sockaddr = await resolve(self.host, self.port, kind=socket.SOCK_DGRAM, passive=True)
        try:
            self._transport, _ = await open_datagram_endpoint(
                lambda: _DatagramProtocol(self), family, place=self.place, local_addr=(sockaddr[0], self.port)
            )
        except OSError as exc:
            raise bind_error(exc, where) from None
        bound = self._transport.get_extra_info("sockname")
        self.address = sockaddr_str(bound)
        self.port = bound[1]
        self.set_name(f"{self.kind}@{self.address}")
        self.emit("listen", local=self.address, message=f"{self.behaviour.title} listening on udp {self.address}",
                  meta={"kind": self.kind, "host": bound[0], "port": self.port})
        warn_if_all_interfaces(self, self.host, self.address)

    async def _stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self.emit("info", local=self.address, message=f"{self.name} stopped",
                  meta={"stopped": True, "datagrams": self.datagrams, "peers": len(self._peers)})

    def request_stop(self, reason: str) -> None:
        """For behaviours: stop soon (the course's FIN datagram), without awaiting here."""
        self.emit("info", local=self.address, message=reason, meta={"stopping": True})
        asyncio.get_running_loop().create_task(self.stop())

    def _conn_for(self, peer: str) -> str:
        peers = self._peers
        conn = peers.get(peer)
        if conn is None:
            conn = peers[peer] = new_conn_id("udp")
            if len(peers) > MAX_PEERS:
                peers.popitem(last=False)
            self._changed()
        else:
            peers.move_to_end(peer)
        return conn

    def _error(self, exc: Exception) -> None:
        self.emit("error", local=self.address, message=f"socket error: {exc}")

    def _received(self, data: bytes, addr: Any) -> None:
        if self.status != SessionStatus.RUNNING:
            return
        self.datagrams += 1
        peer = sockaddr_str(addr)
        self.emit("data", direction="in", payload=data, local=self.address, peer=peer,
                  conn=self._conn_for(peer or "?"))
        try:
            self.behaviour.on_datagram(addr, data)
        except Exception as exc:  # a behaviour bug costs one datagram, never the server
            self.emit("error", local=self.address, peer=peer,
                      message=f"{self.kind} failed on a datagram from {peer}: {exc!r}")

    def reply(self, addr: Any, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        peer = sockaddr_str(addr)
        self._transport.sendto(data, addr)
        self.emit("data", direction="out", payload=data, local=self.address, peer=peer,
                  conn=self._conn_for(peer or "?"))


class UdpClient(Session):
    """A UDP socket that talks to one peer: ``send`` a datagram, ``receive`` the next with a timeout.

    The socket is connected (``connect`` on UDP only fixes the peer), so the kernel reports an ICMP
    "port unreachable" — nothing listening — as an error instead of leaving the client waiting.
    """

    kind = "udp-client"
    proto = "udp"
    role = "client"

    def __init__(self, journal: Journal, host: str, port: int, *, timeout: float = 2.0,
                 queue_size: int = 1024) -> None:
        super().__init__(journal, name=f"udp-client→{format_addr(host, port)}")
        self.host = host
        self.port = check_port(port, allow_zero=False)
        self.timeout = timeout
        self.local: str | None = None
        self.peer: str | None = None
        self.conn: str | None = None
        self.sent = 0
        self.received = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._queue: asyncio.Queue[bytes | NetlabError] = asyncio.Queue(maxsize=queue_size)
        self._listeners: list[Callable[[bytes], None]] = []

    @property
    def description(self) -> str:
        return f"{self.local} → {self.peer}" if self.peer else format_addr(self.host, self.port)

    def on_receive(self, listener: Callable[[bytes], None]) -> Callable[[], None]:
        """``listener(datagram)`` for each datagram received."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def _start(self) -> None:
        where = format_addr(self.host, self.port)
        family, sockaddr = await resolve(self.host, self.port, kind=socket.SOCK_DGRAM)
        try:
            self._transport, _ = await open_datagram_endpoint(
                lambda: _DatagramProtocol(self), family, place=self.place, remote_addr=(sockaddr[0], self.port)
            )
        except OSError as exc:
            raise connect_error(exc, f"udp {where}") from None
        self.local = sockaddr_str(self._transport.get_extra_info("sockname"))
        self.peer = sockaddr_str(self._transport.get_extra_info("peername"))
        self.conn = new_conn_id("udp")
        self.set_name(f"udp-client {self.local}→{self.peer}")
        self.emit("info", local=self.local, peer=self.peer, conn=self.conn,
                  message=f"UDP socket {self.local} ready to send to {self.peer}")

    async def _stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def send(self, data: bytes) -> None:
        """``sendto``: one datagram, sent at once (UDP has no send buffer to wait on)."""
        if self._transport is None or self.status != SessionStatus.RUNNING:
            raise NetlabError("the UDP socket is closed")
        if len(data) > MAX_DATAGRAM:
            raise NetlabError(f"datagram too large: {len(data)} bytes (UDP carries at most {MAX_DATAGRAM})")
        self._transport.sendto(data)
        self.sent += 1
        self.emit("data", direction="out", payload=data, local=self.local, peer=self.peer, conn=self.conn)

    async def receive(self, timeout: float | None = None) -> bytes | None:
        """``recvfrom`` with a timeout: the next datagram, or None if none came in time.

        NetlabError when the peer's machine said nothing listens on that port (ICMP unreachable)."""
        timeout = self.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(timeout):
                item = await self._queue.get()
        except TimeoutError:
            self.emit("info", local=self.local, peer=self.peer, conn=self.conn,
                      message=f"no reply from {self.peer} within {timeout:g}s", meta={"timeout": timeout})
            return None
        if isinstance(item, NetlabError):
            raise item
        return item

    async def request(self, data: bytes, timeout: float | None = None) -> bytes | None:
        """Send one datagram and wait for the reply (what the course's UDP client does)."""
        self.drain_pending()
        self.send(data)
        return await self.receive(timeout)

    def drain_pending(self) -> int:
        """Forget datagrams and errors nobody read yet (late replies to an earlier request)."""
        count = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            count += 1
        return count

    def _enqueue(self, item: bytes | NetlabError) -> None:
        if self._queue.full():  # nobody reads: keep the newest
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
        self._queue.put_nowait(item)

    def _received(self, data: bytes, addr: Any) -> None:
        self.received += 1
        self.emit("data", direction="in", payload=data, local=self.local, peer=sockaddr_str(addr), conn=self.conn)
        self._enqueue(data)
        for listener in list(self._listeners):
            listener(data)

    def _error(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            message = f"port unreachable: nothing is listening on udp {self.peer}"
        else:
            message = f"UDP error with {self.peer}: {exc.strerror if isinstance(exc, OSError) else exc}"
        self.emit("error", local=self.local, peer=self.peer, conn=self.conn, message=message)
        self._enqueue(NetlabError(message))


register_behaviour(UdpServer, UdpEchoBehaviour, "replies 'Recu: ' + data to each datagram's sender")
register_behaviour(UdpServer, UdpSinkBehaviour, "logs datagrams from any number of peers; the datagram FIN stops it")
