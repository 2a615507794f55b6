"""``netlab open x.pcap`` in the TUI: a capture's packets in the log, its streams and flow graph."""

import asyncio

from netlab_tui.commands.open import build_app, load_events
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import SessionRegistry
from netlab_tui.engine.inspect import capture
from netlab_tui.engine.sockets.behaviours import EchoBehaviour
from netlab_tui.engine.sockets.tcp import TcpClient, TcpServer
from netlab_tui.ui.screens.flow_graph import FlowGraphScreen
from netlab_tui.ui.widgets.lines_view import LinesView
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for


async def make_capture(path):
    journal = Journal()
    registry = SessionRegistry(journal)
    recorder = capture.PcapRecorder(path, journal, mode="auto")  # the wire when allowed, else rebuilt
    recorder.watch_listen()
    server = await registry.start(TcpServer(journal, EchoBehaviour(), port=0))
    client = await registry.start(TcpClient(journal, "127.0.0.1", server.port))
    got = asyncio.Event()
    client.on_receive(lambda chunk: got.set())
    await client.send(b"from the wire\n")
    await asyncio.wait_for(got.wait(), 5)
    await registry.stop_all()
    await asyncio.to_thread(recorder.close)


async def test_a_capture_opens_with_its_handshake_in_the_flow_graph(tmp_path):
    path = tmp_path / "wire.pcap"
    await make_capture(path)
    events = load_events(path)
    app = build_app(events, str(path), "tcp")
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == len(events))
        assert app.sub_title == f"wire.pcap: {len(events)} events"
        assert [e.kind for e in log.rows[:3]] == ["connect", "accept", "ack"]
        log.select_seq(log.rows[0].seq)
        log.focus()
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, FlowGraphScreen))
        text = app.screen.query_one(LinesView).plain()
        for label in ("SYN seq=0", "SYN, ACK seq=0 ack=1", "len=14 from the wire␊", "FIN, ACK"):  # either way
            assert label in text
        await pilot.press("escape")
        await pilot.press("ctrl+q")
