"""The ``xmlrpc`` server kind, registered without importing the service and the HTTP server under it:
``server.RpcApp`` is imported when a server is created."""

from __future__ import annotations

from netlab_tui.engine.core.catalog import ServerKind, lazy_factory, register_server

register_server(ServerKind(
    name="xmlrpc",
    title="XML-RPC service",
    summary="XML-RPC with introspection (add, sub, double, current_time, weather_forecast); JSON-RPC at /jsonrpc",
    proto="http",
    factory=lazy_factory("netlab_tui.engine.rpc.server:make_server"),
    default_port=8000,
))
