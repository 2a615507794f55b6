"""The watch-collector server with clients written as the course writes them (plain sockets)."""

from __future__ import annotations

import asyncio
import json
import socket

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.watch.collector import GREETING


def learner_client(port: int, lines: list[bytes], read_acks: int = 0) -> list[bytes]:
    """Connect, read the greeting, send lines, read ``read_acks`` ack lines, close."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        received = [reader.readline()]
        sock.sendall(b"".join(lines))
        for _ in range(read_acks):
            received.append(reader.readline())
        return received


async def start(registry, journal):
    return await registry.start(server_kinds()["watch-collector"].create(journal, port=0))


def fs_events(journal):
    return [e for e in journal.events() if e.proto == "fs"]


async def test_watchdog_style_lines_from_a_learner(registry, journal):
    collector = await start(registry, journal)
    lines = [
        json.dumps({"event_type": "created", "src_path": "/tmp/d/a.txt", "is_directory": False}).encode() + b"\n",
        json.dumps({"event_type": "moved", "src_path": "/tmp/d/a.txt", "dest_path": "/tmp/d/b.txt"}).encode() + b"\n",
        b"this is not json\n",
        b'{"kind": "exploded", "path": "x"}\n',
    ]
    received = await asyncio.to_thread(learner_client, collector.port, lines)
    assert received[0] == GREETING
    await asyncio.sleep(0.2)
    events = fs_events(journal)
    assert [(e.kind, e.meta["path"], e.meta["dest_path"]) for e in events] == [
        ("created", "/tmp/d/a.txt", None), ("moved", "/tmp/d/a.txt", "/tmp/d/b.txt")]
    client = events[0].meta["client"]
    assert client.startswith("127.0.0.1:") and events[0].text == f"[{client}] created /tmp/d/a.txt"
    ignored = [e for e in journal.events() if (e.meta or {}).get("ignored")]
    assert len(ignored) == 2 and "not JSON" in ignored[0].text
    assert collector.behaviour.clients[client].changes == 2


async def test_acks_and_duplicates(registry, journal):
    collector = await start(registry, journal)

    def line(seq: int, rel: str) -> bytes:
        return json.dumps({"watcher": "pc:/w", "run": "r1", "seq": seq, "kind": "created",
                           "path": f"/w/{rel}", "rel": rel}).encode() + b"\n"

    first = await asyncio.to_thread(learner_client, collector.port, [line(1, "a"), line(2, "b")], 1)
    assert json.loads(first[-1])["ack"] in (1, 2)  # one ack per chunk received
    await asyncio.sleep(0.1)
    # The same watcher resends 2 after a reconnection, then goes on with 3.
    await asyncio.to_thread(learner_client, collector.port, [line(2, "b"), line(3, "c")], 1)
    await asyncio.sleep(0.2)
    assert [e.meta["rel"] for e in fs_events(journal)] == ["a", "b", "c"]
    client = collector.behaviour.clients["pc:/w"]
    assert (client.changes, client.duplicates, client.connections) == (3, 1, 2)
    assert all(e.meta["client"] == "pc:/w" for e in fs_events(journal))


async def test_a_line_without_end_is_refused(registry, journal):
    collector = await start(registry, journal)

    def flood() -> bytes:
        with socket.create_connection(("127.0.0.1", collector.port), timeout=5) as sock:
            sock.recv(100)
            try:
                sock.sendall(b"x" * (2 << 20))
            except OSError:
                pass
            sock.settimeout(5)
            try:
                return sock.recv(100)
            except OSError:
                return b""

    assert await asyncio.to_thread(flood) == b""
    await asyncio.sleep(0.1)
    assert any("without a newline" in (e.text or "") for e in journal.events())
    assert collector.running  # the server keeps serving
