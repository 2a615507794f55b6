"""A learner at 80x24 and at 140x42, keys only: every pane keeps its widgets (none collapsed to zero),
the log keeps six rows, the inspector opens on demand (full-screen at 80x24), and a lab's first step is
done with Enter and its keys F5-F8 work from any pane."""

from __future__ import annotations

import pytest
from textual.widget import Widget
from textual.widgets import Button, DataTable, Footer, Input, Markdown, OptionList, RichLog, Select, Static, TextArea

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.inspector import Inspector
from netlab_tui.ui.widgets.lab_panel import LabPanel
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import wait_for

SIZES = [(80, 24), (140, 42)]
WIDGETS = (Button, Input, Select, DataTable, RichLog, OptionList, TextArea, TrafficLog, Footer)


@pytest.fixture
def lab_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NETLAB_LANG", "en")
    return tmp_path


def shown(widget: Widget) -> bool:
    """On screen unless the app hid it on purpose (another tab, a hidden option, a closed section)."""
    return all(node.display and node.visible for node in widget.ancestors_with_self if isinstance(node, Widget))


def collapsed(app: NetlabApp, root: Widget) -> list[str]:
    return [f"#{w.id or type(w).__name__} {w.size}" for w in root.query("*")
            if isinstance(w, WIDGETS) and shown(w) and (w.size.width == 0 or w.size.height == 0)]


def log_rows(app: NetlabApp) -> int:
    return app.query_one(TrafficLog).size.height


async def test_every_pane_keeps_every_widget_and_the_log_six_rows_at_80x24_and_140x42():
    app = NetlabApp()
    async with app.run_test(size=SIZES[0]) as pilot:
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await wait_for(pilot, lambda size=size: app.screen.size == size)
            for pane_id in app.pane_ids:
                pane = await app.open_pane(pane_id)
                await wait_for(pilot, lambda pane=pane: pane.size.width > 0, what=f"{pane_id} shown")
                await pilot.pause()
                where = f"{pane_id} at {size}"
                assert pane.size.width >= 40 and pane.size.height >= 8, f"{where}: {pane.size}"
                assert not collapsed(app, pane), f"{where}: {collapsed(app, pane)}"
                assert log_rows(app) >= 6 and app.query_one(Footer).size.height == 1, where
                if pane_id == "servers":  # the server kind: its value readable; the table shows rows
                    assert app.query_one("#server-kind", Select).size.width >= 20
                    assert app.query_one("#servers-table", DataTable).size.height >= 4
        await pilot.press("ctrl+q")


async def test_c_hello_then_the_selected_event_full_screen_at_80x24():
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.inspector_shown()  # no 14-column inspector: it opens on demand
        app.query_one("#server-port", Input).focus()
        await pilot.press("enter")  # start tcp-echo: its row is selected
        table = app.query_one("#servers-table", DataTable)
        await wait_for(pilot, lambda: app.focused is table and table.row_count == 1)
        await pilot.press("c")
        message = app.query_one("#tcp-message", Input)
        await wait_for(pilot, lambda: app.focused is message)
        await pilot.press(*"Hello", "enter")
        transcript = app.query_one("#tcp-transcript", RichLog)
        await wait_for(pilot, lambda: any("← Hello" in line.text for line in transcript.lines))
        assert transcript.size.height >= 3  # the echo is seen in the tool, not only in the log
        status = app.query_one("#tcp-status")
        assert "1 in" in str(status.render()) and status.size.height >= 2  # wrapped, not cut
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: sum(1 for e in log.rows if e.kind == "data") == 4)
        await pilot.press("f3", "up")
        selected = log.rows[log.cursor]
        await pilot.press("f4")
        inspector = app.query_one(Inspector)
        await wait_for(pilot, lambda: app.inspector_shown() and inspector.size.width >= 78)
        assert inspector.size.height >= 18 and inspector.event is selected
        assert not app.query_one("#panes").display or app.query_one("#panes").size.width == 0
        await pilot.press("escape")  # the room goes back to the tool and the log
        await wait_for(pilot, lambda: not app.inspector_shown() and app.focused is log)
        assert log_rows(app) >= 6 and not collapsed(app, app.query_one("#tcp-client"))
        await pilot.press("ctrl+q")


