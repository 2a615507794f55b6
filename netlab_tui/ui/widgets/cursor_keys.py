"""The cursor keys of netlab's line lists (the traffic log, a followed stream, a flow graph).

A widget that uses them defines ``action_cursor_up``, ``action_cursor_down``, ``action_page_up``,
``action_page_down``, ``action_first`` and ``action_last``.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.scroll_view import ScrollView

CURSOR_BINDINGS: list[BindingType] = [
    Binding("up", "cursor_up", "Up", show=False),
    Binding("down", "cursor_down", "Down", show=False),
    Binding("pageup", "page_up", "Page up", show=False),
    Binding("pagedown", "page_down", "Page down", show=False),
    Binding("home", "first", "First", show=False),
    Binding("end", "last", "Last", show=False),
]


def scroll_into_view(view: ScrollView, line: int) -> None:
    """Scroll ``view`` as little as needed for ``line`` to show."""
    height = view.scrollable_content_region.height
    top = view.scroll_offset.y
    if line < top:
        view.scroll_to(y=line, animate=False, immediate=True)
    elif line >= top + height:
        view.scroll_to(y=line - height + 1, animate=False, immediate=True)
