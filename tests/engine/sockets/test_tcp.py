"""TCP server and client against real loopback sockets, including clients written as the course does."""

import asyncio
import socket
import time

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import by_kind
from netlab_tui.engine.core.sessions import NetlabError, SessionStatus
from netlab_tui.engine.sockets.behaviours import Behaviour
from netlab_tui.engine.sockets.tcp import TcpClient, TcpServer


async def start_echo(registry, journal, host="127.0.0.1", port=0):
    return await registry.start(server_kinds()["tcp-echo"].create(journal, host=host, port=port))


def course_client(port: int, message: bytes, host: str = "127.0.0.1") -> bytes:
    """What the course writes: connect, send, shut down writing, read until EOF... then close."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    s.sendall(message)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(1024)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


async def test_echo_with_a_plain_socket_client(registry, journal):
    server = await start_echo(registry, journal)
    assert server.port > 0 and server.name == f"tcp-echo@127.0.0.1:{server.port}"
    reply = await asyncio.to_thread(course_client, server.port, b"Hello")
    assert reply == b"Hello"
    await asyncio.sleep(0.05)
    kinds = [e.kind for e in journal.events()]
    assert kinds[0] == "listen"
    assert kinds[1:] == ["accept", "data", "data", "close"]
    data_in, data_out = journal.events(by_kind("data"))
    assert (data_in.direction, data_in.payload) == ("in", b"Hello")
    assert (data_out.direction, data_out.payload) == ("out", b"Hello")
    assert data_in.conn == data_out.conn
    assert data_in.peer.startswith("127.0.0.1:") and data_in.local == server.address


async def test_echo_of_binary_and_large_payloads(registry, journal):
    server = await start_echo(registry, journal)
    payload = bytes(range(256)) * 4000  # ~1 MB, every byte value
    reply = await asyncio.to_thread(course_client, server.port, payload)
    assert reply == payload
    received = b"".join(e.payload for e in journal.events() if e.kind == "data" and e.direction == "in")
    assert received == payload


async def test_ipv6_loopback(registry, journal):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = await start_echo(registry, journal, host="::1")
    except NetlabError as exc:
        pytest.skip(f"IPv6 loopback unavailable: {exc}")
    assert server.address == f"[::1]:{server.port}"
    assert await asyncio.to_thread(course_client, server.port, b"six", "::1") == b"six"


async def test_address_in_use_is_one_clear_error(registry, journal):
    server = await start_echo(registry, journal)
    with pytest.raises(NetlabError, match="address already in use"):
        await start_echo(registry, journal, port=server.port)
    assert server.status == SessionStatus.RUNNING


async def test_all_interfaces_warns(registry, journal):
    server = await start_echo(registry, journal, host="0.0.0.0")
    warnings = [e for e in journal.events() if (e.meta or {}).get("warning") == "all-interfaces"]
    assert warnings and "other machines" in warnings[0].message
    await registry.stop(server)


async def test_client_sends_receives_and_half_closes(registry, journal):
    server = await start_echo(registry, journal)
    client = await registry.start(TcpClient(journal, "127.0.0.1", server.port, bufsize=4))
    chunks = []
    client.on_receive(chunks.append)
    await client.send(b"0123456789")
    await client.shutdown_write()
    await asyncio.wait_for(client.eof.wait(), 5)
    received = [c for c in chunks if c is not None]
    assert b"".join(received) == b"0123456789"
    assert all(len(c) <= 4 for c in received)  # the recv buffer size is honoured
    assert chunks[-1] is None  # EOF signalled
    with pytest.raises(NetlabError):
        await client.send(b"more")


async def test_client_errors_are_one_line(registry, journal):
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    with pytest.raises(NetlabError, match="connection refused"):
        await registry.start(TcpClient(journal, "127.0.0.1", free_port))
    with pytest.raises(NetlabError, match="cannot resolve host"):
        await registry.start(TcpClient(journal, "no-such-host.invalid", 80))
    with pytest.raises(NetlabError, match="invalid port"):
        TcpClient(journal, "127.0.0.1", 70000)


async def test_connect_timeout(registry, journal):
    # A listening socket with a full backlog never completes new handshakes: the connect times out.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(8):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(listener.getsockname())
            fillers.append(f)
        await asyncio.sleep(0.1)
        with pytest.raises(NetlabError, match="timed out"):
            await registry.start(TcpClient(journal, "127.0.0.1", listener.getsockname()[1], connect_timeout=0.5))
    finally:
        for f in fillers:
            f.close()
        listener.close()


async def test_stop_closes_open_connections(registry, journal):
    server = await start_echo(registry, journal)
    client = await registry.start(TcpClient(journal, "127.0.0.1", server.port))
    await client.send(b"hi")
    await asyncio.sleep(0.05)
    await registry.stop(server)
    await asyncio.wait_for(client.eof.wait(), 5)
    assert server.status == SessionStatus.STOPPED
    assert any(e.kind == "close" and (e.meta or {}).get("by") == "server" for e in journal.events())


async def test_many_clients_at_once(registry, journal):
    server = await start_echo(registry, journal)

    async def one(i):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"client {i}".encode())
        await writer.drain()
        writer.write_eof()
        data = await reader.read()
        writer.close()
        return data

    replies = await asyncio.gather(*(one(i) for i in range(100)))
    assert replies == [f"client {i}".encode() for i in range(100)]


async def test_client_bufsize_change_applies_to_the_recv_already_waiting(registry, journal):
    server = await start_echo(registry, journal)
    client = await registry.start(TcpClient(journal, "127.0.0.1", server.port))
    chunks: list[bytes] = []
    client.on_receive(lambda chunk: chunks.append(chunk) if chunk else None)
    await asyncio.sleep(0.05)  # the client is now blocked in recv(4096)
    client.set_bufsize(4)
    await client.send(b"Hello world")
    async with asyncio.timeout(5):
        while b"".join(chunks) != b"Hello world":
            await asyncio.sleep(0.01)
    assert chunks == [b"Hell", b"o wo", b"rld"]
    with pytest.raises(NetlabError, match="recv buffer size must be 1"):
        client.set_bufsize(0)
    await registry.stop(client)
    assert client.status == SessionStatus.STOPPED


async def test_a_client_that_reads_nothing_stops_the_echo_reading_and_loses_nothing(registry, journal):
    """Back-pressure: while the peer reads none of the echo, the server stops reading it (its queue stays
    bounded) instead of buffering without end; once the peer half-closes and reads, every byte comes
    back, in order, and each chunk received was one recv of at most the server's bufsize."""
    server = await start_echo(registry, journal)
    s = socket.create_connection(("127.0.0.1", server.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    block = bytes(range(256)) * 64  # 16 KiB

    def fill() -> bytes:
        """Send until the kernel has refused for half a second: the server has stopped reading."""
        sent = bytearray()
        refused_since = None
        while len(sent) < 256 << 20:  # past this, the server is clearly still reading: the asserts say so
            try:
                n = s.send(block)
                sent += block[:n]
                refused_since = None
            except BlockingIOError:
                refused_since = refused_since or time.monotonic()
                if time.monotonic() - refused_since > 0.5:
                    return bytes(sent)
                time.sleep(0.01)
        return bytes(sent)

    sent = await asyncio.to_thread(fill)
    (conn,) = server.connections.values()
    assert not conn.reading and not conn.transport.is_reading()
    assert conn.transport.get_write_buffer_size() <= 64 * 1024 + server.bufsize
    assert len(sent) > 256 * 1024  # well past what the transport would queue: the kernel buffers are full too

    def drain_all() -> bytes:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # a tiny window would crawl
        s.setblocking(True)
        s.settimeout(10)
        s.shutdown(socket.SHUT_WR)
        received = bytearray()
        while chunk := s.recv(65536):
            received += chunk
        s.close()
        return bytes(received)

    assert await asyncio.to_thread(drain_all) == sent
    await asyncio.sleep(0.05)
    chunks = [e.payload for e in journal.events(by_kind("data")) if e.direction == "in"]
    assert b"".join(chunks) == sent and max(map(len, chunks)) <= server.bufsize
    (close,) = journal.events(by_kind("close"))
    assert close.meta["by"] == "peer" and close.meta["bytes_in"] == close.meta["bytes_out"] == len(sent)


class _Waiting(Behaviour):
    """A behaviour whose hook waits (as the contact book waits on its SQLite thread)."""

    kind = "waiting"

    async def on_data(self, conn, data: bytes) -> None:
        await asyncio.sleep(0.05)
        if data.startswith(b"boom"):
            raise ValueError("boom after a wait")
        conn.send(b"late:" + data)
        if data.startswith(b"hang"):
            await asyncio.sleep(100)


async def test_hooks_that_wait_keep_chunks_in_order_fail_alone_and_do_not_block_a_stop(registry, journal):
    server = await registry.start(TcpServer(journal, _Waiting()))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"a")
    await asyncio.sleep(0.01)  # arrives while the hook for "a" waits: handled after it, not beside it
    writer.write(b"b")
    assert await asyncio.wait_for(reader.readexactly(12), 5) == b"late:alate:b"
    writer.write(b"boom")
    assert await asyncio.wait_for(reader.read(), 5) == b""  # that connection closes, with the reason logged
    (error,) = journal.events(by_kind("error"))
    assert error.message == f"waiting failed on data from {error.peer}: ValueError('boom after a wait')"
    hanging_reader, hanging_writer = await asyncio.open_connection("127.0.0.1", server.port)
    hanging_writer.write(b"hang")
    assert await asyncio.wait_for(hanging_reader.readexactly(9), 5) == b"late:hang"
    await registry.stop(server)  # the hook still waits: cancelled after the grace period
    assert await asyncio.wait_for(hanging_reader.read(), 5) == b""
    closes = [(e.message, e.meta["by"]) for e in journal.events(by_kind("close"))]
    assert closes == [("closed by server", "server"), ("server stopped", "server")]
    assert server.status == SessionStatus.STOPPED and not server.connections
    writer.close()
    hanging_writer.close()
