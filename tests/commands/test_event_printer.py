"""The event printer of ``netlab serve``: batched (one write per loop turn, at most one per interval in a
flood), in order, nothing lost; its JSON is the contract's, byte for byte (issue 14, finding 4)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json
import re
import socket
import subprocess

import pytest

from netlab_tui.commands._common import EventPrinter, event_json, event_lines, format_event_line, json_lines
from netlab_tui.engine.core.events import HostEvent, TrafficEvent
from netlab_tui.engine.core.journal import Journal
from tests.conftest import netlab_cmd, reap


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1


def data_event(i: int) -> TrafficEvent:
    return TrafficEvent("tcp-echo@127.0.0.1:1", "tcp", "data", "in", "127.0.0.1:1", "127.0.0.1:2", "tcp-1",
                        f"message {i}".encode())


def test_event_json_is_the_contracts_json_byte_for_byte():
    events = [
        data_event(1),
        TrafficEvent("s", "tcp", "data", "out", None, "[::1]:2", "tcp-2", '\x00"\\\n\u2028é'.encode() + b"\xff"),
        TrafficEvent("s\u2028", "tcp", "info", message='say "hi"\t', meta={"a": 1, "b": [1.5, None], "c": object()}),
        TrafficEvent("s", "tcp", "listen", ts=1),
    ]
    for event in events:
        assert event_json(event) == event.to_json()


def every_shape() -> list[TrafficEvent]:
    """Events of every shape the printers take apart: the flood's (printable data without meta) and the rest."""
    echoed, echoed_binary = b"hello ", b"\x01\x02"  # an echo's in and out events hold the same bytes object
    return [
        TrafficEvent("s", "tcp", "data", "in", "127.0.0.1:1", "127.0.0.1:2", "tcp-1", echoed),
        TrafficEvent("s", "tcp", "data", "out", "127.0.0.1:1", "127.0.0.1:2", "tcp-1", echoed),
        TrafficEvent("s", "tcp", "data", "in", "127.0.0.1:1", "127.0.0.1:2", "tcp-1", echoed_binary),
        TrafficEvent("s", "tcp", "data", "out", "127.0.0.1:1", "127.0.0.1:2", "tcp-1", echoed_binary),
        TrafficEvent("s", "tcp", "data", "out", "127.0.0.1:1", "127.0.0.1:3", "tcp-2", echoed),
        TrafficEvent("tcp-echo@127.0.0.1:1", "tcp", "listen", local="127.0.0.1:1", message="TCP echo listening",
                     meta={"port": 1}, ts=1.5),
        TrafficEvent("tcp-echo@127.0.0.1:1", "tcp", "accept", None, "127.0.0.1:1", "127.0.0.1:2", "tcp-1",
                     message="connection from 127.0.0.1:2"),
        data_event(1),
        TrafficEvent("s", "tcp", "data", "out", "127.0.0.1:1", "127.0.0.1:2", "tcp-1", b"trailing spaces   "),
        TrafficEvent("s", "tcp", "data", "out", "127.0.0.1:1", "127.0.0.1:2", "tcp-1", b"   "),
        TrafficEvent("s", "tcp", "data", "in", "127.0.0.1:1", "127.0.0.1:2", "tcp-1", b""),
        TrafficEvent("s", "tcp", "data", "in", "127.0.0.1:1", None, "tcp-1", b"x" * 300),  # cut to the width
        TrafficEvent("s", "udp", "data", "in", "[::1]:1", "[::1]:2", "udp-2", '\x00"\\\n\u2028é'.encode() + b"\xff"),
        TrafficEvent("s", "tcp", "data", None, None, None, None, b'say "hi"\\'),
        TrafficEvent("s", "http", "request", "in", "127.0.0.1:1", "127.0.0.1:2", "http-3", b"GET / HTTP/1.1\r\n",
                     meta={"method": "GET"}),
        HostEvent("s", "tcp", "data", "in", "10.0.0.1:1", "10.0.0.2:2", "tcp-4", b"from h1", host="h1"),
        TrafficEvent("s\u2028", "tcp", "info", message='say "hi"\t', meta={"a": 1, "c": object()}),
        TrafficEvent("s", "tcp", "close", None, "127.0.0.1:1", "127.0.0.1:2", "tcp-1", message="closed",
                     meta={"by": "peer"}),
    ]


