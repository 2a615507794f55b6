"""Conversations, follow-stream and the flow graph, from real loopback traffic and from a capture."""

import asyncio

import pytest

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.inspect import capture
from netlab_tui.engine.inspect.conversations import (
    ConversationTable,
    conversations,
    flag_text,
    flow_graph,
    follow_stream,
    render_stream,
)
from netlab_tui.engine.sockets.behaviours import EchoBehaviour
from netlab_tui.engine.sockets.tcp import TcpClient, TcpServer


async def echo_exchange(journal, registry, messages=(b"Hello\n", b"bye\r\n")):
    server = await registry.start(TcpServer(journal, EchoBehaviour(), port=0))
    client = await registry.start(TcpClient(journal, "127.0.0.1", server.port))
    for message in messages:
        received = asyncio.Event()
        remove = client.on_receive(lambda chunk: received.set())
        await client.send(message)
        await asyncio.wait_for(received.wait(), 5)
        remove()
    await registry.stop(client)
    for _ in range(100):  # the server sees the FIN a moment later
        if any(e.kind == "close" and e.source == server.name for e in journal.events()):
            break
        await asyncio.sleep(0.02)
    return server, client


async def test_both_ends_of_one_loopback_connection_are_one_conversation(journal, registry):
    server, client = await echo_exchange(journal, registry)
    accepted = next(e.conn for e in journal.events() if e.kind == "accept")
    rows = conversations(journal.events())
    assert len(rows) == 1  # netlab's client and netlab's server hold the two ends of one connection
    row = rows[0]
    assert row.conn == client.conn and set(row.conns) == {client.conn, accepted}
    assert row.initiator == "local" and row.client == client.local and row.server == client.peer
    # each byte once: 11 bytes each way (not 22), events from both ends
    assert (row.bytes_in, row.bytes_out, row.events_in, row.events_out) == (11, 11, 2, 2)
    assert row.events == sum(1 for e in journal.events() if e.conn in (client.conn, accepted))
    assert row.state == "closed" and row.closed_by == "netlab"
    assert row.duration > 0
    assert row.endpoints == f"{client.local} → {client.peer}"
    assert row.filter == f"conn {client.conn},{accepted}" or row.filter == f"conn {accepted},{client.conn}"


async def test_a_connection_netlab_only_serves_is_seen_from_the_server(journal, registry):
    server = await registry.start(TcpServer(journal, EchoBehaviour(), port=0))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)  # a client that is not netlab
    writer.write(b"Hello\n")
    assert await asyncio.wait_for(reader.readline(), 5) == b"Hello\n"
    local = "%s:%d" % writer.get_extra_info("sockname")[:2]
    writer.close()
    await writer.wait_closed()
    for _ in range(100):
        if any(e.kind == "close" for e in journal.events()):
            break
        await asyncio.sleep(0.02)
    (row,) = conversations(journal.events())
    assert row.initiator == "peer" and row.client == local and row.server == server.address
    assert (row.bytes_in, row.bytes_out, row.events_in, row.events_out) == (6, 6, 1, 1)
    assert row.closed_by == "peer"
    hexed = render_stream(follow_stream(journal.events(), row.conn), "hex").plain().splitlines()
    assert hexed[1].startswith("00000000  48 65")  # the client's bytes at the margin
    assert hexed[2].startswith("    00000000  48 65")  # the server's (netlab's echo) indented, like Wireshark


