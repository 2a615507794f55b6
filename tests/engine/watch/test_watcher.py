"""Directory watching on real files, bursts, and forwarding changes to real TCP servers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError, SessionStatus
from netlab_tui.engine.watch.watcher import CHANGE_KINDS, PathFilter, WatchSession, parse_forward
from tests._pipes import PipeLines


def changes(journal: Journal, source: str | None = None) -> list:
    return [e for e in journal.events() if e.proto == "fs" and e.kind in CHANGE_KINDS
            and (source is None or e.source == source)]


async def wait_for(condition, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def start_watch(registry, journal, path, **options) -> WatchSession:
    session = await registry.start(WatchSession(journal, path, **options))
    await asyncio.sleep(0.1)  # inotify watches are in place once the observer thread has started
    return session


# -- watching ------------------------------------------------------------------------------------------
async def test_created_modified_moved_deleted(registry, journal, tmp_path):
    session = await start_watch(registry, journal, tmp_path)
    assert session.name == f"watch@{tmp_path.resolve()}"
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "sub").mkdir()
    await asyncio.sleep(0.2)  # let the new directory's watch be added before filling it
    (tmp_path / "sub" / "b.txt").write_text("x")
    (tmp_path / "a.txt").rename(tmp_path / "sub" / "a2.txt")
    with open(tmp_path / "sub" / "b.txt", "a") as fh:
        fh.write("more")
    (tmp_path / "sub" / "b.txt").unlink()
    await wait_for(lambda: any(e.kind == "deleted" for e in changes(journal)), what="the deletion")
    seen = [(e.kind, e.meta["rel"], e.meta["dest_rel"], e.meta["is_dir"]) for e in changes(journal)]
    assert ("created", "a.txt", None, False) in seen
    assert ("created", "sub", None, True) in seen
    assert ("created", "sub/b.txt", None, False) in seen
    assert ("moved", "a.txt", "sub/a2.txt", False) in seen
    assert ("modified", "sub/b.txt", None, False) in seen
    assert ("deleted", "sub/b.txt", None, False) in seen
    moved = next(e for e in changes(journal) if e.kind == "moved")
    root = tmp_path.resolve()
    assert moved.meta["path"] == str(root / "a.txt") and moved.meta["dest_path"] == str(root / "sub" / "a2.txt")
    assert moved.to_dict()["text"] == "moved a.txt → sub/a2.txt"
    assert all(e.proto == "fs" and e.source == session.name for e in changes(journal))
    # Directory "modified" events are noise and are not reported.
    assert not [e for e in changes(journal) if e.kind == "modified" and e.meta["is_dir"]]
    assert session.counts["created"] >= 3


async def test_include_and_exclude_globs(registry, journal, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "src").mkdir()
    await start_watch(registry, journal, tmp_path, include=["*.py", "docs/*.md"], exclude=[".git", "*_test.py"])
    for name in ("src/app.py", "src/app_test.py", "notes.txt", ".git/HEAD.py", "src/readme.md"):
        (tmp_path / name).write_text("x")
    (tmp_path / "docs").mkdir()
    await asyncio.sleep(0.2)
    (tmp_path / "docs" / "guide.md").write_text("x")
    (tmp_path / "last.py").write_text("x")
    await wait_for(lambda: any(e.meta["rel"] == "last.py" for e in changes(journal)), what="last.py")
    reported = {e.meta["rel"] for e in changes(journal)}
    assert reported == {"src/app.py", "docs/guide.md", "last.py"}


def test_path_filter_rules():
    f = PathFilter(include=["*.txt"], exclude=["node_modules", "build/*"])
    assert f.allows("a.txt") and f.allows("deep/down/b.txt")
    assert not f.allows("a.py")
    assert not f.allows("node_modules/x/a.txt")
    assert not f.allows("build/a.txt") and f.allows("src/build.txt")
    assert PathFilter().allows("anything") and not PathFilter()


@pytest.fixture
def fast_dir(tmp_path):
    """A directory on tmpfs when there is one: the test is about the watcher, not about the disk
    (2,000 creations on this machine's ext4 under load can take more than a second by themselves)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="netlab-watch-", dir=shm))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_a_burst_of_2000_files_is_reported_whole(registry, journal, fast_dir):
    tmp_path = fast_dir
    await start_watch(registry, journal, tmp_path)
    # Another process makes the burst (touch, 2,000 names at once): this one's GIL is the watcher's.
    names = [f"f{i:04d}.dat" for i in range(2000)]
    started = time.monotonic()
    await asyncio.to_thread(subprocess.run, ["touch", *names], cwd=tmp_path, check=True)
    burst = time.monotonic() - started
    assert burst < 1.0, f"the burst took {burst:.2f}s"

    def created() -> set[str]:
        return {e.meta["rel"] for e in changes(journal) if e.kind == "created"}

    await wait_for(lambda: len(created()) >= 2000, timeout=20, what="2,000 created events")
    assert created() == {f"f{i:04d}.dat" for i in range(2000)}


async def test_bad_directories_are_one_clear_line(registry, journal, tmp_path):
    with pytest.raises(NetlabError, match="no such directory"):
        await registry.start(WatchSession(journal, tmp_path / "missing"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(NetlabError, match="not a directory"):
        await registry.start(WatchSession(journal, tmp_path / "file"))


def test_forward_targets_are_validated():
    assert parse_forward("127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert parse_forward("[::1]:9000") == ("::1", 9000)
    assert parse_forward("localhost:1") == ("localhost", 1)
    for bad in ("127.0.0.1", "127.0.0.1:0", "127.0.0.1:http", ":80", "::1:80", "host:70000"):
        with pytest.raises(NetlabError):
            parse_forward(bad)


async def test_stop_reports_the_counts(registry, journal, tmp_path):
    session = await start_watch(registry, journal, tmp_path)
    (tmp_path / "x").write_text("1")
    await wait_for(lambda: changes(journal), what="a change")
    await registry.stop(session)
    assert session.status == SessionStatus.STOPPED
    last = journal.events()[-1]
    assert last.meta["stopped"] and last.meta["counts"]["created"] == 1


# -- forwarding ----------------------------------------------------------------------------------------
async def start_collector(registry, journal, port: int = 0):
    return await registry.start(server_kinds()["watch-collector"].create(journal, port=port))


async def test_forward_each_change_as_a_json_line_to_a_collector(registry, tmp_path):
    watch_journal, server_journal = Journal(), Journal()
    collector = await start_collector(registry, server_journal)
    watch = await start_watch(registry, watch_journal, tmp_path, forward=f"127.0.0.1:{collector.port}")
    await wait_for(lambda: watch.forwarder.acks, what="the collector's greeting")
    (tmp_path / "one.txt").write_text("1")
    (tmp_path / "one.txt").rename(tmp_path / "two.txt")
    await wait_for(lambda: any(e.kind == "moved" for e in changes(server_journal)), what="the move at the server")
    received = changes(server_journal)
    label = watch.forwarder.watcher
    assert all(e.meta["client"] == label and e.text.startswith(f"[{label}] ") for e in received)
    assert [(e.kind, e.meta["rel"]) for e in received if e.kind != "modified"] == [
        ("created", "one.txt"), ("moved", "one.txt")]
    # On the wire: one JSON object per line, acknowledged by sequence number.
    sent = b"".join(e.payload for e in watch_journal.events() if e.kind == "data" and e.direction == "out")
    lines = [json.loads(line) for line in sent.decode().splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert lines[0]["kind"] == "created" and lines[0]["path"] == str(tmp_path.resolve() / "one.txt")
    await wait_for(lambda: watch.forwarder.acked == len(lines), what="the acks")
    assert watch.forwarder.queued == 0


async def test_forward_to_a_plain_server(registry, tmp_path):
    """A learner's server that only reads lines gets the same JSON lines (no greeting, no acks)."""
    got: list[dict] = []

    async def plain(reader, writer):
        while line := await reader.readline():
            got.append(json.loads(line))
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        journal = Journal()
        watch = await start_watch(registry, journal, tmp_path, forward=f"127.0.0.1:{port}")
        await wait_for(lambda: watch.forwarder.state == "connected", what="the connection")
        for name in ("a", "b", "c"):
            (tmp_path / name).write_text(name)
        await wait_for(lambda: {g["rel"] for g in got if g["kind"] == "created"} == {"a", "b", "c"},
                       what="three lines")
        assert not watch.forwarder.acks and watch.forwarder.queued == 0
    finally:
        server.close()


def created_at(server, wanted: set[str], timeout: float = 15.0) -> set[str]:
    """The paths a ``netlab serve watch-collector`` child reports created, read until ``wanted``."""
    got: set[str] = set()

    def note(event: dict) -> bool:
        if event["kind"] == "created":
            got.add(event["meta"]["rel"])
        return wanted <= got

    PipeLines(server.proc.stdout).events_until(note, timeout=timeout)
    return got


async def test_forward_survives_a_collector_restart(registry, tmp_path, serve):
    """Changes made while the server is down are queued and delivered once it is back."""
    first = serve("watch-collector", "--port", "0")
    port = first.port
    journal = Journal()
    watch = await start_watch(registry, journal, tmp_path, forward=f"127.0.0.1:{port}")
    await wait_for(lambda: watch.forwarder.acks, what="the greeting")
    (tmp_path / "before.txt").write_text("x")
    events = await asyncio.to_thread(PipeLines(first.proc.stdout).events_until, lambda e: e["kind"] == "created")
    assert [e["meta"]["rel"] for e in events if e["kind"] == "created"] == ["before.txt"]
    assert await asyncio.to_thread(first.stop) == 0
    await wait_for(lambda: watch.forwarder.state != "connected", what="the disconnection")
    for i in range(50):
        (tmp_path / f"while-down-{i}.txt").write_text("x")
    await wait_for(lambda: watch.forwarder.queued >= 50, what="50 queued changes")
    second = serve("watch-collector", "--port", str(port))
    wanted = {f"while-down-{i}.txt" for i in range(50)}
    assert wanted <= await asyncio.to_thread(created_at, second, wanted)
    await wait_for(lambda: watch.forwarder.queued == 0, what="every change acknowledged")
    assert watch.forwarder.connections == 2 and watch.forwarder.dropped == 0


async def test_changes_in_flight_when_the_server_dies_are_sent_again(registry, tmp_path, serve):
    """SIGKILL: no goodbye. What the collector had not acknowledged goes to the next one."""
    import signal

    first = serve("watch-collector", "--port", "0")
    port = first.port
    journal = Journal()
    watch = await start_watch(registry, journal, tmp_path, forward=f"127.0.0.1:{port}")
    await wait_for(lambda: watch.forwarder.acks, what="the greeting")
    first.proc.send_signal(signal.SIGSTOP)  # frozen: it accepts bytes into its socket but never acks
    try:
        for i in range(20):
            (tmp_path / f"f{i}").write_text("x")
        await wait_for(lambda: watch.forwarder.sent >= 20, what="20 lines sent")
        assert watch.forwarder.acked == 0 and watch.forwarder.queued >= 20
    finally:
        first.proc.kill()
        first.proc.wait()
    second = serve("watch-collector", "--port", str(port))
    wanted = {f"f{i}" for i in range(20)}
    assert wanted <= await asyncio.to_thread(created_at, second, wanted)
    await wait_for(lambda: watch.forwarder.queued == 0, what="all acknowledged")


async def test_queue_is_bounded_while_the_server_is_away(registry, journal, tmp_path):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there
    watch = await start_watch(registry, journal, tmp_path, forward=f"127.0.0.1:{port}", queue_limit=5)
    for i in range(12):
        (tmp_path / f"f{i}").write_bytes(b"")
    await wait_for(lambda: watch.counts["created"] == 12, what="12 changes")
    assert watch.forwarder.queued == 5 and watch.forwarder.dropped >= 7
    errors = [e for e in journal.events() if e.kind == "error" and "queue full" in (e.text or "")]
    assert errors
    waiting = [e for e in journal.events() if (e.meta or {}).get("forward") == "waiting"]
    assert len(waiting) == 1 and "connection refused" in waiting[0].text


async def test_several_watchers_report_to_one_collector(registry, tmp_path):
    server_journal = Journal()
    collector = await start_collector(registry, server_journal)
    dirs = [tmp_path / "alpha", tmp_path / "beta"]
    watches = []
    for d in dirs:
        d.mkdir()
        watches.append(await start_watch(registry, Journal(), d, forward=f"127.0.0.1:{collector.port}"))
    await wait_for(lambda: all(w.forwarder.acks for w in watches), what="both greetings")
    for d in dirs:
        (d / "hello").write_text(d.name)
    await wait_for(lambda: len(collector.behaviour.clients) == 2
                   and all(c.by_kind.get("created") for c in collector.behaviour.clients.values()),
                   what="both clients")
    labels = {w.forwarder.watcher for w in watches}
    assert set(collector.behaviour.clients) == labels
    by_client = {}
    for event in changes(server_journal):
        by_client.setdefault(event.meta["client"], []).append(event.meta["rel"])
    assert all("hello" in rels for rels in by_client.values()) and set(by_client) == labels


async def test_stop_flushes_what_is_queued(registry, tmp_path):
    server_journal = Journal()
    collector = await start_collector(registry, server_journal)
    watch = await start_watch(registry, Journal(), tmp_path, forward=f"127.0.0.1:{collector.port}")
    await wait_for(lambda: watch.forwarder.acks, what="the greeting")
    for i in range(100):
        (tmp_path / f"f{i}").write_bytes(b"")
    await asyncio.sleep(0.3)
    await registry.stop(watch)
    await asyncio.sleep(0.1)
    assert {e.meta["rel"] for e in changes(server_journal) if e.kind == "created"} == {f"f{i}" for i in range(100)}
