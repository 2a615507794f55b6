"""The ``watch-collector`` server kind, registered without importing watchdog: the collector
(``collector.WatchCollectorBehaviour`` on a TCP server) is imported when one is created."""

from __future__ import annotations

from netlab_tui.engine.core.catalog import ServerKind, lazy_factory, register_server

COLLECTOR_NAME = "watch-collector"


register_server(ServerKind(
    name=COLLECTOR_NAME,
    title="Watch collector",
    summary="receives directory changes as JSON lines from several `netlab watch --forward` clients",
    proto="tcp",
    factory=lazy_factory("netlab_tui.engine.watch.collector:make_server"),
    default_port=0,
))
