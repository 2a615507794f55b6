"""A running topology: each host a network namespace with ``lo`` up and one veth per segment, each
segment a bridge in a namespace of its own. ``Network.up()`` builds it, ``down()`` kills the hosts'
processes and removes every namespace (links go with them). ``HostPlace`` is a host as an
``engine.core.place.Place``: sessions started ``on_place(network.place("h1"))`` open their sockets and run
their commands on h1."""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netlab_tui.engine.core.place import HOST_ENV
from netlab_tui.engine.core.sessions import NetlabError

from . import netns, runs
from .model import Topology, TopologyError


def require_privileges() -> None:
    """Namespaces, veths and bridges need CAP_SYS_ADMIN and CAP_NET_ADMIN: a one-line reason otherwise."""
    if os.geteuid() != 0:
        raise NetlabError("multi-host topologies need root (network namespaces and links): run netlab as root, "
                          "e.g. sudo netlab topo up FILE")
    if not os.path.exists("/proc/self/ns/net"):
        raise NetlabError("this kernel has no network namespaces (/proc/self/ns/net is missing)")


@dataclass(slots=True)
class HostPlace:
    """One host of a running topology, as a place sessions can run on."""

    name: str
    path: str  # the namespace, /run/netns/<prefix>-<host>
    ip: str

    def socket(self, family: int, kind: int) -> socket.socket:
        return netns.run_in(self.path, lambda: socket.socket(family, kind))

    def command(self, argv: Sequence[str]) -> list[str]:
        # `env` names the host for a netlab run inside it (its events then carry `host`).
        return ["nsenter", f"--net={self.path}", "--", "env", f"{HOST_ENV}={self.name}", *argv]


class Network:
    """A topology built as namespaces. ``name`` is what ``netlab topo exec NAME HOST`` uses."""

    def __init__(self, topology: Topology, name: str, source: str | None = None) -> None:
        if not runs.RUN_NAME.match(name):
            raise TopologyError(f"invalid topology name {name!r}: lowercase letters, digits, '.', '_' or '-'")
        self.topology = topology
        self.name = name
        self.source = source
        self.prefix = ""
        self.hosts: dict[str, HostPlace] = {}
        self.segment_paths: dict[str, str] = {}
        self.ports: dict[str, dict[str, str]] = {}  # segment → {port ifname in its namespace: host}
        self.running = False

    # -- names ------------------------------------------------------------------------------------
    def host_ifname(self, index: int) -> str:
        return f"{self.prefix}-eth{index}"

    def bridge_ifname(self) -> str:
        return f"{self.prefix}-br"

    def namespaces(self) -> list[str]:
        """Hosts first: their processes are stopped before the segments go."""
        return [h.path for h in self.hosts.values()] + list(self.segment_paths.values())

    def place(self, host: str) -> HostPlace:
        try:
            return self.hosts[host]
        except KeyError:
            raise NetlabError(f"no host {host!r} in topology {self.name} (hosts: {', '.join(self.hosts)})") from None

    # -- lifecycle --------------------------------------------------------------------------------
    def up(self) -> None:
        require_privileges()
        existing = runs.find(self.name)
        if existing is not None:
            if runs.is_live(existing):
                raise NetlabError(f"a topology named {self.name} is already running (pid {existing.get('pid')}); "
                                  "pick another with --name")
            runs.clean()
        taken = {m.group(1) for n in netns.listed() if (m := runs.NAMESPACE.match(n))}
        self.prefix = next(p for p in (f"nl{secrets.token_hex(2)}" for _ in range(100)) if p not in taken)
        self.hosts = {name: HostPlace(name, netns.path_of(f"{self.prefix}-{name}"), host.ip)
                      for name, host in self.topology.hosts.items()}
        self.segment_paths = {name: netns.path_of(f"{self.prefix}-seg-{name}") for name in self.topology.segments}
        # The record comes first: a run killed half-way through is still found by `netlab topo clean`.
        runs.write_record(self.record())
        atexit.register(self.down)  # a crash that ends the interpreter still tears it down
        try:
            self._build()
        except BaseException as exc:
            self.down()
            if isinstance(exc, OSError):
                raise NetlabError(f"cannot build topology {self.name}: {exc.strerror or exc}") from None
            raise
        self.running = True

    def _build(self) -> None:
        from pyroute2 import IPRoute

        for path in self.namespaces():
            netns.create(os.path.basename(path))
        bridge = self.bridge_ifname()

        for path in self.segment_paths.values():
            def add_bridge() -> None:
                with IPRoute() as ipr:
                    ipr.link("add", ifname=bridge, kind="bridge")
                    ipr.link("set", index=ipr.link_lookup(ifname=bridge)[0], state="up")
            netns.run_in(path, add_bridge)

        port_numbers = {name: 0 for name in self.segment_paths}
        for name, host in self.topology.hosts.items():
            for index, iface in enumerate(host.interfaces):
                seg_path = self.segment_paths[iface.segment]
                port = f"{self.prefix}-p{port_numbers[iface.segment]}"
                port_numbers[iface.segment] += 1
                self.ports.setdefault(iface.segment, {})[port] = name
                ifname = self.host_ifname(index)

                def add_veth() -> None:
                    fd = os.open(seg_path, os.O_RDONLY)
                    try:
                        with IPRoute() as ipr:
                            # Both ends are created where they belong: nothing appears in the machine's namespace.
                            ipr.link("add", ifname=ifname, kind="veth", peer={"ifname": port, "net_ns_fd": fd})
                            idx = ipr.link_lookup(ifname=ifname)[0]
                            ipr.addr("add", index=idx, address=str(iface.address.ip),
                                     prefixlen=iface.address.network.prefixlen)
                            ipr.link("set", index=idx, state="up")
                    finally:
                        os.close(fd)

                def attach_port() -> None:
                    with IPRoute() as ipr:
                        idx = ipr.link_lookup(ifname=port)[0]
                        ipr.link("set", index=idx, master=ipr.link_lookup(ifname=bridge)[0], state="up")

                netns.run_in(self.hosts[name].path, add_veth)
                netns.run_in(seg_path, attach_port)

    def down(self) -> None:
        """Kill the hosts' processes, remove every namespace and the run's record. Safe to call twice."""
        if self.prefix:
            runs.tear_down_namespaces([p for p in self.namespaces() if os.path.exists(p)])
            runs.remove_record(self.name)
        atexit.unregister(self.down)
        self.running = False

    def __enter__(self) -> "Network":
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- what the faces show ----------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "pid": os.getpid(),
            "pid_start": runs.process_start(os.getpid()),
            "source": self.source,
            "created": time.time(),
            "namespaces": self.namespaces(),
            "hosts": {name: place.path for name, place in self.hosts.items()},
            "topology": self.topology.to_dict(),
        }

    def describe(self) -> dict[str, Any]:
        """The hosts and their addresses, for ``topo up --json`` and the Hosts view."""
        return {
            "name": self.name,
            "prefix": self.prefix,
            "hosts": [
                {"name": h.name, "namespace": self.hosts[h.name].path,
                 "interfaces": [{"ifname": self.host_ifname(i), "segment": iface.segment,
                                 "address": str(iface.address)} for i, iface in enumerate(h.interfaces)]}
                for h in self.topology.hosts.values()
            ],
            "segments": {s.name: list(s.hosts) for s in self.topology.segments.values()},
        }

    def counters(self) -> dict[tuple[str, str], tuple[int, int]]:
        """Bytes received and sent by each host on each segment: ``{(host, segment): (rx, tx)}``."""
        result = {}
        for name, host in self.topology.hosts.items():
            by_ifname = link_counters(self.hosts[name].path)
            for index, iface in enumerate(host.interfaces):
                result[(name, iface.segment)] = by_ifname.get(self.host_ifname(index), (0, 0))
        return result