def test_a_batch_is_the_events_lines_one_by_one():
    events = every_shape() * 2  # twice: the second time from the kept conversation keys
    assert json_lines(events) == "".join(event.to_json() + "\n" for event in events)
    assert event_lines(events) == "".join(format_event_line(event) + "\n" for event in events)
    assert event_lines([]) == json_lines([]) == ""


async def test_a_flood_in_one_loop_turn_is_one_write_in_order_and_complete():
    stream = CountingStream()
    printer = EventPrinter(True, stream, batch=True)
    for i in range(1000):
        printer(data_event(i))
    assert stream.writes == 0  # nothing formatted or written while the turn runs
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert (stream.writes, stream.flushes) == (1, 1)
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["text"] for line in lines] == [f"message {i}" for i in range(1000)]


async def test_an_attached_printer_queues_a_flood_without_a_call_per_event_and_loses_nothing():
    journal = Journal()
    stream = CountingStream()
    printer = EventPrinter(True, stream, batch=True)
    subscription = printer.attach(journal)
    seen: list[int] = []
    journal.subscribe(lambda e: seen.append(e.seq))  # a later subscriber still gets every event
    for i in range(500):
        journal.publish(data_event(i))
    assert subscription.callback == printer._pending.append  # the list's own append while a write is due
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert subscription.callback is printer and stream.writes == 1
    journal.publish(data_event(500))  # a lone event after the write: scheduled again, printed
    await asyncio.sleep(0.08)
    assert stream.writes == 2
    assert [json.loads(line)["text"] for line in stream.getvalue().splitlines()] == [f"message {i}" for i in range(501)]
    assert seen == list(range(1, 502))


async def test_a_lone_event_shows_at_once_and_a_flood_is_written_at_most_once_per_interval():
    stream = CountingStream()
    printer = EventPrinter(False, stream, batch=True, interval=0.2)
    printer(data_event(0))
    await asyncio.sleep(0.01)
    assert stream.writes == 1 and "message 0" in stream.getvalue()  # after a quiet spell: the next turn
    for i in range(1, 50):  # a flood: one event per turn, for ~0.1 s
        printer(data_event(i))
        await asyncio.sleep(0.002)
    assert stream.writes == 1  # held back: the last write was less than 0.2 s ago
    await asyncio.sleep(0.25)
    assert stream.writes == 2
    lines = stream.getvalue().splitlines()
    assert [line[12:] for line in lines] == [format_event_line(data_event(i))[12:] for i in range(50)]


async def test_flush_writes_what_is_queued_and_unbatched_printers_write_each_event():
    stream = CountingStream()
    printer = EventPrinter(True, stream, batch=True)
    printer(data_event(1))
    printer.flush()
    assert stream.writes == 1
    await asyncio.sleep(0.01)
    assert stream.writes == 1  # the scheduled write was cancelled, nothing twice
    plain = CountingStream()
    immediate = EventPrinter(True, plain)
    immediate(data_event(1))
    immediate(data_event(2))
    assert plain.writes == 2


def test_serve_prints_every_event_of_a_burst_before_exiting(serve):
    """Black box: 200 connections' events, then Ctrl+C: every accept/data/close line is out, in order."""
    server = serve("tcp-echo", "--port", "0")
    out = concurrent.futures.ThreadPoolExecutor(1).submit(server.proc.stdout.read)  # the pipe must not fill
    for i in range(200):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(b"m%d" % i)
            assert s.recv(64) == b"m%d" % i
    assert server.stop() == 0
    events = [json.loads(line) for line in out.result(10).splitlines()]
    data_in = [e["text"] for e in events if e["kind"] == "data" and e["direction"] == "in"]
    assert data_in == [f"m{i}" for i in range(200)]
    assert sum(e["kind"] == "close" for e in events) == 200
    assert events[-1]["kind"] == "info" and events[-1]["meta"] == {"stopped": True}


