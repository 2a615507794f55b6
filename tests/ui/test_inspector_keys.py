"""The inspector driven by keys: hex rows of 16 bytes that never wrap at the widths the layout gives, the
inspector full-screen at 80x24, Apply as Filter, and F1's titles and filter help (issue 12, item 6)."""

import re

import pytest
from textual.widgets import Markdown, Static

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.screens.apply_filter import ApplyFilterScreen
from netlab_tui.ui.screens.help import HelpScreen
from netlab_tui.ui.widgets.filter_bar import FilterBar
from netlab_tui.ui.widgets.inspector import Inspector
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for
from tests.ui.traffic_helpers import echo_traffic

PAYLOAD = b"Hello, netlab! 0123456789abcdefghijklmnopqrstuvwxyz\n"  # 52 bytes: three full rows and a tail


def _hex_rows(inspector: Inspector) -> list[str]:
    return [line for line in inspector.rendered_text().splitlines() if re.match(r"^[0-9a-f]{4,8} ", line)]


def _bytes_in(row: str) -> int:
    hex_part = row.split(" ", 1)[1]
    hex_part = hex_part.split("|")[0]
    # classic/compact: "48 65 …"; tight/hex: "48656c6c 6f2c…"; the ASCII column follows two spaces or one
    digits = re.match(r"^[ 0-9a-f]*", hex_part).group(0)
    tokens = digits.split()
    if tokens and all(len(t) == 2 for t in tokens):
        return len(tokens)
    return sum(len(t) // 2 for t in tokens if len(t) in (2, 4, 6, 8) and all(c in "0123456789abcdef" for c in t))


async def _select_payload(app, pilot) -> None:
    await echo_traffic(app, messages=(PAYLOAD,))
    log = app.query_one(TrafficLog)
    await wait_for(pilot, lambda: sum(e.kind == "data" for e in log.rows) == 4)
    await pilot.press("f3")
    while log.selected is None or log.selected.payload != PAYLOAD:
        await pilot.press("up")


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_hex_rows_are_16_bytes_and_never_wrap(size):
    app = NetlabApp()
    async with app.run_test(size=size) as pilot:
        await _select_payload(app, pilot)
        await pilot.press("f4")
        inspector = app.query_one(Inspector)
        await wait_for(pilot, lambda: inspector.current_view is not None)
        while inspector.current_view != "hex":
            await pilot.press("right")
        await pilot.pause()
        if size == (80, 24):  # a narrow terminal opens the inspector full-screen
            assert app.screen.has_class("-inspector-full") and inspector.size.width >= 76
        else:
            assert app.screen.maximized is None
        view = inspector.query_one("#inspector-view", Static)
        rows = _hex_rows(inspector)
        assert len(rows) == 4, inspector.rendered_text()
        assert [_bytes_in(row) for row in rows] == [16, 16, 16, 4]
        # Nothing wraps: the view is exactly as many lines as the text has, each within the width.
        assert view.size.height == inspector.rendered_text().count("\n") + 1
        assert all(len(line) <= view.size.width for line in inspector.rendered_text().splitlines())
        # z toggles full-screen where there is room for the classic dump with its ASCII column.
        await pilot.press("z")
        await pilot.pause()
        if size == SIZE:
            assert app.screen.maximized is inspector
            await wait_for(pilot, lambda: "|Hello, netlab! 0|" in inspector.rendered_text())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.maximized is None
        await pilot.press("ctrl+q")


async def test_apply_as_filter_from_the_selected_event():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server, _client = await echo_traffic(app, messages=(b"Hello\n",))
        await echo_traffic(app, messages=(b"other\n",), server=server)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: sum(e.kind == "data" for e in log.rows) == 8)
        await pilot.press("f3")
        while log.selected is None or log.selected.payload != b"Hello\n":
            await pilot.press("up")
        conn = log.selected.conn
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ApplyFilterScreen))
        await pilot.press("enter")  # the first field: this conversation
        bar = app.query_one(FilterBar)
        await wait_for(pilot, lambda: bar.applied == f"conn {conn}")
        await pilot.pause()
        assert log.rows and all(e.conn == conn for e in log.rows)
        # ! hides what is like the selected event, and'ed with the current filter.
        while log.selected.kind != "data":
            await pilot.press("up")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ApplyFilterScreen))
        options = app.screen.query_one("#apply-filter-options")
        terms = [term for term, _ in app.screen.terms]
        for _ in range(terms.index("kind data")):
            await pilot.press("down")
        assert options.highlighted == terms.index("kind data")
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: bar.applied == f"(conn {conn}) and not (kind data)")
        await pilot.pause()
        assert log.rows and all(e.conn == conn and e.kind != "data" for e in log.rows)
        await pilot.press("ctrl+q")


async def test_help_titles_name_the_area_and_the_filter_help_wraps():
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3", "f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.screen.help_title == "Traffic log"
        await pilot.press("escape", "ctrl+f", "f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.screen.help_title == "Filter and search"
        markdown = app.screen.query_one(Markdown)
        await pilot.pause()
        # Nothing runs past the right edge: no block (a code fence) is wider than the help box.
        box = app.screen.query_one("#help-markdown")
        assert "```" not in app.screen.markdown
        for block in markdown.query("*"):
            assert block.virtual_size.width <= box.size.width
        assert "meta.KEY" in app.screen.markdown
        await pilot.press("escape", "ctrl+q")
