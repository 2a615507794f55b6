"""The event printer of ``netlab serve``: batched (one write per loop turn, at most one per interval in a
flood), in order, nothing lost; its JSON is the contract's, byte for byte (issue 14, finding 4)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json
import socket

from netlab_tui.commands._common import EventPrinter, event_json, format_event_line
from netlab_tui.engine.core.events import TrafficEvent


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
