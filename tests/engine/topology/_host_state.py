"""What the machine's own network namespace looks like, to prove a topology never touches it; and what a
topology could leave behind (namespaces, records, processes)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

from netlab_tui.engine.topology import netns, runs
from netlab_tui.engine.topology.model import parse_topology
from netlab_tui.engine.topology.network import Network

ROOT_REASON = "network namespaces need root (CI runs as root)"


def machine_state() -> dict[str, str]:
    """Addresses, routes (v4 and v6) and links of this machine's namespace, without counters."""
    def ip(*args: str) -> str:
        return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout

    return {"addr": ip("-o", "addr"), "route": ip("route", "show", "table", "all"),
            "route6": ip("-6", "route", "show", "table", "all"), "link": ip("-o", "link")}


def leftovers(prefix: str | None = None) -> list[str]:
    """Namespaces and records carrying a run prefix (``prefix`` alone when given)."""
    found = [n for n in netns.listed() if (m := runs.NAMESPACE.match(n)) and (prefix is None or m.group(1) == prefix)]
    found += [r["name"] for r in runs.read_records() if prefix is None or r.get("prefix") == prefix]
    return found


def alive(pid: int) -> bool:
    return runs.process_start(pid) is not None and os.path.exists(f"/proc/{pid}")


def hosts_toml(subnet: str, count: int = 2, segment: str | None = None) -> str:
    """A topology of ``count`` hosts h1… at ``10.213.<subnet>.N/24`` (one subnet per test file, so parallel
    runs never share addresses), joined on one segment when ``segment`` is given."""
    text = "".join(f'[hosts.h{n}]\nip = "10.213.{subnet}.{n}/24"\n' for n in range(1, count + 1))
    if segment:
        names = ", ".join(f'"h{n}"' for n in range(1, count + 1))
        text += f"[segments.{segment}]\nhosts = [{names}]\n"
    return text


@contextlib.contextmanager
def running_network(text: str, label: str) -> Iterator[Network]:
    """A topology built from ``text`` for one test, torn down after it; proves nothing is left behind and
    the machine's own namespace is as it was."""
    before = machine_state()
    net = Network(parse_topology(text), f"{label}-{os.getpid()}")
    net.up()
    try:
        yield net
    finally:
        net.down()
    assert leftovers(net.prefix) == []
    assert machine_state() == before
