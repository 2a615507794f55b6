"""The tool panes of the sidebar. A pane module calls ``register_pane`` at import; list it below.

Only tools that work appear: a pane may say it is unavailable (``NetlabPane.available()``), e.g. when
its binary is missing, and the sidebar then leaves it out.
"""

from __future__ import annotations

import importlib

# Pane modules, imported when the app starts. Sidebar order is each pane's ORDER, not this order.
PANE_MODULES: tuple[str, ...] = (
    "netlab_tui.ui.widgets.servers_pane",
    "netlab_tui.ui.widgets.tcp_client_pane",
    "netlab_tui.ui.widgets.udp_client_pane",
    "netlab_tui.ui.widgets.http_client_pane",
    "netlab_tui.ui.widgets.rpc_pane",
    "netlab_tui.ui.widgets.shell_pane",
    "netlab_tui.ui.widgets.ssh_pane",
    "netlab_tui.ui.widgets.scan_pane",
    "netlab_tui.ui.widgets.watch_pane",
    "netlab_tui.ui.widgets.labs_pane",
)

_PANES: dict[str, type] = {}


def register_pane(pane_cls: type) -> type:
    """Class decorator for ``NetlabPane`` subclasses."""
    _PANES[pane_cls.PANE_ID] = pane_cls
    return pane_cls


def pane_classes() -> list[type]:
    for module in PANE_MODULES:
        importlib.import_module(module)
    return sorted((p for p in _PANES.values() if p.available()), key=lambda p: (p.ORDER, p.PANE_ID))
