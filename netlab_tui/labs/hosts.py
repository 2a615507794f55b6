"""A multi-host lab's topology while it runs: built from its ``lab:host`` / ``lab:segment`` blocks when the
lab starts, torn down when it stops; its hosts are the places servers (``host = "h1"``), scripts and
actions (``on = "h2"``) run on, and ``{{ hosts.h1.ip }}`` names their addresses."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
from typing import Any

from netlab_tui.engine.core.place import Place
from netlab_tui.engine.topology.model import topology_from_dict
from netlab_tui.engine.topology.network import Network

from .model import Lab


class LabHosts:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.network: Network | None = None
        self._previous_sigterm = None

    @property
    def wanted(self) -> bool:
        return bool(self.lab.hosts)

    async def up(self) -> dict[str, Any]:
        """Build the topology; the variables it defines (``hosts.h1.ip`` …) and their environment names."""
        data = {"hosts": {h.name: {"ip": h.ip if len(h.ip) > 1 else h.ip[0]} for h in self.lab.hosts},
                "segments": {s.name: {"hosts": s.hosts} for s in self.lab.segments}}
        topology = topology_from_dict(data, str(self.lab.path))
        name = f"lab-{self.lab.id[:20]}-{os.getpid()}"
        self.network = Network(topology, name, source=str(self.lab.path))
        self._catch_sigterm()
        await asyncio.to_thread(self.network.up)
        variables: dict[str, Any] = {}
        for host in topology.hosts.values():
            variables[f"hosts.{host.name}.ip"] = host.ip
            variables[f"hosts.{host.name}.name"] = host.name
            for interface in host.interfaces:  # {{ hosts.h1.back.ip }}: its address on segment "back"
                variables[f"hosts.{host.name}.{interface.segment}.ip"] = interface.ip
        return variables

    def environment(self) -> dict[str, str]:
        if self.network is None:
            return {}
        env = {"NETLAB_TOPO": self.network.name}
        for name, place in self.network.hosts.items():
            env["NETLAB_HOST_" + re.sub(r"\W", "_", name).upper() + "_IP"] = place.ip
        return env

    def place(self, name: str | None) -> Place | None:
        if name is None or self.network is None:
            return None
        return self.network.place(name)

    async def down(self) -> None:
        if self.network is not None:
            network, self.network = self.network, None
            await asyncio.to_thread(network.down)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    def _catch_sigterm(self) -> None:
        """SIGTERM, when nothing else handles it, ends the program like Ctrl+C: the ``finally`` blocks
        that stop the lab run, and the hosts are torn down instead of left behind."""
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
