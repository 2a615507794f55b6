"""The live traffic log: every journal event, one line each, fast whatever the flood.

A line-API ``ScrollView`` (Toolong's ``LogLines`` is the model): rows are rendered on demand in
``render_line`` from the events held, so a million rows cost no widgets. Events arrive through
``add`` (called by the app's journal subscriber) and are folded in at most 20 times a second.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from netlab_tui.engine.core.events import TrafficEvent

from .cursor_keys import CURSOR_BINDINGS, scroll_into_view
from .wake_timer import WakeTimer

# (title, width) — the summary takes the rest of the line.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("time", 13), ("source", 26), ("dir", 4), ("proto", 6), ("kind", 8), ("peer", 22), ("size", 7),
)
ARROWS = {"in": "←", "out": "→"}
FLUSH_INTERVAL = 1 / 20


def _fit(text: str, width: int) -> str:
    if len(text) > width - 1:
        text = text[: width - 2] + "…"
    return text.ljust(width)


class TrafficLogHeader(Static):
    DEFAULT_CSS = """
    TrafficLogHeader { height: 1; background: $panel; color: $text-muted; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("".join(_fit(title, width) for title, width in COLUMNS) + "summary", **kwargs)


class TrafficLog(ScrollView, can_focus=True):
    HELP: ClassVar[str] = """\
## Traffic log
Every event netlab sees — connections, data in (←) and out (→), closes, errors — one line each,
newest at the bottom. Select a line to open it in the inspector.

- **↑/↓, PgUp/PgDn, Home**: move the selection (following pauses)
- **End** or **f**: follow the newest events again
- **Enter**: inspect the selected event
- **/**: search (then **n** / **N** for the next / previous match); the filter bar above narrows the log
- **m**: mark the selected event; **]** / **[**: next / previous mark
- **s**: follow the selected event's stream; **g**: its flow graph; **c**: all conversations
- **Ctrl+S**: save the events shown as a pcap capture (Wireshark, tshark)
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        *CURSOR_BINDINGS,
        Binding("f", "toggle_follow", "Follow", id="log.follow"),
        Binding("enter", "inspect", "Inspect", show=False),
        # filter, search, marks and the conversation views
        Binding("slash", "search", "Search", show=False),
        Binding("n", "search_next", "Next match", show=False),
        Binding("N", "search_prev", "Previous match", show=False),
        Binding("m", "toggle_mark", "Mark", id="log.mark"),
        Binding("right_square_bracket", "next_mark", "Next mark", show=False),
        Binding("left_square_bracket", "prev_mark", "Previous mark", show=False),
        Binding("s", "follow_stream", "Stream", id="log.stream"),
        Binding("c", "conversations", "Conversations", id="log.conversations"),
        Binding("g", "flow_graph", "Flow graph", id="log.flow"),
        Binding("ctrl+s", "save_capture", "Save pcap", id="log.save_capture"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "traffic-log--cursor", "traffic-log--in", "traffic-log--out", "traffic-log--error",
        "traffic-log--meta", "traffic-log--dim", "traffic-log--mark",
    }

    DEFAULT_CSS = """
    TrafficLog { height: 1fr; scrollbar-size-vertical: 1; }
    TrafficLog > .traffic-log--cursor { background: $accent 40%; }
    TrafficLog:focus > .traffic-log--cursor { background: $accent; color: $text; }
    TrafficLog > .traffic-log--in { color: $success; }
    TrafficLog > .traffic-log--out { color: $warning; }
    TrafficLog > .traffic-log--error { color: $error; text-style: bold; }
    TrafficLog > .traffic-log--meta { color: $text-muted; }
    TrafficLog > .traffic-log--dim { color: $text-disabled; }
    TrafficLog > .traffic-log--mark { background: $secondary 45%; text-style: bold; }
    """

    cursor: reactive[int] = reactive(-1, always_update=True)
    follow: reactive[bool] = reactive(True)

    class Selected(Message):
        """The selection moved to ``event`` (None when the log is empty)."""

        def __init__(self, event: TrafficEvent | None) -> None:
            super().__init__()
            self.event = event

    class Inspect(Message):
        def __init__(self, event: TrafficEvent) -> None:
            super().__init__()
            self.event = event

    def __init__(self, max_rows: int = 200_000, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_rows = max_rows
        self.rows: list[TrafficEvent] = []
        self.pending: list[TrafficEvent] = []
        self.received = 0  # events handed to the log, ever
        self.trimmed = 0  # rows let go to stay under max_rows
        self._cache: OrderedDict[tuple, Strip] = OrderedDict()
        self.predicate: Callable[[TrafficEvent], bool] | None = None  # the filter bar's, None = all
        self.marks: set[int] = set()  # seqs marked with m
        self.search_text = ""
        self._flusher: WakeTimer | None = None

    def on_mount(self) -> None:
        # Ticks only while events arrive: an idle log sleeps.
        self._flusher = WakeTimer(self, FLUSH_INTERVAL, self.flush, name="traffic-log-flush")
        if self.pending:
            self._flusher.wake()

    # -- feeding -------------------------------------------------------------------------------------
    def add(self, event: TrafficEvent) -> None:
        """Queue an event; cheap enough to call for every journal event."""
        self.pending.append(event)
        flusher = self._flusher
        if flusher is not None and not flusher.active:
            flusher.wake()

    def flush(self) -> bool:
        """Fold the queued events in; returns whether there were any."""
        if not self.pending:
            return False
        batch, self.pending = self.pending, []
        self.received += len(batch)
        if self.predicate is not None:
            predicate = self.predicate
            batch = [e for e in batch if predicate(e)]
            if not batch:
                return True
        self.rows.extend(batch)
        excess = len(self.rows) - self.max_rows
        if excess > self.max_rows // 10:  # trim in chunks: deleting a list head is O(n)
            del self.rows[:excess]
            self.trimmed += excess
            self.cursor = max(-1, self.cursor - excess)
            self._cache.clear()
        self._set_row_count()
        if self.follow:
            self.scroll_end(animate=False, immediate=True)
            self._move_cursor(len(self.rows) - 1, keep_follow=True)
        self.refresh()
        return True

    def _set_row_count(self) -> None:
        """Make the scroll range fit the rows held. Assigning ``virtual_size`` asks for a layout of the
        whole screen (10-20 ms with every pane mounted), 20 times a second during a flood, though only
        the scroll range changes: set it quietly and update the scrollbar; lay the screen out again only
        when the scrollbar appears or goes (the log's width changes then)."""
        size = Size(self.size.width, len(self.rows))
        if size == self.virtual_size:
            return
        had_scrollbar = self.show_vertical_scrollbar
        self.set_reactive(TrafficLog.virtual_size, size)
        self._scroll_update(size)  # Textual's own update of scrollbars and scroll limits (pinned 8.2.8)
        if self.show_vertical_scrollbar != had_scrollbar:
            self.refresh(layout=True)

    def clear(self) -> None:
        self.rows.clear()
        self.pending.clear()
        self._cache.clear()
        self.cursor = -1
        self.virtual_size = Size(self.size.width, 0)
        self.post_message(self.Selected(None))
        self.refresh()

    @property
    def selected(self) -> TrafficEvent | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def select_seq(self, seq: int) -> bool:
        """Move the selection to the event with journal sequence ``seq`` (jump from other views)."""
        self.flush()
        lo, hi = 0, len(self.rows) - 1
        while lo <= hi:  # rows are in seq order
            mid = (lo + hi) // 2
            value = self.rows[mid].seq
            if value == seq:
                self._move_cursor(mid)
                return True
            if value < seq:
                lo = mid + 1
            else:
                hi = mid - 1
        return False

    # -- rendering -----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_y = self.scroll_offset.y
        index = scroll_y + y
        width = self.size.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        is_cursor = index == self.cursor
        seq = self.rows[index].seq
        marked = seq in self.marks
        key = (seq, width, is_cursor, self.has_focus, marked)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(self.rows[index], width, is_cursor)
            if marked:
                strip = strip.apply_style(self.get_component_rich_style("traffic-log--mark"))
            self._cache[key] = strip
            if len(self._cache) > 2000:
                self._cache.popitem(last=False)
        return strip

    def _render_row(self, event: TrafficEvent, width: int, is_cursor: bool) -> Strip:
        base = self.rich_style
        if event.kind == "error":
            style = self.get_component_rich_style("traffic-log--error")
        elif event.direction == "in":
            style = self.get_component_rich_style("traffic-log--in")
        elif event.direction == "out":
            style = self.get_component_rich_style("traffic-log--out")
        else:
            style = self.get_component_rich_style("traffic-log--meta")
        dim = self.get_component_rich_style("traffic-log--dim")
        stamp = time.strftime("%H:%M:%S", time.localtime(event.ts)) + f".{int(event.ts * 1000) % 1000:03d}"
        size = f"{event.size}" if event.payload is not None else ""
        cells = (
            (stamp, dim), (event.source, base), (ARROWS.get(event.direction or "", " "), style),
            (event.proto, base), (event.kind, style), (event.peer or event.local or "", base),
            (size.rjust(COLUMNS[6][1] - 2), dim),
        )
        segments = [Segment(_fit(text, w), st) for (text, st), (_title, w) in zip(cells, COLUMNS)]
        used = sum(w for _t, w in COLUMNS)
        segments.append(Segment(event.summary(max(0, width - used)), style))
        strip = Strip(segments).crop_extend(0, width, base)
        if is_cursor:
            strip = strip.apply_style(self.get_component_rich_style("traffic-log--cursor"))
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self.virtual_size = Size(event.size.width, len(self.rows))

    def _on_focus(self, event: events.Focus) -> None:
        self._cache.clear()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._cache.clear()
        self.refresh()

    # -- selection -----------------------------------------------------------------------------------
    def _move_cursor(self, index: int, keep_follow: bool = False) -> None:
        if not self.rows:
            return
        index = max(0, min(index, len(self.rows) - 1))
        if not keep_follow:
            self.follow = index == len(self.rows) - 1 and self.follow
        if index != self.cursor:
            self.cursor = index
            self.post_message(self.Selected(self.rows[index]))
        self.scroll_to_cursor()
        self.refresh()

    def scroll_to_cursor(self) -> None:
        scroll_into_view(self, self.cursor)

    def action_cursor_up(self) -> None:
        self.follow = False
        self._move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.follow = False
        self._move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.follow = False
        self._move_cursor(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self.follow = False
        self._move_cursor(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.follow = False
        self._move_cursor(0)

    def action_last(self) -> None:
        self.follow = True
        self._move_cursor(len(self.rows) - 1, keep_follow=True)

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if self.follow:
            self.action_last()
        self.notify("following new events" if self.follow else "paused: new events are kept below",
                    timeout=2)

    def action_inspect(self) -> None:
        if self.selected is not None:
            self.post_message(self.Inspect(self.selected))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if 0 <= index < len(self.rows):
            self.follow = False
            self._move_cursor(index)

    # -- filter, search, marks, conversation views -------------------------------------------------------
    def set_filter(self, predicate: Callable[[TrafficEvent], bool] | None, events: Iterable[TrafficEvent]) -> None:
        """Show only ``events`` (the journal's) that pass ``predicate``; the selection stays on the same
        event when it still shows."""
        self.flush()
        selected = self.selected
        self.predicate = predicate
        self.rows = list(events) if predicate is None else [e for e in events if predicate(e)]
        self.pending.clear()
        self._cache.clear()
        self.cursor = -1
        self.virtual_size = Size(self.size.width, len(self.rows))
        if selected is not None and not self.follow and self.select_seq(selected.seq):
            return
        if self.rows:
            self._move_cursor(len(self.rows) - 1, keep_follow=True)
            self.scroll_end(animate=False, immediate=True)
        else:
            self.post_message(self.Selected(None))
        self.refresh()

    def _matches(self, event: TrafficEvent, needle: str) -> bool:
        text = event.text or ""
        return (needle in text.lower() or needle in event.source.lower() or needle in (event.peer or "")
                or needle in event.kind)

    def search(self, text: str, backwards: bool = False) -> bool:
        """Select the next (previous) event containing ``text`` (case-insensitive), wrapping around."""
        self.search_text = text
        needle = text.lower()
        if not needle or not self.rows:
            return False
        count = len(self.rows)
        start = self.cursor if self.cursor >= 0 else (count - 1 if not backwards else 0)
        step = -1 if backwards else 1
        for offset in range(1, count + 1):
            index = (start + step * offset) % count
            if self._matches(self.rows[index], needle):
                self.follow = False
                self._move_cursor(index)
                return True
        self.notify(f"no event contains {text!r}", severity="warning", timeout=2)
        return False

    def action_search(self) -> None:
        self.screen.query_one("#search-input").focus()

    def action_search_next(self) -> None:
        if self.search_text:
            self.search(self.search_text)

    def action_search_prev(self) -> None:
        if self.search_text:
            self.search(self.search_text, backwards=True)

    def action_toggle_mark(self) -> None:
        event = self.selected
        if event is None:
            return
        self.marks.symmetric_difference_update({event.seq})
        self._cache.clear()
        self.refresh()

    def _jump_mark(self, step: int) -> None:
        if not self.marks or not self.rows:
            self.notify("no marks: m marks the selected event", timeout=2)
            return
        count = len(self.rows)
        start = self.cursor if self.cursor >= 0 else 0
        for offset in range(1, count + 1):
            index = (start + step * offset) % count
            if self.rows[index].seq in self.marks:
                self.follow = False
                self._move_cursor(index)
                return
        self.notify("the marked events are hidden by the filter", timeout=2)

    def action_next_mark(self) -> None:
        self._jump_mark(1)

    def action_prev_mark(self) -> None:
        self._jump_mark(-1)

    def action_follow_stream(self) -> None:
        from netlab_tui.ui.traffic_actions import open_follow_stream

        open_follow_stream(self.app)  # type: ignore[arg-type]

    def action_conversations(self) -> None:
        from netlab_tui.ui.traffic_actions import open_conversations

        open_conversations(self.app)  # type: ignore[arg-type]

    def action_flow_graph(self) -> None:
        from netlab_tui.ui.traffic_actions import open_flow_graph

        open_flow_graph(self.app)  # type: ignore[arg-type]

    def action_save_capture(self) -> None:
        from netlab_tui.ui.traffic_actions import save_capture

        save_capture(self.app)  # type: ignore[arg-type]
