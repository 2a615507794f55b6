"""The ``watch-collector`` server kind, registered without importing watchdog: the collector
(``collector.WatchCollectorBehaviour`` on a TCP server) is imported when one is created."""

from __future__ import annotations

from typing import Any

from netlab_tui.engine.core.catalog import ServerKind, register_server
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import Session

COLLECTOR_NAME = "watch-collector"


def _factory(journal: Journal, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Session:
    from .collector import make_server

    return make_server(journal, host, port, **options)


register_server(ServerKind(
    name=COLLECTOR_NAME,
    title="Watch collector",
    summary="receives directory changes as JSON lines from several `netlab watch --forward` clients",
    proto="tcp",
    factory=_factory,
    default_port=0,
))
