"""The inspector: the selected event's details and its payload through every decoder that fits.

One tab per fitting decoder (best fit first and selected, as mitmproxy's "auto"); the hex dump is
always offered. Rendering comes from ``engine.decoders`` as tagged spans; tags become styles here.
"""

from __future__ import annotations

import json
import time
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, Tab, Tabs

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.inspect.decoders import View, decode, decoders, ranked

TAG_STYLES = {
    "offset": "dim cyan",
    "hex": "",
    "ascii": "green",
    "dim": "dim",
    "ctrl": "bold magenta",
    "key": "bold blue",
    "string": "green",
    "number": "cyan",
    "keyword": "yellow",
    "warning": "bold red",
    "error": "red",
    "header": "bold",
    "in": "green",
    "out": "yellow",
}
MAX_RENDER_LINES = 5000


FULL_SCREEN_BELOW = 100  # a terminal narrower than this opens the inspector full-screen (F4, Enter)


def view_to_text(view: View, max_lines: int = MAX_RENDER_LINES, wrap: bool = True) -> Text:
    # A hex dump is laid out for the width it is shown at and must never wrap (a row is 16 bytes).
    text = Text(no_wrap=not wrap, overflow="fold" if wrap else "crop")
    if view.note:
        text.append(f"⚠ {view.note}\n", style="bold yellow")
    for number, line in enumerate(view.lines):
        if number >= max_lines:
            text.append(f"… {len(view.lines) - max_lines:,} more lines\n", style="dim")
            break
        for chunk, tag in line:
            text.append(chunk, style=TAG_STYLES.get(tag or "", "") or None)
        text.append("\n")
    return text


def event_details(event: TrafficEvent) -> Text:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.ts)) + f".{int(event.ts * 1e6) % 1_000_000:06d}"
    arrow = {"in": "← in (received by netlab)", "out": "→ out (sent by netlab)"}.get(event.direction or "", "—")
    text = Text()
    text.append(f"#{event.seq} ", style="bold")
    text.append(f"{event.proto} {event.kind}", style="bold cyan")
    text.append(f"  {arrow}\n")
    text.append(f"{stamp}  ", style="dim")
    text.append(f"{event.source}\n")
    if event.local or event.peer:
        text.append(f"local {event.local or '—'}   peer {event.peer or '—'}   conn {event.conn or '—'}\n")
    if event.payload is not None:
        text.append(f"{event.size:,} bytes\n", style="bold")
    elif event.message:
        text.append(event.message + "\n")
    if event.meta:
        text.append(json.dumps(event.meta, ensure_ascii=False, default=str)[:500] + "\n", style="dim")
    return text


