"""The sidebar table names every pane without importing it; it must agree with the pane classes."""

from netlab_tui.ui.panes import PANES, pane_classes
from netlab_tui.ui.widgets.base import NetlabPane


def test_the_table_matches_the_pane_classes():
    classes = pane_classes()
    assert len({ref.pane_id for ref in PANES}) == len(PANES)
    for ref, cls in zip(PANES, classes):
        assert issubclass(cls, NetlabPane)
        assert (cls.PANE_ID, cls.PANE_TITLE) == (ref.pane_id, ref.title), ref.module
        assert cls.HELP.strip(), f"{ref.pane_id} has no F1 help"


async def test_a_pane_is_built_the_first_time_it_is_shown_and_its_actions_are_named_before():
    """Only the first pane is built at start (all eleven cost a second of CPU and 44 MB); the others are
    built on first show — by the keyboard, the palette, a server's client key or a lab action."""
    from textual.widgets import ContentSwitcher

    from netlab_tui.ui.app import NetlabApp
    from tests.ui.helpers import SIZE, settle, wait_for

    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        assert [pane.id for pane in app.query(NetlabPane)] == ["servers"]
        # The palette names the buttons of a pane never shown, and pressing one builds and shows it.
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        assert "TCP client: Connect" in commands and "Shell: Run" in commands
        assert [pane.id for pane in app.query(NetlabPane)] == ["servers"]  # naming them built nothing
        commands["Shell: Run"].callback()
        switcher = app.query_one("#panes", ContentSwitcher)
        await wait_for(pilot, lambda: switcher.current == "shell", what="the Shell pane shown")
        # The keyboard: F2, the next tool, Enter — built, shown and focused.
        await pilot.press("f2", "home", "down", "enter")
        await wait_for(pilot, lambda: switcher.current == "tcp-client", what="the TCP client shown")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "tcp-host",
                       what="the TCP client's first field focused")
        assert sorted(pane.id for pane in app.query(NetlabPane)) == ["servers", "shell", "tcp-client"]
        await pilot.press("ctrl+q")


async def test_arrowing_through_the_tools_builds_only_where_the_highlight_stops():
    from textual.widgets import ContentSwitcher

    from netlab_tui.ui.app import NetlabApp
    from tests.ui.helpers import SIZE, settle, wait_for

    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2", "home", *["down"] * 6)  # past five tools, to Shell
        switcher = app.query_one("#panes", ContentSwitcher)
        await wait_for(pilot, lambda: switcher.current == "shell", what="the Shell pane shown")
        assert sorted(pane.id for pane in app.query(NetlabPane)) == ["servers", "shell"]
        await pilot.press("home")  # back to a pane already built: shown at once
        await pilot.pause()
        assert switcher.current == "servers"
        await pilot.press("ctrl+q")
