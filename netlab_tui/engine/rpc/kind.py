"""The ``xmlrpc`` server kind, registered without importing the service and the HTTP server under it:
``server.RpcApp`` is imported when a server is created."""

from __future__ import annotations

from netlab_tui.engine.core.catalog import ServerKind, register_server
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import Session


def _factory(journal: Journal, host: str = "127.0.0.1", port: int = 0) -> Session:
    from .server import make_server

    return make_server(journal, host, port)


register_server(ServerKind(
    name="xmlrpc",
    title="XML-RPC service",
    summary="XML-RPC with introspection (add, sub, double, current_time, weather_forecast); JSON-RPC at /jsonrpc",
    proto="http",
    factory=_factory,
    default_port=8000,
))
