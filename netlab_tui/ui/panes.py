"""The tool panes of the sidebar, in sidebar order.

The table names each pane without importing it: the sidebar is drawn from it, the first pane is built
with the screen, and each other pane (whose module may pull in httpx, paramiko …) is imported and
built the first time it is shown: a netlab whose user opens two tools never pays for eleven. A pane module defines a ``NetlabPane`` subclass decorated with
``register_pane``; add a ``PaneRef`` below to show it. ``tests/ui/test_panes.py`` checks that the
table and the classes agree.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass


def namespaces_allowed() -> bool:
    """Whether this process may create network namespaces (the Hosts tool's topologies)."""
    return os.geteuid() == 0 and os.path.exists("/proc/self/ns/net")


@dataclass(frozen=True)
class PaneRef:
    pane_id: str
    title: str
    module: str
    # Whether the tool works here, asked without importing it (only tools that work are listed).
    available: Callable[[], bool] = lambda: True

    def load(self) -> type:
        """Import the pane's module and return its class."""
        importlib.import_module(self.module)
        return _PANES[self.pane_id]


PANES: tuple[PaneRef, ...] = (
    PaneRef("servers", "Servers", "netlab_tui.ui.widgets.servers_pane"),
    PaneRef("tcp-client", "TCP client", "netlab_tui.ui.widgets.tcp_client_pane"),
    PaneRef("udp-client", "UDP client", "netlab_tui.ui.widgets.udp_client_pane"),
    PaneRef("http-client", "HTTP client", "netlab_tui.ui.widgets.http_client_pane"),
    PaneRef("rpc", "RPC client", "netlab_tui.ui.widgets.rpc_pane"),
    PaneRef("scan", "Port scan", "netlab_tui.ui.widgets.scan_pane"),
    PaneRef("shell", "Shell", "netlab_tui.ui.widgets.shell_pane"),
    PaneRef("watch", "Directory watch", "netlab_tui.ui.widgets.watch_pane"),
    PaneRef("ssh", "SSH", "netlab_tui.ui.widgets.ssh_pane"),
    PaneRef("hosts", "Hosts", "netlab_tui.ui.widgets.hosts_pane", available=namespaces_allowed),
    PaneRef("labs", "Labs", "netlab_tui.ui.widgets.labs_pane"),
)

_PANES: dict[str, type] = {}


def register_pane(pane_cls: type) -> type:
    """Class decorator for ``NetlabPane`` subclasses."""
    _PANES[pane_cls.PANE_ID] = pane_cls
    return pane_cls


def pane_classes() -> list[type]:
    """Every pane class, imported now, in sidebar order."""
    return [ref.load() for ref in PANES]
