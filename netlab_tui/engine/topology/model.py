"""The topology description: hosts with addresses, segments naming the hosts on one L2 link.

TOML, standalone (``netlab topo up FILE``)::

    [hosts.h1]
    ip = "10.213.7.1/24"
    [hosts.h2]
    ip = "10.213.7.2/24"
    [segments.lan]
    hosts = ["h1", "h2"]

A host on several segments lists one address per segment, in the order it joins them
(``ip = ["10.1.0.1/24", "10.2.0.1/24"]``). Errors are ``TopologyError("file:line: …")``.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from netlab_tui.engine.core.sessions import NetlabError

HOST_NAME = re.compile(r"^[a-z][a-z0-9]{0,7}$")
SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")
MAX_HOSTS = 16
MAX_SEGMENTS = 8


class TopologyError(NetlabError):
    """A topology description that cannot be built, with ``file:line`` when known."""


@dataclass(frozen=True, slots=True)
class Interface:
    segment: str
    address: ipaddress.IPv4Interface | ipaddress.IPv6Interface

    @property
    def ip(self) -> str:
        return str(self.address.ip)


@dataclass(slots=True)
class Host:
    name: str
    interfaces: list[Interface] = field(default_factory=list)

    @property
    def ip(self) -> str:
        """The host's first address (what ``{{ hosts.h1.ip }}`` gives)."""
        return self.interfaces[0].ip if self.interfaces else ""


@dataclass(slots=True)
class Segment:
    name: str
    hosts: list[str]


@dataclass(slots=True)
class Topology:
    hosts: dict[str, Host]
    segments: dict[str, Segment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "hosts": {h.name: {"ip": h.ip, "addresses": [str(i.address) for i in h.interfaces],
                               "segments": [i.segment for i in h.interfaces]} for h in self.hosts.values()},
            "segments": {s.name: list(s.hosts) for s in self.segments.values()},
        }


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 1


def parse_topology(text: str, path: str = "<topology>") -> Topology:
    """Parse a TOML topology; ``TopologyError`` with ``path:line`` for anything wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise TopologyError(f"{path}:{line.group(1) if line else 1}: invalid TOML: {exc}") from None
    return topology_from_dict(data, path, lambda needle: _line_of(text, needle))


def topology_from_dict(data: dict[str, Any], path: str = "<topology>", line_of=lambda needle: 1) -> Topology:
    """Build and check a ``Topology`` from ``{"hosts": {...}, "segments": {...}}``."""

    def fail(needle: str, message: str) -> TopologyError:
        return TopologyError(f"{path}:{line_of(needle)}: {message}")

    unknown = set(data) - {"hosts", "segments", "name"}
    if unknown:
        key = sorted(unknown)[0]
        raise fail(key, f"unknown key {key!r} (expected hosts, segments)")
    hosts_data = data.get("hosts") or {}
    segments_data = data.get("segments") or {}
    if not isinstance(hosts_data, dict) or not hosts_data:
        raise fail("hosts", "a topology needs at least one host ([hosts.h1] with ip = \"10.213.7.1/24\")")
    if len(hosts_data) > MAX_HOSTS:
        raise fail("hosts", f"too many hosts ({len(hosts_data)}; at most {MAX_HOSTS})")
    if not isinstance(segments_data, dict) or len(segments_data) > MAX_SEGMENTS:
        raise fail("segments", f"segments must be a table of at most {MAX_SEGMENTS} segments")
    addresses: dict[str, list] = {}
    for name, spec in hosts_data.items():
        if not HOST_NAME.match(name):
            raise fail(name, f"invalid host name {name!r}: a lowercase letter then up to 7 letters or digits")
        if not isinstance(spec, dict):
            raise fail(name, f"host {name!r} must be a table with ip = \"…/prefix\"")
        extra = set(spec) - {"ip"}
        if extra:
            raise fail(name, f"host {name!r}: unknown key {sorted(extra)[0]!r} (expected ip)")
        raw = spec.get("ip")
        raw_list = raw if isinstance(raw, list) else [raw] if raw is not None else []
        parsed = []
        for value in raw_list:
            try:
                if not isinstance(value, str) or "/" not in value:
                    raise ValueError
                iface = ipaddress.ip_interface(value)
            except ValueError:
                raise fail(str(value) if value is not None else name,
                           f"host {name!r}: invalid address {value!r} (expected e.g. \"10.213.7.1/24\")") from None
            if not iface.ip.is_private or iface.ip.is_loopback or iface.network.prefixlen == iface.max_prefixlen:
                raise fail(str(value), f"host {name!r}: {value} must be a private network address with a prefix "
                                       "shorter than a single host (e.g. 10.213.7.1/24)")
            parsed.append(iface)
        if not parsed:
            raise fail(name, f"host {name!r} has no address (ip = \"10.213.7.1/24\")")
        addresses[name] = parsed
    if not segments_data:
        # One host list and no segment: every host on one link, the common case.
        segments_data = {"lan": {"hosts": list(hosts_data)}}
    hosts = {name: Host(name) for name in hosts_data}
    segments: dict[str, Segment] = {}
    seen_ips: dict[str, str] = {}
    for seg_name, spec in segments_data.items():
        if not SEGMENT_NAME.match(seg_name):
            raise fail(seg_name, f"invalid segment name {seg_name!r}")
        members = spec.get("hosts") if isinstance(spec, dict) else spec
        if not isinstance(members, list) or not members:
            raise fail(seg_name, f"segment {seg_name!r} needs hosts = [\"h1\", \"h2\"]")
        for member in members:
            if member not in hosts:
                raise fail(seg_name, f"segment {seg_name!r} names an unknown host {member!r}")
            host = hosts[member]
            if any(i.segment == seg_name for i in host.interfaces):
                raise fail(seg_name, f"segment {seg_name!r} names {member!r} twice")
            index = len(host.interfaces)
            if index >= len(addresses[member]):
                raise fail(member, f"host {member!r} joins {index + 1} segments but has {len(addresses[member])} "
                                   "address(es): give one per segment, ip = [\"…\", \"…\"]")
            iface = addresses[member][index]
            if str(iface.ip) in seen_ips:
                raise fail(str(iface.ip), f"address {iface.ip} is given to both {seen_ips[str(iface.ip)]!r} "
                                          f"and {member!r}")
            seen_ips[str(iface.ip)] = member
            host.interfaces.append(Interface(seg_name, iface))
        segments[seg_name] = Segment(seg_name, list(members))
    for name, host in hosts.items():
        if not host.interfaces:
            raise fail(name, f"host {name!r} is on no segment")
        if len(host.interfaces) < len(addresses[name]):
            raise fail(name, f"host {name!r} has more addresses than segments")
    return Topology(hosts, segments)


def load_topology(path: str) -> Topology:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise TopologyError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_topology(text, path)
