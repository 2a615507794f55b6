"""The traffic log driven by keys: the selected row, search hits and marks are visibly highlighted, the
packet-number column, whole kinds, and the columns kept in a narrow log (issue 12, item 1)."""

import pytest

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.traffic_log import TrafficLog, TrafficLogHeader
from tests.ui.helpers import SIZE, wait_for
from tests.ui.traffic_helpers import echo_traffic


def _backgrounds(log: TrafficLog, index: int) -> set:
    """The background colours of every cell of row ``index`` as the log draws it."""
    y = index - log.scroll_offset.y
    assert 0 <= y < log.size.height, "the row is scrolled out of view"
    strip = log.render_line(y)
    return {segment.style.bgcolor for segment in strip if segment.text.strip()}


def _row_text(log: TrafficLog, index: int) -> str:
    return log.render_line(index - log.scroll_offset.y).text


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_f3_up_highlights_the_selected_row_over_its_own_colours(size):
    app = NetlabApp()
    async with app.run_test(size=size) as pilot:
        await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: sum(e.kind == "data" for e in log.rows) == 8)
        await pilot.press("f3", "up")
        await pilot.pause()
        assert log.has_focus and not log.follow
        cursor = log.cursor
        assert cursor == len(log.rows) - 2
        selected = _backgrounds(log, cursor)
        others = _backgrounds(log, cursor - 1) | _backgrounds(log, cursor + 1)
        accent = log.get_component_rich_style("traffic-log--cursor").bgcolor
        assert selected == {accent}, "every cell of the selected row has the selection's background"
        assert accent not in others
        # The packet number leads the row; kinds are whole ("response" was cut to "respon…").
        assert _row_text(log, cursor).split()[0] == str(log.rows[cursor].seq)
        header = app.query_one(TrafficLogHeader)
        assert str(header.render()).startswith("no.")
        assert "peer" in str(header.render()) and "summary" in str(header.render())
        await pilot.press("ctrl+q")


async def test_search_hits_and_marks_are_highlighted():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await echo_traffic(app, messages=(b"Hello\n", b"other\n"))
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: sum(e.kind == "data" for e in log.rows) == 8)
        plain = {log.rich_style.bgcolor}
        await pilot.press("f3", "slash", *"other", "enter")
        await pilot.pause()
        hits = [i for i, e in enumerate(log.rows) if e.payload == b"other\n"]
        assert log.cursor == hits[0]
        match = log.get_component_rich_style("traffic-log--match").bgcolor
        for index in hits[1:]:
            assert _backgrounds(log, index) == {match}, "a search hit is highlighted"
        hello = next(i for i, e in enumerate(log.rows) if e.payload == b"Hello\n")
        assert _backgrounds(log, hello) <= plain | {None}
        # m marks: the mark shows once the selection moves on.
        await pilot.press("m", "home")
        await pilot.pause()
        mark = log.get_component_rich_style("traffic-log--mark").bgcolor
        assert _backgrounds(log, hits[0]) == {mark}
        await pilot.press("ctrl+q")


async def test_a_narrow_log_keeps_peer_kind_and_summary():
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: any(e.kind == "data" for e in log.rows))
        index = next(i for i, e in enumerate(log.rows) if e.kind == "data" and e.peer)
        text = _row_text(log, index)
        event = log.rows[index]
        assert event.kind in text and "Hello" in text
        assert event.peer.split(":")[0] in text
        await pilot.press("ctrl+q")


async def test_go_to_event_by_number_and_palette_entries_for_the_log_keys():
    from textual.command import CommandPalette

    from netlab_tui.ui.screens.go_to_event import GoToEventScreen

    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        target = log.rows[2].seq
        await pilot.press("f3", "ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, GoToEventScreen))
        await pilot.press("9", "9", "9", "enter")  # out of range: said, not a crash
        assert isinstance(app.screen, GoToEventScreen)
        assert "from 1 to" in str(app.screen.query_one("#goto-error").render())
        await pilot.press("backspace", "backspace", "backspace", *str(target), "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, GoToEventScreen))
        assert log.selected.seq == target and log.has_focus
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for wanted in ("Go to event (ctrl+g)", "Apply as filter", "Inspector full screen (z)",
                       "Mark the selected event (m)", "Search the traffic log (/)"):
            assert wanted in titles
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Inspector full screen")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen_stack[0].maximized is not None)
        await pilot.press("ctrl+q")
