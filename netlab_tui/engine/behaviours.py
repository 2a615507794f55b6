"""What a TCP server does with the bytes it receives: one small class per server of the course.

A behaviour sees each connection through ``TcpConnection`` (``send``, ``close``, ``state``) and may
keep server-wide state (the chat's members, the roles' order). Register a kind with
``register_server`` at the bottom of the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .catalog import ServerKind, register_server
from .journal import Journal

if TYPE_CHECKING:
    from .tcp import TcpConnection, TcpServer


class Behaviour:
    kind: ClassVar[str] = "tcp"
    title: ClassVar[str] = "TCP server"
    server: "TcpServer"

    async def on_start(self) -> None:
        """The server is listening."""

    async def on_stop(self) -> None:
        """The server stopped."""

    async def on_connect(self, conn: "TcpConnection") -> None:
        """A client connected."""

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        """A chunk arrived (as one ``recv`` returned it: TCP keeps no message boundaries)."""

    async def on_eof(self, conn: "TcpConnection") -> None:
        """The client shut down its write side (or closed)."""

    async def on_close(self, conn: "TcpConnection") -> None:
        """The connection is gone."""


class EchoBehaviour(Behaviour):
    kind = "tcp-echo"
    title = "TCP echo"

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        conn.send(data)


def _tcp_factory(behaviour_cls: type[Behaviour]):
    def factory(journal: Journal, host: str = "127.0.0.1", port: int = 0, **options: Any):
        from .tcp import TcpServer

        return TcpServer(journal, behaviour_cls(**options), host=host, port=port)

    return factory


register_server(ServerKind(
    name="tcp-echo",
    title="TCP echo",
    summary="sends every byte it receives back to the sender",
    proto="tcp",
    factory=_tcp_factory(EchoBehaviour),
))
