"""A small laptop terminal (100x30): every tool's buttons and fields are on screen and usable."""

from __future__ import annotations

from textual.widgets import Button, Input, Select

from netlab_tui.ui.app import NetlabApp

SMALL = (100, 30)


async def test_every_pane_keeps_its_buttons_and_fields_on_screen_in_a_small_terminal():
    app = NetlabApp()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-narrow") and app.screen.has_class("-short")
        screen = app.screen.region
        for pane_id in app.pane_ids:
            pane = await app.open_pane(pane_id)
            await pilot.pause(0.2)
            for widget in [*pane.query(Button), *pane.query(Input), *pane.query(Select)]:
                if not widget.display or not widget.visible or any(not a.display for a in widget.ancestors_with_self
                                                                    if hasattr(a, "display")):
                    continue
                region = widget.region
                if region.height == 0:  # inside a collapsed section or a scrolled-away tab
                    continue
                where = f"{pane_id}: #{widget.id or widget.__class__.__name__}"
                assert region.right <= screen.right and region.bottom <= screen.bottom, f"{where} off screen"
                if isinstance(widget, Button):  # its whole label
                    least = len(str(widget.label)) + (0 if widget.compact else 2)
                else:  # a field shows a few characters inside its frame
                    least = 5 if widget.compact else 10
                assert region.width >= least, f"{where} squeezed to {region.width} columns"
            for select in pane.query(Select):
                if select.region.height:  # one row when compact, three with its border; never taller
                    rows = 1 if select.compact else 3
                    assert select.region.height == rows, f"{pane_id}: #{select.id} grew to {select.region.height} rows"
        await pilot.press("ctrl+q")
