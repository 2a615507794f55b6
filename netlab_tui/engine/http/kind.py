"""The ``http`` server kind (the course's HTTP lab server), registered without importing h11, sqlite3
or the RPC service: ``lab.LabHttpApp`` is imported when a server is created."""

from __future__ import annotations

from netlab_tui.engine.core.catalog import (
    ServerKind,
    ServerOption,
    lazy_factory,
    register_server,
)

register_server(ServerKind(
    name="http",
    title="HTTP lab server",
    summary="HTTP/1.1: echo (/get, /post …), /api/random, users/messages on SQLite, /status, /delay, RPC",
    proto="http",
    factory=lazy_factory("netlab_tui.engine.http.lab:make_server"),
    options=(ServerOption("db", "SQLite file for users and messages (default: in the user data directory)",
                          metavar="PATH"),),
    default_port=8080,
))