async def start_first_lab(pilot, app: NetlabApp) -> LabPanel:
    await pilot.press("f2", "end", "enter")  # Labs
    table = app.query_one("#labs-table", DataTable)
    await wait_for(pilot, lambda: table.row_count > 0 and app.focused is not None)
    table.focus()
    table.move_cursor(row=table.get_row_index("tcp-first-exchange"))
    await pilot.press("s")
    await wait_for(pilot, lambda: app.query(LabPanel) and app.query("#lab-action-0"), what="the lab")
    panel = app.query_one(LabPanel)
    await wait_for(pilot, lambda: app.focused is app.query_one("#lab-action-0"), what="focus on the step's action")
    return panel


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "140x42"])
async def test_a_labs_first_step_by_keys_then_its_global_keys(lab_dirs, size):
    app = NetlabApp()
    async with app.run_test(size=size, notifications=True) as pilot:
        panel = await start_first_lab(pilot, app)
        runner = panel.runner
        # the lab's keys are in the footer, and in the palette
        keys = {active.binding.key for active in app.screen.active_bindings.values()}
        assert {"f5", "f6", "f7", "f8"} <= keys
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Lab: check now (F5)", "Lab: next hint (F6)", "Lab: previous step (F7)",
                "Lab: next step (F8)"} <= set(titles)
        assert log_rows(app) >= 6
        if size == (140, 42):  # the log keeps its peer and summary columns; the step text has room
            assert app.query_one(TrafficLog).size.width >= 85
            assert app.query_one("#lab-body").size.height >= 15

        # Enter on "▶ Open the TCP client", Enter in the address (connect), Enter sends Hello
        await pilot.press("enter")
        host = app.query_one("#tcp-host", Input)
        await wait_for(pilot, lambda: app.focused is host, what="the TCP client")
        assert not collapsed(app, app.query_one("#tcp-client")) and host.size.width >= 9
        await pilot.press("enter")
        message = app.query_one("#tcp-message", Input)
        await wait_for(pilot, lambda: app.focused is message and message.value == "Hello")
        await pilot.press("enter")
        await wait_for(pilot, lambda: runner.status.passed, what="the step to pass")
        checks = str(app.query_one("#lab-checks", Static).content)
        assert checks.startswith("Step passed! F8: the next step.")

        # F4: the inspector, one key away during a lab; F4 again gives the room back
        await pilot.press("f3", "up", "f4")
        await wait_for(pilot, lambda: app.inspector_shown() and app.query_one(Inspector).has_focus_within)
        assert app.query_one(Inspector).size.width >= (78 if size == (80, 24) else 30)
        await pilot.press("f4")
        await wait_for(pilot, lambda: not app.inspector_shown())
        if size == (80, 24):
            await pilot.press("ctrl+q")
            return

        # F8 from the log: the next step; its starter script's traceback waits until the learner acts
        app.query_one("#tcp-message", Input).focus()
        await pilot.press("f8")
        await wait_for(pilot, lambda: panel._step_shown == 1 and app.query("#lab-answer-q1"))
        await wait_for(pilot, lambda: not runner.status.running and "client.py" in
                       str(app.query_one("#lab-output", Static).content))
        before = str(app.query_one("#lab-output", Static).content)
        assert "TypeError" in before and "Traceback" not in before and "F5" in before
        question = app.query_one(".lab-question Label")
        assert question.size.width <= panel.size.width and question.size.height >= 2  # wrapped, whole
        await pilot.press("f6")  # a hint, whole
        await wait_for(pilot, lambda: len(app.query(".lab-hint")) == 1)
        hint = app.query_one(".lab-hint", Markdown)
        await wait_for(pilot, lambda: hint.size.height >= 2)
        await pilot.press("f5")  # check: the learner acted, the whole tail shows
        await wait_for(pilot, lambda: "Traceback" in str(app.query_one("#lab-output", Static).content)
                       or str(app.query_one("#lab-output", Static).content).count("\n") >= 3, what="the output")
        await pilot.press("f7")
        await wait_for(pilot, lambda: panel._step_shown == 0)
        await pilot.press("ctrl+q")


async def test_looking_at_the_traffic_gives_the_inspector_a_whole_hex_row_at_140x42():
    app = NetlabApp()
    async with app.run_test(size=(140, 42)) as pilot:
        app.start_quick_server("tcp-echo")
        table = app.query_one("#servers-table", DataTable)
        await wait_for(pilot, lambda: app.focused is table and table.row_count == 1)
        await pilot.press("c")
        message = app.query_one("#tcp-message", Input)
        await wait_for(pilot, lambda: app.focused is message)
        await pilot.press(*"Hello world 0123456789", "enter")
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: sum(1 for e in log.rows if e.kind == "data") == 4)
        tool_width = app.query_one("#panes").size.width
        await pilot.press("f3", "up", "f4", "right")
        inspector = app.query_one(Inspector)
        await wait_for(pilot, lambda: inspector.current_view == "hex")
        # 16 bytes a row, whole, with the ASCII column (the classic or the compact layout, by the width)
        await wait_for(pilot, lambda: "Hello world 0123" in inspector.rendered_text())
        row = inspector.rendered_text().splitlines()[0]
        assert row.startswith("0000") and row.rstrip("|").endswith("Hello world 0123")
        assert len([part for part in row.split()[1:17] if len(part) == 2]) == 16
        assert inspector.size.width >= len(row)
        assert app.query_one("#panes").size.width >= 56  # the tool narrows but stays usable
        await pilot.press("f2")  # back to the tools: the tool gets its width back
        await wait_for(pilot, lambda: app.query_one("#panes").size.width >= tool_width)
        await pilot.press("ctrl+q")
