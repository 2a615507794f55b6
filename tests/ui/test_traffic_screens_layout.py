"""The traffic views' screens at 80x24 and 140x42: nothing collapsed to zero size, nothing cut."""

import pytest
from textual.widget import Widget

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.screens.apply_filter import ApplyFilterScreen
from netlab_tui.ui.screens.conversations import ConversationsScreen
from netlab_tui.ui.screens.flow_graph import FlowGraphScreen
from netlab_tui.ui.screens.follow_stream import FollowStreamScreen
from netlab_tui.ui.screens.go_to_event import GoToEventScreen
from netlab_tui.ui.screens.help import HelpScreen
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for
from tests.ui.traffic_helpers import echo_traffic

SCREENS = [("c", ConversationsScreen), ("s", FollowStreamScreen), ("g", FlowGraphScreen),
           ("a", ApplyFilterScreen), ("ctrl+g", GoToEventScreen), ("f1", HelpScreen)]


def collapsed(screen) -> list[str]:
    """Displayed widgets of ``screen`` with no width or no height (a widget squeezed out of sight)."""
    out = []
    for widget in screen.query("*").results(Widget):
        if not widget.display or not widget.visible:
            continue
        if widget.size.width == 0 or widget.size.height == 0:
            out.append(f"{type(widget).__name__}#{widget.id} {widget.size}")
    return out


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_every_traffic_screen_keeps_its_widgets_on_screen(size):
    app = NetlabApp()
    async with app.run_test(size=size) as pilot:
        await echo_traffic(app)
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        for key, screen_cls in SCREENS:
            await pilot.press("f3", "up")
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, screen_cls), what=screen_cls.__name__)
            await pilot.pause()
            assert collapsed(app.screen) == [], f"{screen_cls.__name__} at {size}"
            region = app.screen.region
            for child in app.screen.children:
                assert region.contains_region(child.region), f"{screen_cls.__name__}: {child} is cut"
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("ctrl+q")
