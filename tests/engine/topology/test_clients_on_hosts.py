"""The HTTP, RPC and SSH clients run on a topology host: from h2, netlab's HTTP client GETs the course's
lab HTTP server running on h1, its RPC client calls the XML-RPC server on h1, and its SSH client runs a
command through the lab SSH server on h1; each server's journal names h2's address as the peer, and the
machine's own namespace never changes."""

import asyncio
import os

import pytest

from netlab_tui.engine.core.place import on_place
from netlab_tui.engine.http.client import HttpClient, HttpRequestSpec
from netlab_tui.engine.http.lab import LabHttpApp
from netlab_tui.engine.http.server import HttpServer
from netlab_tui.engine.rpc.client import RpcClient
from netlab_tui.engine.rpc.server import RpcApp
from netlab_tui.engine.ssh.client import SshSession, SshTarget
from netlab_tui.engine.ssh.server import SshLabServer
from tests.sshd import isolated_home  # noqa: F401 - isolated_home: an autouse fixture

from ._host_state import ROOT_REASON, hosts_toml, running_network

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_REASON)

TWO = hosts_toml("9", 2, "lan")


@pytest.fixture
def network():
    with running_network(TWO, "c") as net:
        yield net


async def test_http_client_on_h2_gets_the_lab_server_on_h1(network, journal, registry, tmp_path):
    with on_place(network.place("h1")):
        server = await registry.start(HttpServer(journal, LabHttpApp(db=str(tmp_path / "lab.db")), "10.213.9.1", 0))
    with on_place(network.place("h2")):
        client = await registry.start(HttpClient(journal))
    result = await client.send(HttpRequestSpec(url=f"http://10.213.9.1:{server.port}/", timeout=5))
    assert result.status == 200 and result.final.raw_sent.startswith(b"GET / HTTP/1.1\r\n")
    assert result.final.local.startswith("10.213.9.2:") and result.final.peer == f"10.213.9.1:{server.port}"
    requests = [e for e in journal if e.source == server.name and e.kind == "request"]
    assert len(requests) == 1 and requests[0].peer == result.final.local and requests[0].host == "h1"
    assert requests[0].payload == result.final.raw_sent
    assert {e.host for e in journal if e.source == client.name} == {"h2"}


async def test_rpc_client_on_h2_calls_the_xmlrpc_server_on_h1(network, journal, registry):
    with on_place(network.place("h1")):
        server = await registry.start(HttpServer(journal, RpcApp(), "10.213.9.1", 0))
    with on_place(network.place("h2")):
        client = await registry.start(RpcClient(journal, f"http://10.213.9.1:{server.port}/RPC2", timeout=5))
    result = await client.call("add", [2, 3])
    assert result.ok and result.value == 5 and result.exchange.local.startswith("10.213.9.2:")
    requests = [e for e in journal if e.source == server.name and e.kind == "request" and e.proto == "http"]
    assert [e.peer for e in requests] == [result.exchange.local] and requests[0].host == "h1"


async def test_ssh_client_on_h2_runs_a_command_through_the_lab_server_on_h1(network, journal, registry, tmp_path):
    with on_place(network.place("h1")):
        server = await registry.start(SshLabServer(journal, "10.213.9.1", 0, password="lab-pw",
                                                   host_key=str(tmp_path / "host_key")))
    target = SshTarget("10.213.9.1", server.port, password="lab-pw", known_hosts=str(tmp_path / "known_hosts"),
                       trust=True, look_for_keys=False, agent=False, timeout=5.0)
    with on_place(network.place("h2")):
        session = await registry.start(SshSession(journal, target, "echo $SSH_CLIENT; ip -o -4 addr show"))
    assert await asyncio.wait_for(session.wait(), 10) == 0
    accepts = [e for e in journal if e.source == server.name and e.kind == "accept"]
    assert len(accepts) == 1 and accepts[0].peer.startswith("10.213.9.2:") and accepts[0].host == "h1"
    connect = next(e for e in journal if e.source == session.name and e.kind == "connect")
    assert connect.local == accepts[0].peer and connect.peer == f"10.213.9.1:{server.port}"
    assert connect.host == "h2"
    out = b"".join(e.payload for e in journal if e.source == session.name and e.kind == "stdout").decode()
    assert out.startswith("10.213.9.2 ")  # SSH_CLIENT: the server saw h2
    assert "10.213.9.1/24" in out and "10.213.9.2/24" not in out  # the command ran on h1
