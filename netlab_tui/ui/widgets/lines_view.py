"""``LinesView``: a long list of tagged lines (a followed stream, a flow graph) with a cursor.

A line-API ``ScrollView`` like the traffic log, so a 50,000-line stream costs no widgets. Each line may
carry the ``seq`` of the event it came from; Enter posts ``LinesView.Jump`` with it, which the screens
turn into "select this event in the log".
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from netlab_tui.engine.inspect.decoders import Line

from .cursor_keys import CURSOR_BINDINGS, scroll_into_view
from .inspector import TAG_STYLES


class LinesView(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        *CURSOR_BINDINGS,
        Binding("enter", "jump", "Go to event", id="lines.jump"),
    ]

    DEFAULT_CSS = """
    LinesView { height: 1fr; scrollbar-size-vertical: 1; }
    LinesView > .lines-view--cursor { background: $accent 30%; }
    LinesView:focus > .lines-view--cursor { background: $accent 60%; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"lines-view--cursor"}

    cursor: reactive[int] = reactive(0, always_update=True)

    class Jump(Message):
        """Enter on a line that came from an event."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    def __init__(self, lines: list[Line] | None = None, seqs: list[int | None] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Line] = []
        self.seqs: list[int | None] = []
        self._styles: dict[str | None, Style] = {}
        if lines is not None:
            self.set_lines(lines, seqs)

    def set_lines(self, lines: list[Line], seqs: list[int | None] | None = None, *, keep_cursor: bool = False) -> None:
        keep_cursor = keep_cursor and bool(self.lines)
        self.lines = lines
        self.seqs = list(seqs) if seqs is not None else [None] * len(lines)
        width = max((sum(len(text) for text, _ in line) for line in lines[:5000]), default=0)
        self.virtual_size = Size(width, len(lines))
        if not keep_cursor:
            self.cursor = self._first_jumpable()
            self.scroll_to(y=0, animate=False, immediate=True)
        else:
            self.cursor = min(self.cursor, max(0, len(lines) - 1))
        self.refresh()

    def _first_jumpable(self) -> int:
        return next((i for i, seq in enumerate(self.seqs) if seq is not None), 0)

    @property
    def current_seq(self) -> int | None:
        return self.seqs[self.cursor] if 0 <= self.cursor < len(self.seqs) else None

    def plain(self) -> str:
        return "\n".join("".join(text for text, _ in line) for line in self.lines)

    # -- rendering -----------------------------------------------------------------------------------
    def _style(self, tag: str | None) -> Style:
        style = self._styles.get(tag)
        if style is None:
            spec = TAG_STYLES.get(tag or "", "")
            style = self._styles[tag] = Style.parse(spec) if spec else Style()
        return style

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        segments = [Segment(text, base + self._style(tag)) for text, tag in self.lines[index]]
        strip = Strip(segments).crop_extend(self.scroll_offset.x, self.scroll_offset.x + width, base)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("lines-view--cursor"))
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    # -- cursor --------------------------------------------------------------------------------------
    def _move(self, index: int) -> None:
        if not self.lines:
            return
        self.cursor = max(0, min(index, len(self.lines) - 1))
        scroll_into_view(self, self.cursor)
        self.refresh()

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self.lines) - 1)

    def action_jump(self) -> None:
        seq = self.current_seq
        if seq is not None:
            self.post_message(self.Jump(seq))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self._move(self.scroll_offset.y + offset.y)
            if event.chain == 2:
                self.action_jump()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.virtual_size.width, len(self.lines))
