"""Up-arrow history in the fields that send, and every pane action reachable by name in the palette."""

from __future__ import annotations

from textual.widgets import Input, RichLog

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.history_input import HistoryInput
from tests.ui.helpers import SIZE, wait_for


async def test_up_and_down_recall_what_was_sent_in_every_field_that_sends():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        for pane_id in ("tcp-client", "udp-client", "http-client", "rpc", "shell", "ssh"):  # built on first show
            await app.open_pane(pane_id, focus=False)
        for field_id in ("tcp-message", "udp-message", "http-url", "rpc-method", "rpc-params", "shell-command",
                         "shell-stdin", "ssh-command", "ssh-stdin"):
            assert isinstance(app.query_one(f"#{field_id}"), HistoryInput), field_id
        app.start_quick_server("tcp-echo")
        await wait_for(pilot, lambda: app.registry.sessions(role="server"))
        await pilot.press("c")
        message = app.query_one("#tcp-message", Input)
        await wait_for(pilot, lambda: app.focused is message)
        for word in ("one", "two"):
            await pilot.press(*word, "enter")
        transcript = app.query_one("#tcp-transcript", RichLog)
        await wait_for(pilot, lambda: sum("← " in line.text for line in transcript.lines) >= 1)
        await pilot.press(*"dra")  # a draft, kept while browsing
        await pilot.press("up")
        assert message.value == "two"
        await pilot.press("up", "up")  # stops at the oldest
        assert message.value == "one" and message.cursor_position == 3
        await pilot.press("down")
        assert message.value == "two"
        await pilot.press("down")
        assert message.value == "dra"
        await pilot.press("ctrl+u", "up", "enter")  # resend the last one
        await wait_for(pilot, lambda: sum("→ two" in line.text for line in transcript.lines) == 2)
        await pilot.press("ctrl+q")


async def test_the_palette_names_every_pane_action_and_runs_it():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        for title in ("Servers: Start", "Servers: Stop server", "Servers: Client", "TCP client: Connect",
                      "TCP client: Half-close", "HTTP client: As curl", "Port scan: Stop scan",
                      "Shell: Cancel command", "Labs: Start lab", "Show the inspector (F4)"):
            assert title in commands, title
        assert not any(title.startswith("Lab: ") for title in commands)  # no lab open: no lab commands
        commands["Servers: Start"].callback()
        await wait_for(pilot, lambda: len(app.registry.sessions(role="server")) == 1)
        await pilot.press("ctrl+q")
