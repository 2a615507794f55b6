"""What a TCP server does with the bytes it receives: one small class per server of the course.

A behaviour sees each connection through ``TcpConnection`` (``send``, ``close``, ``state``) and may
keep server-wide state (the chat's members, the roles' order). Register a kind with
``register_behaviour`` at the bottom of the module.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from netlab_tui.engine.core.catalog import ServerOption, register_behaviour

from . import contacts
from .tcp import TcpServer

if TYPE_CHECKING:
    from .tcp import TcpConnection


class Behaviour:
    kind: ClassVar[str] = "tcp"
    title: ClassVar[str] = "TCP server"
    server: "TcpServer"

    async def on_start(self) -> None:
        """The socket is bound; the ``listen`` event waits for this (open stores here)."""

    async def on_listening(self) -> None:
        """The ``listen`` event is out: say more."""

    async def on_stop(self) -> None:
        """The server stopped."""

    async def on_connect(self, conn: "TcpConnection") -> None:
        """A client connected."""

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        """A chunk arrived (as one ``recv`` returned it: TCP keeps no message boundaries)."""

    async def on_eof(self, conn: "TcpConnection") -> None:
        """The client shut down its write side (or closed)."""

    async def on_timeout(self, conn: "TcpConnection") -> None:
        """The client stayed silent past the idle timeout; the connection closes after this."""

    async def on_close(self, conn: "TcpConnection") -> None:
        """The connection is gone."""


class EchoBehaviour(Behaviour):
    kind = "tcp-echo"
    title = "TCP echo"

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        conn.send(data)


class GreetBehaviour(Behaviour):
    """The course's ``conn.sendall(b'Recu: ' + data)``: a fixed prefix, then the data as received."""

    kind = "tcp-greet"
    title = "TCP greet"

    def __init__(self, greeting: str = "Recu: ") -> None:
        self.greeting = greeting.encode("utf-8")

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        conn.send(self.greeting + data)


def timestamp(ts: float | None = None) -> str:
    """Local time with milliseconds: ``2024-05-01 14:03:07.123``."""
    ts = time.time() if ts is None else ts
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


class TimeBehaviour(Behaviour):
    kind = "tcp-time"
    title = "TCP time"

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        conn.send(f"received at {timestamp()}: ".encode() + data)


class FinQuitBehaviour(Behaviour):
    """The course's FIN/QUIT server (its process-control chapter): every message is answered
    ``Coucou <message>``; a message containing ``FIN`` closes that connection *without an answer*, and
    if it also contains ``QUIT`` (``FIN,QUIT``) the whole server stops."""

    kind = "tcp-finquit"
    title = "TCP FIN/QUIT"

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        # TCP may split "FIN" across two reads: look at the end of the previous chunk too.
        window = conn.state.get("tail", b"") + data
        conn.state["tail"] = window[-7:]  # enough for "FIN,QUI" + "T"
        if b"FIN" not in window:
            conn.send(b"Coucou " + data)
            return
        if b"QUIT" in window:
            conn.close("FIN,QUIT received")
            self.server.request_stop(f"FIN,QUIT received from {conn.peer}: stopping the server")
        else:
            conn.close("FIN received")


class ContactBehaviour(Behaviour):
    """The JSON contact book: one request per connection, answered, then the server closes."""

    kind = "contact"
    title = "JSON contact book"

    def __init__(self, db: str | None = None) -> None:
        self.db_path = db
        self.book: contacts.ContactBook | None = None
        # SQLite calls are blocking: they run one at a time in a worker thread, off the event loop.
        self._executor: ThreadPoolExecutor | None = None

    async def on_start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netlab-contacts")
        loop = asyncio.get_running_loop()
        self.book = await loop.run_in_executor(self._executor, contacts.ContactBook, self.db_path)

    async def on_listening(self) -> None:
        assert self.book is not None
        self.server.emit("info", local=self.server.address, message=f"contacts stored in {self.book.path}",
                         meta={"db": str(self.book.path)})

    async def on_stop(self) -> None:
        if self.book is not None and self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.book.close)
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        self.book = None

    async def on_connect(self, conn: "TcpConnection") -> None:
        conn.state["reader"] = contacts.JsonRequestReader()

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        reader: contacts.JsonRequestReader = conn.state["reader"]
        try:
            raw = reader.feed(data)
        except contacts.RequestError as exc:
            self._answer(conn, contacts.reply(False, str(exc)))
            return
        if raw is not None:
            assert self.book is not None and self._executor is not None
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(self._executor, contacts.handle_request, self.book, raw)
            self._answer(conn, response)

    async def on_eof(self, conn: "TcpConnection") -> None:
        self._answer(conn, contacts.reply(False, conn.state["reader"].incomplete_reason()))

    async def on_timeout(self, conn: "TcpConnection") -> None:
        reader: contacts.JsonRequestReader = conn.state["reader"]
        self._answer(conn, contacts.reply(
            False, f"timed out after {self.server.idle_timeout:g}s waiting for a complete JSON request "
                   f"({reader.received} bytes received)"))

    def _answer(self, conn: "TcpConnection", response: dict[str, Any]) -> None:
        conn.info(f"{'ok' if response['status'] else 'refused'}: {response['msg']}",
                  status=response["status"])
        conn.send(contacts.encode_reply(response))
        conn.close("request answered")


