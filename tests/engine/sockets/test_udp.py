"""UDP servers and client against real loopback sockets; peers written as the course writes them."""

import asyncio
import os
import socket

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import by_kind
from netlab_tui.engine.core.sessions import NetlabError, SessionStatus
from netlab_tui.engine.sockets.udp import MAX_DATAGRAM, UdpClient


async def start(registry, journal, kind, host="127.0.0.1", port=0):
    return await registry.start(server_kinds()[kind].create(journal, host=host, port=port))


def course_udp_client(port, message, host="127.0.0.1"):
    """socket(AF_INET, SOCK_DGRAM), sendto, recvfrom — with a timeout so a lost reply cannot hang."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(message, (host, port))
    data, addr = s.recvfrom(65535)
    s.close()
    return data, addr


async def test_udp_echo_replies_recu_to_the_sender(registry, journal):
    server = await start(registry, journal, "udp-echo")
    assert server.name == f"udp-echo@127.0.0.1:{server.port}"
    data, addr = await asyncio.to_thread(course_udp_client, server.port, b"Bonjour")
    assert data == b"Recu: Bonjour"
    assert addr[1] == server.port
    kinds = [e.kind for e in journal.events()]
    assert kinds == ["listen", "data", "data"]
    data_in, data_out = journal.events(by_kind("data"))
    assert (data_in.proto, data_in.direction, data_in.payload) == ("udp", "in", b"Bonjour")
    assert (data_out.direction, data_out.payload) == ("out", b"Recu: Bonjour")
    assert data_in.conn == data_out.conn and data_in.conn.startswith("udp-")
    assert data_in.peer == data_out.peer


async def test_udp_echo_keeps_one_conversation_per_peer(registry, journal):
    server = await start(registry, journal, "udp-echo")

    def two_peers():
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (a, b):
            s.settimeout(5)
        for msg in (b"a1", b"a2"):
            a.sendto(msg, ("127.0.0.1", server.port))
            a.recvfrom(100)
        b.sendto(b"b1", ("127.0.0.1", server.port))
        b.recvfrom(100)
        a.close(), b.close()

    await asyncio.to_thread(two_peers)
    ins = [e for e in journal.events(by_kind("data")) if e.direction == "in"]
    assert [e.payload for e in ins] == [b"a1", b"a2", b"b1"]
    assert ins[0].conn == ins[1].conn != ins[2].conn
    assert len(server.peers) == 2


async def test_udp_echo_of_binary_and_a_maximal_datagram(registry, journal):
    server = await start(registry, journal, "udp-echo")
    blob = os.urandom(MAX_DATAGRAM - len(b"Recu: "))
    data, _ = await asyncio.to_thread(course_udp_client, server.port, blob)
    assert data == b"Recu: " + blob
    empty, _ = await asyncio.to_thread(course_udp_client, server.port, b"")
    assert empty == b"Recu: "


async def test_udp_sink_logs_many_peers_and_stops_on_fin(registry, journal):
    server = await start(registry, journal, "udp-sink")

    def peers():
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(5)]
        for i, s in enumerate(socks):
            s.sendto(f"mesure {i}".encode(), ("127.0.0.1", server.port))
        socks[0].sendto(b"FIN", ("127.0.0.1", server.port))
        for s in socks:
            s.close()

    await asyncio.to_thread(peers)
    async with asyncio.timeout(5):
        await server.wait_closed()
    assert server.status == SessionStatus.STOPPED and server.error is None
    received = [e.payload for e in journal.events(by_kind("data"))]
    assert sorted(received[:-1]) == [f"mesure {i}".encode() for i in range(5)] and received[-1] == b"FIN"
    assert all(e.direction == "in" for e in journal.events(by_kind("data")))  # a sink never answers
    assert len({e.conn for e in journal.events(by_kind("data"))}) == 5
    assert any("FIN received" in (e.message or "") for e in journal.events(by_kind("info")))


async def test_udp_sink_survives_random_datagrams(registry, journal):
    server = await start(registry, journal, "udp-sink")

    def noise():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for size in (0, 1, 3, 512, 9000, MAX_DATAGRAM):
            s.sendto(os.urandom(size).replace(b"FIN", b"fin"), ("127.0.0.1", server.port))
        s.close()

    await asyncio.to_thread(noise)
    async with asyncio.timeout(5):
        while server.datagrams < 6:
            await asyncio.sleep(0.01)
    assert server.status == SessionStatus.RUNNING


async def test_udp_client_request_reply_and_timeout(registry, journal):
    server = await start(registry, journal, "udp-echo")
    client = await registry.start(UdpClient(journal, "127.0.0.1", server.port, timeout=2))
    assert await client.request(b"hello") == b"Recu: hello"
    client_events = [e for e in journal.events(by_kind("data")) if e.source == client.name]
    assert [(e.direction, e.payload) for e in client_events] == [("out", b"hello"), ("in", b"Recu: hello")]

    sink = await start(registry, journal, "udp-sink")
    quiet = await registry.start(UdpClient(journal, "127.0.0.1", sink.port, timeout=0.2))
    assert await quiet.request(b"anyone?") is None
    assert any("no reply" in (e.message or "") for e in journal.events(by_kind("info")))


async def test_udp_client_sees_port_unreachable(registry, journal):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # now nothing listens there
    client = await registry.start(UdpClient(journal, "127.0.0.1", port, timeout=2))
    with pytest.raises(NetlabError, match="port unreachable"):
        await client.request(b"hello?")


async def test_udp_client_refuses_oversized_datagrams(registry, journal):
    server = await start(registry, journal, "udp-echo")
    client = await registry.start(UdpClient(journal, "127.0.0.1", server.port))
    with pytest.raises(NetlabError, match="datagram too large"):
        client.send(b"x" * (MAX_DATAGRAM + 1))


async def test_udp_on_ipv6(registry, journal):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    server = await start(registry, journal, "udp-echo", host="::1")
    assert server.address == f"[::1]:{server.port}"
    data, _ = await asyncio.to_thread(course_udp_client, server.port, b"six", "::1")
    assert data == b"Recu: six"
    client = await registry.start(UdpClient(journal, "::1", server.port))
    assert await client.request(b"v6") == b"Recu: v6"
    assert client.peer == f"[::1]:{server.port}"


async def test_udp_bind_errors_and_all_interfaces_warning(registry, journal):
    server = await start(registry, journal, "udp-echo")
    with pytest.raises(NetlabError, match="address already in use"):
        await start(registry, journal, "udp-echo", port=server.port)
    wide = await start(registry, journal, "udp-sink", host="0.0.0.0")
    warnings = [e for e in journal.events(by_kind("info")) if (e.meta or {}).get("warning") == "all-interfaces"]
    assert [w.local for w in warnings] == [wide.address]
    with pytest.raises(NetlabError, match="cannot resolve host"):
        await start(registry, journal, "udp-echo", host="no-such-host.invalid")


async def test_many_peers_at_once_are_all_answered(registry, journal):
    server = await start(registry, journal, "udp-echo")
    replies = await asyncio.gather(*(asyncio.to_thread(course_udp_client, server.port, b"n%d" % i)
                                     for i in range(50)))
    assert sorted(data for data, _ in replies) == sorted(b"Recu: n%d" % i for i in range(50))
