"""``HostSelect``: the "on host" selector a tool pane includes (one line in its ``compose``) to run its
sessions on a host of a running topology instead of this machine.

It lists the hosts of every running topology (a multi-host lab, ``netlab topo up``) and stays hidden
while there are none. The choice is set as the pane's ``engine.core.place.current_place``: the pane's
handlers and the workers they start run in the pane's own task, so every session the pane creates
from then on opens its sockets and runs its commands on that host, and its events carry ``host``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Select

from netlab_tui.engine.core.place import Place, current_place
from netlab_tui.engine.topology import runs

from .base import NetlabPane

if TYPE_CHECKING:
    from netlab_tui.engine.topology.network import LiveHost

THIS_MACHINE = "this machine"


class HostSelect(Horizontal):
    DEFAULT_CSS = """
    HostSelect { height: 1; display: none; }
    HostSelect.-live { display: block; }
    HostSelect > Label { width: auto; padding-right: 1; }
    HostSelect > Select { width: 1fr; max-width: 50; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hosts: dict[str, LiveHost] = {}
        self.place: Place | None = None
        self._stamp: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Label("on host")
        yield Select[str]([], prompt=THIS_MACHINE, allow_blank=True, compact=True, disabled=True,
                          tooltip="run this tool's sessions on a host of a running topology")

    def on_mount(self) -> None:
        # Topologies come and go from other processes too (`netlab topo up`): a stat every 2 s while one
        # runs; with none, an idle netlab sleeps and the list is read again when the pane is shown
        # (NetlabApp.show_pane) or a lab prefills a host (choose).
        self._timer = self.set_interval(2.0, self.refresh_hosts, pause=True)
        self.refresh_hosts()

    def refresh_hosts(self, force: bool = False) -> None:
        try:
            st = os.stat(runs.RUN_DIR)
            stamp = (st.st_mtime_ns, st.st_ino)
        except OSError:
            stamp = None
        if stamp == self._stamp and not force:
            return
        self._stamp = stamp
        hosts: dict[str, LiveHost] = {}
        if stamp is not None:  # no run directory, no topology (and the topology code is not imported)
            from netlab_tui.engine.topology.network import live_hosts

            hosts = {f"{h.topology}/{h.name}": h for h in live_hosts()}
        timer = getattr(self, "_timer", None)
        if timer is not None:
            timer.resume() if hosts else timer.pause()
        if hosts.keys() == self.hosts.keys() and not force:
            return
        self.hosts = hosts
        select = self.query_one(Select)
        chosen = select.value if isinstance(select.value, str) else None
        select.set_options([(h.label, key) for key, h in hosts.items()])
        if chosen in hosts:
            select.value = chosen
        elif chosen is not None or self.place is not None:
            self._apply(None)  # the topology it ran on is gone: back to this machine
        self.set_class(bool(hosts), "-live")
        select.disabled = not hosts  # hidden: never where the focus lands

    def choose(self, host: str | None) -> None:
        """Select a host by name (``h2``) or ``topology/h2``; None for this machine (labs prefill this)."""
        if host is None:
            self.query_one(Select).clear()
            return
        self.refresh_hosts(force=True)
        key = host if host in self.hosts else next((k for k, h in self.hosts.items() if h.name == host), None)
        if key is not None:
            self.query_one(Select).value = key

    @on(Select.Changed)
    def _changed(self, event: Select.Changed) -> None:
        event.stop()
        host = self.hosts.get(event.value) if isinstance(event.value, str) else None
        self._apply(host.place() if host is not None else None)

    def _apply(self, place: Place | None) -> None:
        self.place = place
        pane = next((a for a in self.ancestors if isinstance(a, NetlabPane)), None)
        if pane is not None:
            # Set in the pane's own task: its handlers, and the workers they start, see it.
            pane.call_later(current_place.set, place)


def choose_host(pane: NetlabPane | None, host: str | None) -> None:
    """Set ``pane``'s "on host" selector (a lab action's ``on = "h2"``); None: this machine."""
    for selector in pane.query(HostSelect) if pane is not None else ():
        selector.choose(host)
