"""The filter bar: checked as you type, applied to the live log, errors shown with their column."""

from textual.widgets import Input, Static

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.filter_bar import FilterBar
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for
from tests.ui.traffic_helpers import echo_traffic


def status_text(app) -> str:
    return str(app.query_one("#filter-status", Static).render())


async def test_typing_a_filter_checks_it_and_narrows_the_log():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server, client = await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        box = app.query_one("#filter-input", Input)
        await pilot.press("ctrl+f")
        assert app.focused is box

        await pilot.press(*"data and port")  # incomplete: invalid, the log keeps everything
        await pilot.pause()
        assert box.has_class("-invalid")
        assert "column 10: port needs a value" in status_text(app)
        assert len(log.rows) == app.journal.total

        await pilot.press("space", *str(server.port), "space", *"and in")
        await wait_for(pilot, lambda: box.has_class("-valid"))
        await wait_for(pilot, lambda: len(log.rows) == 4)  # applied after a pause, without Enter
        assert {(e.kind, e.direction) for e in log.rows} == {("data", "in")}
        await wait_for(pilot, lambda: "4 of" in status_text(app))

        # live: new traffic is filtered as it arrives
        await echo_traffic(app, messages=(b"third\n",), server=server)
        await wait_for(pilot, lambda: len(log.rows) == 6)
        assert all(e.kind == "data" and e.direction == "in" for e in log.rows)

        await pilot.press("escape")  # clears the filter
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        assert box.value == ""


async def test_enter_applies_at_once_and_a_bad_filter_keeps_the_last_good_one():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        bar = app.query_one(FilterBar)
        await pilot.press("ctrl+f", *"kind close", "enter")
        assert bar.applied == "kind close"
        await wait_for(pilot, lambda: [e.kind for e in log.rows] == ["close", "close"])
        await pilot.press(*" or (")
        await pilot.press("enter")
        await pilot.pause()
        assert bar.applied == "kind close"  # unchanged
        assert "missing ) for this (" in status_text(app)
        assert [e.kind for e in log.rows] == ["close", "close"]


async def test_search_jumps_between_matches():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await echo_traffic(app, messages=(b"alpha\n", b"beta\n", b"alpha again\n"))
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        log.focus()
        await pilot.press("slash")
        assert app.focused.id == "search-input"
        await pilot.press(*"ALPHA", "enter")
        await pilot.pause()
        first = log.selected
        assert first is not None and b"alpha" in first.payload and app.focused is log
        await pilot.press("n")
        assert log.selected.seq != first.seq and b"alpha" in log.selected.payload
        await pilot.press("N")
        assert log.selected.seq == first.seq


async def test_marks_toggle_and_jump():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        log.focus()
        await pilot.press("home", "down", "m")
        marked = log.selected.seq
        await pilot.press("end", "m")
        assert log.marks == {marked, log.rows[-1].seq}
        await pilot.press("right_square_bracket")
        assert log.selected.seq == marked
        await pilot.press("left_square_bracket")
        assert log.selected.seq == log.rows[-1].seq
        await pilot.press("m")
        assert log.marks == {marked}


async def test_open_file_filter_is_applied_on_start(tmp_path):
    from netlab_tui.commands.open import load_events
    from netlab_tui.engine.core.journal import Journal

    source = NetlabApp()
    async with source.run_test(size=SIZE) as pilot:
        await echo_traffic(source)
        await pilot.press("ctrl+q")
    path = tmp_path / "j.jsonl"
    source.journal.export_jsonl(path)
    journal = Journal()
    for event in load_events(path):
        journal.publish(event)
    app = NetlabApp(journal=journal)
    app.initial_filter = "kind data and out"
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == 4)
        assert app.query_one("#filter-input", Input).value == "kind data and out"