async def test_follow_stream_orders_both_directions_and_keeps_seqs(journal, registry):
    server, client = await echo_exchange(journal, registry)
    stream = follow_stream(journal.events(), client.conn)
    assert [(c.direction, c.data) for c in stream.chunks] == [
        ("out", b"Hello\n"), ("in", b"Hello\n"), ("out", b"bye\r\n"), ("in", b"bye\r\n")]
    assert stream.data("out") == b"Hello\nbye\r\n"
    text = render_stream(stream, "text")
    assert text.plain().splitlines()[1:] == ["Hello", "Hello", "bye", "bye"]
    assert [line[0][1] for line in text.lines[1:]] == ["out", "in", "out", "in"]
    data_seqs = [e.seq for e in journal.events() if e.conn == client.conn and e.kind == "data"]
    assert text.seqs[1:] == data_seqs  # every line jumps to its event
    hexed = render_stream(stream, "hex").plain().splitlines()
    assert hexed[1].startswith("00000000  48 65 6c 6c 6f 0a")
    assert hexed[2].startswith("    00000000  48 65")  # the other direction indented, like Wireshark
    assert hexed[3].startswith("00000006  62 79 65 0d 0a")  # offsets run on per direction
    raw = render_stream(stream, "raw").plain().splitlines()
    assert raw[1:] == ["48656c6c6f0a", "48656c6c6f0a", "6279650d0a", "6279650d0a"]


async def test_flow_graph_ladder_from_the_journal(journal, registry):
    server, client = await echo_exchange(journal, registry, (b"Hello\n",))
    accepted = next(e.conn for e in journal.events() if e.kind == "accept")
    view = flow_graph(journal.events(), accepted, width=90)
    lines = view.plain().splitlines()
    assert f"{client.local} (client)" in lines[0] and f"{server.address} (server, netlab)" in lines[0]
    body = [line for line in lines if "►" in line or "◄" in line]
    assert "connect" in body[0] and body[0].rstrip().endswith("►│")
    assert 'data 6 B "Hello␊"' in body[1] and "►" in body[1]
    assert 'data 6 B "Hello␊"' in body[2] and body[2][11:13] == "│◄"
    assert "close" in body[3] and "►" in body[3]  # the client (left) closed
    assert all(len(line) <= 90 for line in lines)
    assert len(view.seqs) == len(view.lines)


async def test_flow_graph_of_a_capture_shows_the_handshake_and_fins(journal, registry, tmp_path):
    await echo_exchange(journal, registry, (b"Hello\n",))
    path = tmp_path / "x.pcap"
    capture.write_pcap(journal.events(), path)
    events = capture.read_pcap(path)
    plain = flow_graph(events, "tcp-1").plain()
    order = ["SYN seq=0 ─", "SYN, ACK seq=0 ack=1", "ACK seq=1 ack=1", "PSH, ACK seq=1 ack=1 len=6 Hello␊",
             "FIN, ACK"]
    positions = [plain.index(label) for label in order]
    assert positions == sorted(positions)
    assert plain.count("FIN, ACK") == 2


def test_incremental_table_links_http_exchanges_to_their_connection():
    table = ConversationTable()
    common = dict(source="http@127.0.0.1:8080", proto="http", local="127.0.0.1:8080", peer="127.0.0.1:5000")
    events = [
        TrafficEvent(kind="accept", conn="tcp-1", **common),
        TrafficEvent(kind="request", direction="in", conn="http-2", payload=b"GET / HTTP/1.1\r\n\r\n",
                     meta={"method": "GET", "tcp": "tcp-1"}, **common),
        TrafficEvent(kind="response", direction="out", conn="http-2", payload=b"HTTP/1.1 200 OK\r\n\r\n",
                     meta={"status": 200, "tcp": "tcp-1"}, **common),
    ]
    for seq, event in enumerate(events, 1):
        event.seq = seq
        table.add(event)
    tcp, exchange = table.get("tcp-1"), table.get("http-2")
    assert exchange.state == "answered 200" and exchange.parent == "tcp-1"
    assert tcp.children == ["http-2"]
    assert (tcp.bytes_in, tcp.bytes_out) == (18, 19)
    assert tcp.state == "open"
    stream = follow_stream(events, "tcp-1")  # following the connection shows the exchanges it carried
    assert [(c.seq, c.direction) for c in stream.chunks] == [(2, "in"), (3, "out")]


def test_flag_names_follow_wireshark_order():
    assert flag_text("SA") == "SYN, ACK"
    assert flag_text("FPA") == "FIN, PSH, ACK"
    assert flag_text("RA") == "RST, ACK"


def test_render_stream_rejects_unknown_modes():
    with pytest.raises(ValueError):
        render_stream(follow_stream([], "tcp-1"), "ebcdic")