class Inspector(Vertical):
    ALLOW_MAXIMIZE = True  # z, or F4 in a narrow terminal
    HELP: ClassVar[str] = """\
## Inspector
Shows the event selected in the traffic log: when and where it happened, and its payload through
each view that fits — the best first. **Hex** is always there: offsets, 16 bytes a line and the
ASCII column. **Text** shows control characters (`\\r`, `\\n`, `\\x00`) instead of hiding them.

- **←/→** on the tabs: switch views; **v**: pick any view (or auto) from a list
- **e**: the text view's encoding (auto, utf-8, latin-1, cp1252, utf-16 …)
- **s**: follow this event's stream; **g**: its flow graph
- **z**: full-screen (again, or **Esc**, to restore); a terminal under 100 columns opens it full-screen
- **a**: apply a field of this event as the log's filter (Wireshark's *Apply as Filter*)

The hex dump keeps 16 bytes a row at any width: it narrows its layout to fit the inspector
(4-digit offsets, then bytes grouped by four, then bytes without the ASCII column).
"""

    BINDINGS = [
        Binding("v", "choose_view", "View…", id="inspector.view"),
        Binding("e", "cycle_encoding", "Encoding", id="inspector.encoding"),
        Binding("s", "follow_stream", "Stream", id="inspector.stream"),
        Binding("g", "flow_graph", "Flow graph", id="inspector.flow"),
        Binding("z", "toggle_full_screen", "Full screen", id="inspector.full_screen"),
        Binding("a", "apply_as_filter", "Apply as filter", id="inspector.apply_filter"),
    ]

    DEFAULT_CSS = """
    Inspector { border: round $primary-darken-2; border-title-color: $text; }
    Inspector:focus-within { border: round $accent; }
    Inspector #inspector-details { height: auto; max-height: 7; padding: 0 1; }
    Inspector Tabs { height: 2; }
    Inspector #inspector-body { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    Inspector #inspector-empty { color: $text-muted; padding: 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.event: TrafficEvent | None = None
        self._views: dict[str, str] = {}  # tab id -> decoder name
        self._generation = 0  # tab ids are unique per shown event: Tabs.clear() completes later
        self.encoding = "auto"  # the text view's encoding (e cycles)
        self._tab_ops: list = []  # Tabs' pending clear/add operations (AwaitComplete)
        self._deferred: TrafficEvent | None = None
        self._retry_timer = None
        self._shapes: dict[str, tuple[int, int] | None] = {}  # Static id -> (width, height) last shown
        self._rendered_columns = -1  # the width the current view was laid out for

    def compose(self) -> ComposeResult:
        yield Static(Text("Select an event in the traffic log to inspect it.", style="dim"),
                     id="inspector-details")
        yield Tabs(id="inspector-tabs")
        with VerticalScroll(id="inspector-body"):
            yield Static("", id="inspector-view")

    def on_mount(self) -> None:
        self.border_title = "Inspector"

    def show(self, event: TrafficEvent | None) -> None:
        if event is not None and event is self.event and self._views:
            return  # selected, then inspected (Enter): already shown, keep the chosen view
        details = self.query_one("#inspector-details", Static)
        tabs = self.query_one("#inspector-tabs", Tabs)
        if event is not None and event.payload is not None and self._views:
            names = [decoder.name for _score, decoder in ranked(event.payload, event.meta)]
            if "hex" not in names:
                names.append("hex")
            if names == list(self._views.values()):
                # Same views as the last event (scrolling through similar traffic): keep the tabs rather
                # than rebuild them, which is costly and races Tabs' own mounting when done many
                # times a second.
                self.event = event
                self._set_text(details, event_details(event))
                first = next(iter(self._views))
                if tabs.active != first and tabs.query(f"#{first}"):
                    tabs.active = first
                self._render_view(names[0])
                return
        if any(not op.is_done for op in self._tab_ops):
            # Tabs is still mounting the previous set; rebuilding now would make it activate a tab we
            # are removing. Show this event a moment later instead (the newest request wins).
            self._deferred = event
            if self._retry_timer is None:
                self._retry_timer = self.set_timer(0.03, self._show_deferred)
            return
        self.event = event
        self._tab_ops = [tabs.clear()]
        self._views.clear()
        self._generation += 1
        if event is None:
            self._set_text(details, Text("Select an event in the traffic log to inspect it.", style="dim"))
            self._set_text(self.query_one("#inspector-view", Static), Text(""))
            return
        self._set_text(details, event_details(event))
        if event.payload is None:
            self._set_text(self.query_one("#inspector-view", Static), Text("(no payload)", style="dim"))
            return
        names = [decoder.name for _score, decoder in ranked(event.payload, event.meta)]
        if "hex" not in names:
            names.append("hex")
        table = decoders()
        for index, name in enumerate(names):
            tab_id = f"view-{self._generation}-{name}"
            self._views[tab_id] = name
            self._tab_ops.append(tabs.add_tab(Tab(table[name].title + (" (auto)" if index == 0 else ""), id=tab_id)))
        self._render_view(names[0])
        self.call_after_refresh(self._activate_first, self._generation)

    def _show_deferred(self) -> None:
        self._retry_timer = None
        self.show(self._deferred)

    def _activate_first(self, generation: int) -> None:
        """Tabs.clear() finishes after the new tabs are added and can leave none active."""
        tabs = self.query_one("#inspector-tabs", Tabs)
        if generation != self._generation or tabs.active in self._views or not self._views:
            return
        first = next(iter(self._views))
        if tabs.query(f"#{first}"):
            tabs.active = first
        else:  # still being mounted
            self.call_after_refresh(self._activate_first, generation)

    @property
    def current_view(self) -> str | None:
        tabs = self.query_one("#inspector-tabs", Tabs)
        return self._views.get(tabs.active or "")

    def _render_view(self, name: str) -> None:
        if self.event is None or self.event.payload is None:
            return
        meta = self.event.meta
        if self.encoding != "auto":
            meta = {**(meta or {}), "encoding": self.encoding}
        if name == "hex":
            meta = {**(meta or {}), "columns": self._view_columns()}
        self._rendered_columns = self._view_columns()
        view = decode(self.event.payload, meta, name)
        self._set_text(self.query_one("#inspector-view", Static), view_to_text(view, wrap=name != "hex"))
        self.query_one("#inspector-body", VerticalScroll).scroll_home(animate=False)

    def _view_columns(self) -> int:
        """Columns a view line gets: the body's width less its padding and its scrollbar."""
        body = self.query_one("#inspector-body", VerticalScroll)
        return max(0, body.size.width - 2 - 1)

    def on_resize(self) -> None:
        # The hex layout depends on the width: lay it out again (after Textual has sized the body).
        self.call_after_refresh(self._relayout_hex)

    def _relayout_hex(self) -> None:
        if self.current_view == "hex" and self._rendered_columns != self._view_columns():
            self._render_view("hex")

    def focus_view(self) -> None:
        """F4 / Enter in the log: focus the inspector, full-screen when the terminal is narrow."""
        if self.app.size.width < FULL_SCREEN_BELOW and self.screen.maximized is not self:
            self.screen.maximize(self, container=False)
        self.query_one("#inspector-tabs", Tabs).focus()

    def action_toggle_full_screen(self) -> None:
        if self.screen.maximized is self:
            self.screen.minimize()
        else:
            self.screen.maximize(self, container=False)
            self.query_one("#inspector-tabs", Tabs).focus()
        self.call_after_refresh(self._relayout_hex)

    def _set_text(self, static: Static, text: Text) -> None:
        """``static.update(text)``, without laying the whole screen out again (10-50 ms) when the new
        text is as tall as the old one at the same width — the same kind of event, shown many times a
        second while a user moves through a flood."""
        width = static.content_region.width
        static.update(text, layout=False)
        shape = (width, static.get_content_height(static.container_size, self.app.size, width)) if width else None
        if shape is None or self._shapes.get(static.id or "") != shape:
            static.refresh(layout=True)
        self._shapes[static.id or ""] = shape

    @on(Tabs.TabActivated, "#inspector-tabs")
    def _tab_changed(self, message: Tabs.TabActivated) -> None:
        name = self._views.get(message.tab.id or "")
        if name:
            self._render_view(name)

    def rendered_text(self) -> str:
        """The plain text of the current view (tests and copy use it)."""
        static = self.query_one("#inspector-view", Static)
        content = static.content if hasattr(static, "content") else static.renderable
        return content.plain if isinstance(content, Text) else str(content)

    # -- choosing views, encodings; the conversation views ---------------------------------------------
    def action_choose_view(self) -> None:
        from netlab_tui.ui.screens.choose_view import ChooseViewScreen

        if self.event is None or self.event.payload is None:
            return
        self.app.push_screen(ChooseViewScreen(self.event.payload, self.event.meta, self.current_view),
                             callback=self.select_view)

    def select_view(self, name: str | None) -> None:
        """Show view ``name`` ("auto" = the best fit), adding its tab when it is not there."""
        if name is None or self.event is None:
            return
        tabs = self.query_one("#inspector-tabs", Tabs)
        if name == "auto":
            first = next(iter(self._views), None)
            if first:
                tabs.active = first
            return
        for tab_id, view_name in self._views.items():
            if view_name == name:
                tabs.active = tab_id
                return
        tab_id = f"view-{self._generation}-{name}"
        self._views[tab_id] = name
        tabs.add_tab(Tab(decoders()[name].title, id=tab_id))
        tabs.active = tab_id

    def action_cycle_encoding(self) -> None:
        from netlab_tui.engine.inspect.decoders.text import ENCODINGS

        self.encoding = ENCODINGS[(ENCODINGS.index(self.encoding) + 1) % len(ENCODINGS)] \
            if self.encoding in ENCODINGS else "auto"
        self.notify(f"text encoding: {self.encoding}", timeout=2)
        name = self.current_view
        if name:
            self._render_view(name)

    def action_follow_stream(self) -> None:
        from netlab_tui.ui.traffic_actions import open_follow_stream

        if self.event is not None and self.event.conn:
            open_follow_stream(self.app, self.event.conn)  # type: ignore[arg-type]

    def action_flow_graph(self) -> None:
        from netlab_tui.ui.traffic_actions import open_flow_graph

        if self.event is not None and self.event.conn:
            open_flow_graph(self.app, self.event.conn)  # type: ignore[arg-type]

    def action_apply_as_filter(self) -> None:
        from netlab_tui.ui.traffic_actions import apply_as_filter

        apply_as_filter(self.app, self.event)  # type: ignore[arg-type]
