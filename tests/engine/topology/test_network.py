"""Mininet-style checks on real namespaces: every pair connects, hosts are isolated, a server on h1 sees
h2 and h3 by their own addresses, the machine's own namespace never changes, nothing is left behind."""

import asyncio
import itertools
import os
import socket
import subprocess
import time

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.place import on_place
from netlab_tui.engine.shell.process import ProcessSession
from netlab_tui.engine.sockets.tcp import TcpClient
from netlab_tui.engine.sockets.udp import UdpClient
from netlab_tui.engine.topology import netns, runs
from netlab_tui.engine.topology.model import parse_topology
from netlab_tui.engine.topology.network import Network

from ._host_state import ROOT_REASON, alive, hosts_toml, leftovers, machine_state, running_network

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_REASON)

THREE = hosts_toml("7", 3, "lan")


@pytest.fixture
def network():
    with running_network(THREE, "t") as net:
        yield net


def run_on(net: Network, host: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(net.place(host).command(argv), capture_output=True, text=True, timeout=10)


def test_every_pair_of_hosts_connects(network):
    ips = {name: host.ip for name, host in network.hosts.items()}
    listeners = {}
    for name, place in network.hosts.items():
        server = place.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind((ips[name], 0))
        server.listen()
        listeners[name] = server
    try:
        for a, b in itertools.permutations(network.hosts, 2):
            client = network.place(a).socket(socket.AF_INET, socket.SOCK_STREAM)
            client.settimeout(3)
            client.connect(listeners[b].getsockname())
            conn, peer = listeners[b].accept()
            assert peer[0] == ips[a], f"{a} → {b} arrived from {peer[0]}"
            client.sendall(b"ping")
            assert conn.recv(4) == b"ping"
            conn.close()
            client.close()
    finally:
        for server in listeners.values():
            server.close()


def test_a_host_sees_only_its_own_interfaces(network):
    for name in network.hosts:
        links = run_on(network, name, "ip", "-o", "link").stdout
        names = sorted(line.split(":")[1].strip().split("@")[0] for line in links.splitlines())
        assert names == ["lo", f"{network.prefix}-eth0"]
        addrs = run_on(network, name, "ip", "-o", "-4", "addr").stdout
        assert network.hosts[name].ip in addrs
        assert all(network.hosts[o].ip not in addrs for o in network.hosts if o != name)
    # And the machine sees none of them: the loopback address of a host is not ours either.
    assert all(n.startswith(network.prefix) for n in netns.listed() if n.startswith(network.prefix))
    assert network.prefix not in machine_state()["link"]


def test_the_machine_is_unchanged_while_a_topology_runs():
    before = machine_state()
    with Network(parse_topology(THREE), f"u-{os.getpid()}") as net:
        assert machine_state() == before
        assert run_on(net, "h2", "ip", "-o", "-4", "addr").stdout.count("inet ") == 2  # lo and eth0
    assert machine_state() == before


async def test_a_server_on_h1_sees_h2_and_h3_with_their_addresses(network, journal, registry):
    with on_place(network.place("h1")):
        server = await registry.start(server_kinds()["tcp-echo"].create(journal, host="10.213.7.1", port=0))
    assert server.place.name == "h1"
    for name in ("h2", "h3"):
        with on_place(network.place(name)):
            client = await registry.start(TcpClient(journal, "10.213.7.1", server.port))
        await client.send(f"hello from {name}\n".encode())
        for _ in range(100):
            if any(e.kind == "data" and e.direction == "in" and e.source == client.name for e in journal):
                break
            await asyncio.sleep(0.02)
        await client.stop()
    accepts = [e for e in journal if e.kind == "accept" and e.source == server.name]
    assert sorted(e.peer.split(":")[0] for e in accepts) == ["10.213.7.2", "10.213.7.3"]
    assert {e.host for e in journal if e.source == server.name} == {"h1"}
    echoed = [e for e in journal if e.kind == "data" and e.direction == "in" and e.host in ("h2", "h3")]
    assert sorted(e.host for e in echoed) == ["h2", "h3"]
    assert all(e.to_dict()["host"] in ("h1", "h2", "h3") for e in journal)
    # The server's socket lives on h1: the machine's own namespace has no socket bound to 10.213.7.1.
    assert "10.213.7.1" not in subprocess.run(["ss", "-Htln"], capture_output=True, text=True).stdout


async def test_udp_and_processes_run_on_their_host(network, journal, registry):
    with on_place(network.place("h1")):
        echo = await registry.start(server_kinds()["udp-echo"].create(journal, host="10.213.7.1", port=0))
    with on_place(network.place("h3")):
        client = await registry.start(UdpClient(journal, "10.213.7.1", echo.port))
        proc = await registry.start(ProcessSession(journal, ["ip", "-o", "-4", "addr"]))
    assert client.local.startswith("10.213.7.3:")
    client.send(b"dgram")
    for _ in range(100):
        if any(e.source == echo.name and e.kind == "data" and e.direction == "in" for e in journal):
            break
        await asyncio.sleep(0.02)
    arrived = [e for e in journal if e.source == echo.name and e.kind == "data" and e.direction == "in"]
    assert arrived and arrived[0].peer.startswith("10.213.7.3:") and arrived[0].host == "h1"
    assert await proc.wait() == 0
    out = b"".join(e.payload for e in journal if e.source == proc.name and e.kind == "stdout")
    assert b"10.213.7.3/24" in out and b"10.213.7.1" not in out
    assert {e.host for e in journal if e.source == proc.name} == {"h3"}


def test_ten_builds_and_teardowns_leave_nothing_behind():
    before = machine_state()
    topology = parse_topology(THREE)
    for round_ in range(10):
        net = Network(topology, f"r{round_}-{os.getpid()}")
        net.up()
        # A process left running on a host is killed by the teardown, with its whole group.
        sleeper = subprocess.Popen(net.place("h2").command(["sh", "-c", "sleep 60 & sleep 60"]),
                                   start_new_session=True)
        _wait_for(lambda: len(netns.pids_in(net.place("h2").path)) >= 3)  # sh and its two sleeps
        on_host = netns.pids_in(net.place("h2").path)
        net.down()
        sleeper.wait(timeout=5)
        assert leftovers(net.prefix) == []
        assert runs.find(net.name) is None
        assert not any(alive(pid) for pid in on_host)
    assert machine_state() == before


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_counters_count_the_bytes_crossing_a_link(network):
    before = network.counters()
    result = run_on(network, "h2", "python3", "-c",
                    "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                    "[s.sendto(b'x' * 1000, ('10.213.7.1', 9)) for _ in range(20)]")
    assert result.returncode == 0, result.stderr
    after = network.counters()
    assert after[("h2", "lan")][1] - before[("h2", "lan")][1] >= 20_000  # sent by h2
    assert after[("h1", "lan")][0] - before[("h1", "lan")][0] >= 20_000  # received by h1