def link_counters(path: str) -> dict[str, tuple[int, int]]:
    """``{ifname: (rx_bytes, tx_bytes)}`` of every link in the namespace at ``path`` ({} once it is gone)."""
    from pyroute2 import IPRoute

    def read() -> dict[str, tuple[int, int]]:
        with IPRoute() as ipr:
            out = {}
            for link in ipr.get_links():
                stats = link.get("IFLA_STATS64") or {}
                out[link.get("IFLA_IFNAME")] = (int(stats.get("rx_bytes", 0)), int(stats.get("tx_bytes", 0)))
            return out

    try:
        return netns.run_in(path, read)
    except OSError:
        return {}


@dataclass(frozen=True, slots=True)
class LiveHost:
    """A host of a running topology, as the faces list it (from the run records)."""

    topology: str
    name: str
    path: str
    addresses: tuple[str, ...]
    segments: tuple[str, ...]
    prefix: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.addresses[0].split('/')[0] if self.addresses else '?'}) · {self.topology}"

    def place(self) -> HostPlace:
        return HostPlace(self.name, self.path, self.addresses[0].split("/")[0] if self.addresses else "")

    def interfaces(self) -> list[tuple[str, str, str]]:
        """``(ifname, address, segment)`` of each of its links."""
        return [(f"{self.prefix}-eth{i}", address, segment)
                for i, (address, segment) in enumerate(zip(self.addresses, self.segments))]


def live_hosts() -> list[LiveHost]:
    """Every host of every running topology on this machine: this process's labs, `netlab topo up` …"""
    hosts = []
    for record in runs.read_records():
        if not runs.is_live(record):
            continue
        described = (record.get("topology") or {}).get("hosts") or {}
        for name, path in (record.get("hosts") or {}).items():
            info = described.get(name) or {}
            if isinstance(path, str) and os.path.exists(path):
                hosts.append(LiveHost(record["name"], name, path, tuple(info.get("addresses") or ()),
                                      tuple(info.get("segments") or ()), str(record.get("prefix", ""))))
    return hosts
