"""Hosts: the hosts of every running topology (a multi-host lab, ``netlab topo up``) with their
addresses, links and live byte counters."""

from __future__ import annotations


from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from netlab_tui.engine.topology.network import link_counters, live_hosts
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane

COLUMNS = ("host", "address", "received", "sent", "segment", "link", "topology")


def human_bytes(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:,} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


@register_pane
class HostsPane(NetlabPane):
    PANE_ID = "hosts"
    PANE_TITLE = "Hosts"
    ORDER = 110
    HELP = """\
## Hosts
The machines of a **multi-host topology**: each host is a Linux network namespace with its own
interfaces, addresses and routes, joined to the others by a virtual cable (a veth pair) and a
switch (a bridge) per segment. Nothing is added to this machine's own network.

A multi-host lab builds one when it starts; `netlab topo up FILE` builds one from a TOML file.
Each row is one link of a host, with the bytes it **received** and **sent** (live).

Every tool pane shows an **on host** selector while a topology runs: choose a host there, and the
tool's servers, clients and commands run on it — the traffic log's `host` column says where.
In a terminal: `netlab topo exec NAME HOST -- COMMAND`.
"""

    DEFAULT_CSS = """
    HostsPane #hosts-summary { height: auto; margin-bottom: 1; }
    HostsPane DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="hosts-summary")
        table = DataTable(id="hosts-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table

    def on_mount(self) -> None:
        # Live counters once a second, only while the pane is shown and a topology runs.
        self._timer = self.set_interval(1.0, self._tick, pause=True)
        self.refresh_hosts()

    def on_show(self) -> None:
        self._tick()

    def on_hide(self) -> None:
        self._timer.pause()

    def _tick(self) -> None:
        running = self.refresh_hosts()
        if running and self.display:
            self._timer.resume()
        else:
            self._timer.pause()

    def refresh_hosts(self) -> bool:
        """Redraw the hosts and their counters; whether a topology is running."""
        hosts = live_hosts()
        table = self.query_one(DataTable)
        summary = self.query_one("#hosts-summary", Static)
        if not hosts:
            table.clear()
            summary.update("No topology is running. Start a multi-host lab (topic multi-host), or "
                           "`netlab topo up FILE` in a terminal.")
            return False
        topologies = sorted({h.topology for h in hosts})
        segments: dict[tuple[str, str], list[str]] = {}
        for host in hosts:
            for segment in host.segments:
                segments.setdefault((host.topology, segment), []).append(host.name)
        links = "; ".join(f"{seg}: {' — '.join(names)}" for (_, seg), names in sorted(segments.items()))
        summary.update(f"{len(hosts)} hosts in {', '.join(topologies)} · segments {links}")
        rows = []
        for host in hosts:
            counters = link_counters(host.path)
            for ifname, address, segment in host.interfaces():
                rx, tx = counters.get(ifname, (0, 0))
                rows.append((f"{host.topology}/{host.name}/{ifname}",
                             (host.name, address, human_bytes(rx), human_bytes(tx), segment, ifname, host.topology)))
        keys = [key for key, _ in rows]
        if [r.key.value for r in table.ordered_rows] != keys:
            table.clear()
            for key, values in rows:
                table.add_row(*values, key=key)
            return True
        for key, values in rows:
            for column, value in zip(table.ordered_columns, values):
                if table.get_cell(key, column.key) != value:
                    table.update_cell(key, column.key, value)
        return True
