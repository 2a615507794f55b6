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
from rich.style import Style
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

# (title, width) per column, widest layout first; the summary takes the rest of the line. The narrow
# layout (a log under 110 columns: 80x24, or beside a lab panel) drops the time — the inspector shows it —
# and shortens the endpoints, so the peer and the summary still show.
WIDE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("no.", 7), ("time", 13), ("source", 24), ("dir", 4), ("proto", 6), ("kind", 9), ("peer", 22), ("size", 7),
)
NARROW_COLUMNS: tuple[tuple[str, int], ...] = (
    ("no.", 6), ("source", 14), ("", 2), ("proto", 6), ("kind", 9), ("peer", 16), ("size", 6),
)
# Under 80 columns (the log beside the tools at 80x24): the session and the size go too — both are one
# key away in the inspector — so that what happened, with whom, and the payload still show.
TINY_COLUMNS: tuple[tuple[str, int], ...] = (("no.", 6), ("", 2), ("proto", 6), ("kind", 9), ("peer", 16))
COLUMNS = WIDE_COLUMNS
NARROW_BELOW = 110
TINY_BELOW = 80
ARROWS = {"in": "←", "out": "→"}
FLUSH_INTERVAL = 1 / 20


def columns_for(width: int) -> tuple[tuple[str, int], ...]:
    if width >= NARROW_BELOW:
        return WIDE_COLUMNS
    return NARROW_COLUMNS if width >= TINY_BELOW else TINY_COLUMNS


def _fit(text: str, width: int) -> str:
    if len(text) > width - 1:
        text = text[: width - 2] + "…"
    return text.ljust(width)


def _over(strip: Strip, style: Style) -> Strip:
    """``style`` laid *over* every segment's own (``Strip.apply_style`` lays it under, so a row's own
    background and colours would hide a selection)."""
    return Strip(list(Segment.apply_style(iter(strip), post_style=style)), strip.cell_length)


class TrafficLogHeader(Static):
    """The column titles, laid out as the log below lays its rows out at this width."""

    DEFAULT_CSS = """
    TrafficLogHeader { height: 1; background: $panel; color: $text-muted; text-style: bold; }
    """

    def render(self) -> str:
        return "".join(_fit(title, width) for title, width in columns_for(self.size.width)) + "summary"


class TrafficLog(ScrollView, can_focus=True):
    HELP: ClassVar[str] = """\
## Traffic log
Every event netlab sees — connections, data in (←) and out (→), closes, errors — one line each,
newest at the bottom, numbered (**no.**) as a capture's packets are. The selected line is highlighted;
search hits are tinted, marked lines stand out. Select a line to open it in the inspector.

- **↑/↓, PgUp/PgDn, Home**: move the selection (following pauses)
- **End** or **f**: follow the newest events again
- **Enter**: inspect the selected event
- **/**: search (then **n** / **N** for the next / previous match); the filter bar above narrows the log
- **m**: mark the selected event; **]** / **[**: next / previous mark
- **s**: follow the selected event's stream; **g**: its flow graph; **c**: all conversations
- **Ctrl+G**: go to an event by its number (the **no.** column)
- **a**: apply a field of the selected event as the filter (its conversation, peer, port, text …)
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
        Binding("a", "apply_as_filter", "Apply as filter", id="log.apply_filter"),
        Binding("ctrl+g", "go_to_event", "Go to no.", show=False, id="log.go_to"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "traffic-log--cursor", "traffic-log--in", "traffic-log--out", "traffic-log--error",
        "traffic-log--meta", "traffic-log--dim", "traffic-log--mark", "traffic-log--match",
        "traffic-log--number",
    }

    DEFAULT_CSS = """
    TrafficLog { height: 1fr; scrollbar-size-vertical: 1; }
    TrafficLog > .traffic-log--cursor { background: $accent 50%; text-style: bold; }
    TrafficLog:focus > .traffic-log--cursor { background: $accent; color: $text; text-style: bold; }
    TrafficLog > .traffic-log--in { color: $success; }
    TrafficLog > .traffic-log--out { color: $warning; }
    TrafficLog > .traffic-log--error { color: $error; text-style: bold; }
    TrafficLog > .traffic-log--meta { color: $text-muted; }
    TrafficLog > .traffic-log--dim { color: $text-disabled; }
    TrafficLog > .traffic-log--mark { background: $secondary 60%; text-style: bold; }
    TrafficLog > .traffic-log--match { background: $warning 35%; }
    TrafficLog > .traffic-log--number { color: $text-muted; }
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
        event = self.rows[index]
        is_cursor = index == self.cursor
        seq = event.seq
        marked = seq in self.marks
        needle = self.search_text.lower()
        match = bool(needle) and self._matches(event, needle)
        key = (seq, width, is_cursor, self.has_focus, marked, match)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(event, width)
            # Over the row's own colours, strongest last: a search hit, a mark, the selection.
            if match:
                strip = _over(strip, self.get_component_rich_style("traffic-log--match"))
            if marked:
                strip = _over(strip, self.get_component_rich_style("traffic-log--mark"))
            if is_cursor:
                strip = _over(strip, self.get_component_rich_style("traffic-log--cursor"))
            self._cache[key] = strip
            if len(self._cache) > 2000:
                self._cache.popitem(last=False)
        return strip

    def _render_row(self, event: TrafficEvent, width: int) -> Strip:
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
        number = self.get_component_rich_style("traffic-log--number")
        columns = columns_for(width)
        size = f"{event.size}" if event.payload is not None else ""
        values = {
            "no.": (str(event.seq).rjust(columns[0][1] - 1), number),
            "source": (event.source, base), "": (ARROWS.get(event.direction or "", " "), style),
            "dir": (ARROWS.get(event.direction or "", " "), style), "proto": (event.proto, base),
            "kind": (event.kind, style), "peer": (event.peer or event.local or "", base),
            "size": (size.rjust(5), dim),
        }
        if columns is WIDE_COLUMNS:
            values["time"] = (time.strftime("%H:%M:%S", time.localtime(event.ts))
                              + f".{int(event.ts * 1000) % 1000:03d}", dim)
        segments = [Segment(_fit(values[title][0], w), base + values[title][1]) for title, w in columns]
        used = sum(w for _t, w in columns)
        segments.append(Segment(event.summary(max(0, width - used)), base + style))
        return Strip(segments).crop_extend(0, width, base)

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
                or needle in event.kind or needle in (event.message or "").lower())

    def search(self, text: str, backwards: bool = False) -> bool:
        """Select the next (previous) event containing ``text`` (case-insensitive), wrapping around."""
        if text != self.search_text:
            self._cache.clear()  # the rows that match change colour
            self.refresh()
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

    def action_go_to_event(self) -> None:
        from netlab_tui.ui.traffic_actions import go_to_event

        go_to_event(self.app)  # type: ignore[arg-type]

    def action_apply_as_filter(self) -> None:
        from netlab_tui.ui.traffic_actions import apply_as_filter

        apply_as_filter(self.app, self.selected)  # type: ignore[arg-type]

    def action_save_capture(self) -> None:
        from netlab_tui.ui.traffic_actions import save_capture

        save_capture(self.app)  # type: ignore[arg-type]
