"""``NetlabCheckbox``: a checkbox whose mark says its state in any palette and terminal.

Textual's ``Checkbox`` always draws ``▐X▌`` and tells on from off by the X's colour alone; with a
transparent background (or a 16-colour terminal) every box looks ticked. This one draws the X only
when ticked (``▐ ▌`` when not).
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class NetlabCheckbox(Checkbox):
    @property
    def _button(self) -> Content:
        if self.value:
            return super()._button
        self.BUTTON_INNER = " "  # this instance only, for this one drawing
        try:
            return super()._button
        finally:
            del self.BUTTON_INNER
