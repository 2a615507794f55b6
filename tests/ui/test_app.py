"""The TUI driven with Pilot: start a server, connect, find the traffic in the log and the inspector."""

from textual.widgets import DataTable, Input, RichLog

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.inspector import Inspector
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for


async def test_server_client_log_and_inspector_end_to_end():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        # Servers pane: start a TCP echo server on a free port.
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: app.registry.sessions(role="server"))
        server = app.registry.sessions(role="server")[0]
        table = app.query_one("#servers-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        assert str(server.port) in str(table.get_row_at(0)[1])

        # TCP client pane: connect and send a line.
        await app.open_pane("tcp-client", port=server.port)
        await pilot.pause()
        await pilot.click("#tcp-connect")
        await wait_for(pilot, lambda: not app.query_one("#tcp-message", Input).disabled)
        app.query_one("#tcp-message", Input).focus()
        await pilot.press(*"Hello", "enter")
        transcript = app.query_one("#tcp-transcript", RichLog)
        await wait_for(pilot, lambda: any("← Hello" in line.text for line in transcript.lines))

        # The traffic log holds the echo, and the inspector shows its bytes.
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: sum(1 for e in log.rows if e.kind == "data") == 4)
        assert [e.payload for e in log.rows if e.kind == "data"] == [b"Hello\n"] * 4
        log.focus()
        await pilot.press("home")
        first_data = next(i for i, e in enumerate(log.rows) if e.kind == "data")
        for _ in range(first_data):
            await pilot.press("down")
        await pilot.pause()
        inspector = app.query_one(Inspector)
        assert inspector.event is log.rows[first_data]
        assert inspector.current_view == "text"
        assert "Hello\\n" in inspector.rendered_text()

        # The hex view: offsets, hex bytes, ASCII column (full-screen with z: the classic layout fits).
        await pilot.press("f4", "right", "z")
        await pilot.pause()
        assert inspector.current_view == "hex"
        await wait_for(pilot, lambda: "00000000  48 65 6c 6c 6f 0a" in inspector.rendered_text())
        assert "00000000  48 65 6c 6c 6f 0a" in inspector.rendered_text()
        assert "|Hello.|" in inspector.rendered_text()

        await pilot.press("ctrl+q")
    assert app.return_value == 0
    assert len(app.registry) == 0  # every session stopped on quit


async def test_bad_port_and_refused_connection_are_notifications_not_crashes():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.query_one("#server-port", Input).value = "99999"
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: len(app._notifications) > 0)
        assert any("invalid port" in n.message for n in app._notifications)
        await app.open_pane("tcp-client", port=1)
        await pilot.pause()
        await pilot.click("#tcp-connect")
        await wait_for(pilot, lambda: any("refused" in n.message for n in app._notifications))
        assert not app.registry.sessions()


async def test_f1_shows_help_for_the_focused_pane_and_palette_lists_actions():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.open_pane("servers")
        await pilot.pause()
        app.query_one("#server-host", Input).focus()
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        assert "Servers" in app.screen.help_title
        keys = app.screen.markdown.split("### Keys", 1)[1]
        assert "Quit" in keys and "Filter" in keys and keys.count("palette") == 1  # netlab's keys …
        assert "Move cursor left" not in keys  # … not the twenty editing keys of the focused Input
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ != "HelpScreen"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Start tcp-echo server" in titles and "Open TCP client" in titles
        assert "Export journal (JSONL)" in titles


async def test_log_keeps_up_with_a_burst_and_counts_exactly():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        from netlab_tui.engine.core.events import TrafficEvent

        for i in range(20_000):
            app.journal.publish(TrafficEvent(source="burst", proto="tcp", kind="data", direction="in",
                                             payload=b"%d" % i))
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: log.received == 20_000)
        assert log.rows[-1].payload == b"19999"
        assert log.cursor == len(log.rows) - 1  # following
