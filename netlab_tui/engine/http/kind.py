"""The ``http`` server kind (the course's HTTP lab server), registered without importing h11, sqlite3
or the RPC service: ``lab.LabHttpApp`` is imported when a server is created."""

from __future__ import annotations

from netlab_tui.engine.core.catalog import ServerKind, ServerOption, register_server
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import Session


def _factory(journal: Journal, host: str = "127.0.0.1", port: int = 0, db: str | None = None) -> Session:
    from .lab import make_server

    return make_server(journal, host, port, db=db)


register_server(ServerKind(
    name="http",
    title="HTTP lab server",
    summary="HTTP/1.1: echo (/get, /post …), /api/random, users/messages on SQLite, /status, /delay, RPC",
    proto="http",
    factory=_factory,
    options=(ServerOption("db", "SQLite file for users and messages (default: in the user data directory)",
                          metavar="PATH"),),
    default_port=8080,
))