class RolesBehaviour(Behaviour):
    """The first client is ``primary``, the others ``secondary``; when the primary leaves, the oldest
    secondary is promoted. Each client is told its role as one line."""

    kind = "roles"
    title = "Primary/secondary roles"

    def __init__(self) -> None:
        self.members: list["TcpConnection"] = []  # in order of arrival; members[0] is the primary

    async def on_connect(self, conn: "TcpConnection") -> None:
        self.members.append(conn)
        role = "primary" if len(self.members) == 1 else "secondary"
        conn.send(f"{role}\n".encode())
        conn.info(f"{conn.peer} is {role}", role=role)

    async def on_close(self, conn: "TcpConnection") -> None:
        if conn not in self.members:
            return
        was_primary = self.members[0] is conn
        self.members.remove(conn)
        if was_primary and self.members and self.server.running:
            heir = self.members[0]
            heir.send(b"primary\n")
            heir.info(f"{conn.peer} left: {heir.peer} is now primary", role="primary", promoted=True)


class ChatBehaviour(Behaviour):
    """A broker like ``ncat --broker``, with a sender tag: each line a client sends goes to all the
    others as ``<host:port> line``. Arrivals and departures are announced with ``* ``."""

    kind = "chat"
    title = "Chat broker"
    max_line = 64 * 1024  # a longer line without a newline is forwarded as it stands
    max_backlog = 1024 * 1024  # a member that reads nothing is dropped past this many unsent bytes

    def __init__(self) -> None:
        self.members: dict[str, "TcpConnection"] = {}

    async def on_connect(self, conn: "TcpConnection") -> None:
        conn.state["partial"] = b""
        self._broadcast(conn, f"* {conn.peer} joined ({len(self.members) + 1} in the room)\n".encode())
        self.members[conn.id] = conn

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        buffered = conn.state["partial"] + data
        *lines, rest = buffered.split(b"\n")
        if len(rest) >= self.max_line:
            lines.append(rest)
            rest = b""
        conn.state["partial"] = rest
        tag = f"<{conn.peer}> ".encode()
        for line in lines:
            self._broadcast(conn, tag + line + b"\n")

    async def on_close(self, conn: "TcpConnection") -> None:
        if self.members.pop(conn.id, None) is not None and self.server.running:
            rest = conn.state.get("partial")
            if rest:
                self._broadcast(conn, f"<{conn.peer}> ".encode() + rest + b"\n")
            self._broadcast(conn, f"* {conn.peer} left ({len(self.members)} in the room)\n".encode())

    def _broadcast(self, sender: "TcpConnection", line: bytes) -> None:
        for member in list(self.members.values()):
            if member is sender or member.closing:
                continue
            transport = member.transport
            if transport is not None and transport.get_write_buffer_size() > self.max_backlog:
                member.info(f"dropping {member.peer}: it reads nothing ({self.max_backlog} bytes unsent)")
                member.close("too slow: stopped reading")
                transport.abort()  # what is queued for it will never be read: drop it
                continue
            member.send(line)


register_behaviour(TcpServer, EchoBehaviour, "sends every byte it receives back to the sender")
register_behaviour(TcpServer, GreetBehaviour,
                   "replies a greeting prefix + the data ('Recu: ' + data, as in the course)",
                   options=(ServerOption("greeting", "prefix put before each reply (default 'Recu: ')",
                                         default="Recu: ", metavar="TEXT"),))
register_behaviour(TcpServer, TimeBehaviour, "replies 'received at <timestamp>: <data>'")
register_behaviour(TcpServer, FinQuitBehaviour,
                   "the course's: answers 'Coucou ' + data; FIN closes without answering, FIN,QUIT stops the server")
register_behaviour(TcpServer, ContactBehaviour,
                   'one JSON request per connection {"cmd": list|add|delete|find, "args": {...}}, SQLite-backed',
                   options=(ServerOption("db", "SQLite file of the contacts (default: contacts.sqlite3 in the user "
                                               "data directory)", metavar="PATH"),),
                   idle_timeout=30.0)
register_behaviour(TcpServer, RolesBehaviour,
                   "tells the first client 'primary', the others 'secondary'; promotes the oldest on leave")
register_behaviour(TcpServer, ChatBehaviour,
                   "every line from one client goes to all the others, tagged with the sender")