def _burst(port: int, connections: int, messages: int) -> None:
    """``connections`` clients at once, each sending ``messages`` numbered messages, one after the echo of
    the last: the server's events pile up between its writes."""
    async def one(c: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for m in range(messages):
            message = b"c%02d m%03d|" % (c, m)
            writer.write(message)
            assert await reader.readexactly(len(message)) == message
        writer.close()
        await writer.wait_closed()

    async def all_() -> None:
        await asyncio.gather(*(one(c) for c in range(connections)))

    asyncio.run(all_())


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "human"])
def test_serve_loses_and_reorders_no_line_of_a_burst(as_json):
    """Black box, both outputs: 20 connections at once, 100 messages each, then Ctrl+C. Every connection's
    accept, its 100 messages in and out in the order they happened, and its close are printed, once each;
    with --json the lines also keep the journal's order across connections (their timestamps never go back)."""
    connections, messages = 20, 100
    proc = subprocess.Popen(netlab_cmd("serve", "tcp-echo", "--port", "0", *(["--json"] if as_json else [])),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = proc.stdout.readline().decode()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", first).group(1))
        out = concurrent.futures.ThreadPoolExecutor(1).submit(proc.stdout.read)  # the pipe must not fill
        _burst(port, connections, messages)
        proc.send_signal(2)
        assert proc.wait(timeout=20) == 0
        lines = [first.rstrip("\n"), *out.result(10).decode().splitlines()]
        assert b"Traceback" not in proc.stderr.read()
    finally:
        reap(proc)
    # (kind, direction, peer, text) of each line, either output
    if as_json:
        events = [json.loads(line) for line in lines]
        assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
        rows = [(e["kind"], e["direction"], e["peer"], e["text"]) for e in events]
    else:
        arrows = {"<-": "in", "->": "out", "": None}
        pattern = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (<-|->|  ) (\S+)\s+(\S+)\s+(?:\d+B)?\s*(.*)$")
        rows = []
        for line in lines:
            match = pattern.match(line)
            assert match, line
            arrow, kind, peer, text = match.groups()
            rows.append((kind, arrows[arrow.strip()], peer, text))
    assert rows[0][0] == "listen" and rows[-1][0] == "info"
    by_peer: dict[str, list[tuple]] = {}
    for kind, direction, peer, text in rows[1:-1]:
        by_peer.setdefault(peer, []).append((kind, direction, text))
    assert len(by_peer) == connections
    for conversation in by_peer.values():
        c = conversation[1][2][:3]  # "c07"
        expected = [("data", direction, f"{c} m{m:03d}|") for m in range(messages) for direction in ("in", "out")]
        assert conversation[0][0] == "accept" and conversation[-1][0] == "close"
        assert conversation[1:-1] == expected


def test_serve_keeps_serving_when_its_reader_goes_away():
    """``netlab serve tcp-echo | head -1``: once the pipe is broken nothing more is printed (nor formatted),
    the server answers on, and Ctrl+C still ends it with status 0 and nothing on stderr."""
    proc = subprocess.Popen(netlab_cmd("serve", "tcp-echo", "--port", "0"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        port = int(re.search(r"127\.0\.0\.1:(\d+)", proc.stdout.readline().decode()).group(1))
        proc.stdout.close()
        for i in range(300):  # enough lines to fill the pipe the reader no longer empties
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"m%03d" % i * 20)
                assert s.recv(80) == b"m%03d" % i * 20
        proc.send_signal(2)
        assert proc.wait(timeout=20) == 0
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
