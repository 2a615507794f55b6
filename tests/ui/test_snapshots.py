"""The one snapshot of the TUI: the screen a user sees at start in a 140x42 terminal.

Kept to one on purpose (they break on any visual change): regenerate with
``./dev test tests/ui/test_snapshots.py --snapshot-update`` after an intended change, and look at it.
"""

from netlab_tui.ui.app import NetlabApp


def test_start_screen(snap_compare):
    async def settle(pilot):
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(NetlabApp(), terminal_size=(140, 42), run_before=settle)
