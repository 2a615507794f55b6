"""Follow stream and flow graph screens: both directions in order, modes, and the jump back to the log."""

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.screens.flow_graph import FlowGraphScreen
from netlab_tui.ui.screens.follow_stream import FollowStreamScreen
from netlab_tui.ui.widgets.inspector import Inspector
from netlab_tui.ui.widgets.lines_view import LinesView
from netlab_tui.ui.widgets.traffic_log import TrafficLog

from tests.ui.helpers import SIZE, wait_for
from tests.ui.traffic_helpers import echo_traffic


async def test_follow_stream_from_the_log_and_jump_to_an_event():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server, client = await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        assert log.select_seq(next(e.seq for e in log.rows if e.conn == client.conn and e.kind == "data"))
        log.focus()
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, FollowStreamScreen))
        lines = app.screen.query_one(LinesView)
        assert lines.plain().splitlines()[1:] == ["Hello", "Hello", "second", "second"]
        assert [line[0][1] for line in lines.lines[1:]] == ["out", "in", "out", "in"]  # colour per direction

        await pilot.press("x")  # hex dump
        assert lines.plain().splitlines()[1].startswith("00000000  48 65 6c 6c 6f 0a")
        await pilot.press("r")  # raw hex
        assert lines.plain().splitlines()[1] == "48656c6c6f0a"
        await pilot.press("t")

        await pilot.press("down", "down", "enter")  # the third line: "second", sent by the client
        await wait_for(pilot, lambda: not isinstance(app.screen, FollowStreamScreen))
        selected = log.selected
        assert selected.payload == b"second\n" and selected.direction == "out" and selected.conn == client.conn
        await wait_for(pilot, lambda: app.query_one(Inspector).event is selected)


async def test_flow_graph_ladder_and_jump():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server, client = await echo_traffic(app, messages=(b"ping\n",))
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        accept = next(e for e in log.rows if e.kind == "accept")
        log.select_seq(accept.seq)
        log.focus()
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, FlowGraphScreen))
        view = app.screen.query_one(LinesView)
        text = view.plain()
        assert f"{client.local} (client)" in text and "(server, netlab)" in text
        arrows = [line for line in text.splitlines() if "►" in line or "◄" in line]
        assert len(arrows) == 4 and "connect" in arrows[0] and "close" in arrows[3]
        assert all(len(line) <= SIZE[0] for line in text.splitlines())
        await pilot.press("down", "enter")  # the client's "ping"
        await wait_for(pilot, lambda: not isinstance(app.screen, FlowGraphScreen))
        assert log.selected.payload == b"ping\n" and log.selected.conn == accept.conn


async def test_jumping_to_an_event_hidden_by_the_filter_clears_the_filter():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server, client = await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        log.select_seq(next(e.seq for e in log.rows if e.conn == client.conn))
        await pilot.press("ctrl+f", *"kind connect", "enter")
        await wait_for(pilot, lambda: len(log.rows) == 1)
        log.focus()
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, FollowStreamScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, FollowStreamScreen))
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        assert log.selected.payload == b"Hello\n"


async def test_follow_stream_hex_fits_80_columns_and_indents_the_server():
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        payload = b"Hello, netlab! 0123456789abcdefghijklmnopqrstuvwxyz\n"
        server, client = await echo_traffic(app, messages=(payload,))
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        # From the server's side: netlab served, so what it sent is the server's and is indented.
        assert log.select_seq(next(e.seq for e in log.rows if e.source == server.name and e.kind == "data"))
        await pilot.press("f3", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, FollowStreamScreen))
        await pilot.press("x")
        await pilot.pause()
        lines = app.screen.query_one(LinesView)
        rows = lines.plain().splitlines()[1:]
        assert len(rows) == 8 and all(len(row) <= lines.size.width for row in rows)
        assert rows[0].startswith("0000 48 65 6c") and rows[0].endswith("Hello, netlab! 0")  # the client
        assert rows[4].startswith("    0000 48 65 6c")  # the server's echo, indented as in Wireshark
        await pilot.press("escape", "ctrl+q")
