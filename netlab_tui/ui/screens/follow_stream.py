"""Follow stream: both directions of one conversation in order, coloured per direction.

Wireshark's "Follow TCP Stream": what the client sent in one colour, what the server sent in the other,
as text, a hex dump or raw hex (``t`` / ``x`` / ``r``). Enter on any line closes the screen and selects
the event the line came from in the traffic log. The stream grows while the conversation is live.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Static

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.inspect.conversations import follow_stream, render_stream
from netlab_tui.ui.widgets.inspector import TAG_STYLES
from netlab_tui.ui.widgets.lines_view import LinesView

from .conversation_screen import ConversationScreen


class FollowStreamScreen(ConversationScreen):
    """Dismissed with the seq of the event to select, or None."""

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="stream.close"),
        Binding("t", "mode('text')", "Text", id="stream.text"),
        Binding("x", "mode('hex')", "Hex", id="stream.hex"),
        Binding("r", "mode('raw')", "Raw", id="stream.raw"),
        Binding("g", "flow_graph", "Flow graph", id="stream.flow"),
    ]

    DEFAULT_CSS = """
    FollowStreamScreen > Vertical { border: round $accent; border-title-color: $text; }
    FollowStreamScreen #stream-legend { height: 1; padding: 0 1; }
    """

    def __init__(self, journal: Journal, conn: str, mode: str = "text") -> None:
        super().__init__(journal, conn)
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Follow stream {self.conn}"
            yield Static("", id="stream-legend")
            yield LinesView(id="stream-lines")
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()
        self._start_live_updates()

    def redraw(self, keep_cursor: bool = False) -> None:
        self._seen_total = self.journal.total
        stream = follow_stream(self.journal.events(), self.conn)
        lines = self.query_one(LinesView)
        columns = lines.size.width - 1 if lines.size.width else None  # less the scrollbar
        view = render_stream(stream, self.mode, columns=columns)
        lines.set_lines(view.lines, view.seqs, keep_cursor=keep_cursor)
        client = stream.local if stream.initiator == "local" else stream.peer
        server = stream.peer if stream.initiator == "local" else stream.local
        client_tag = "out" if stream.initiator == "local" else "in"
        server_tag = "in" if client_tag == "out" else "out"
        legend = Text()
        legend.append(f"{client or '?'} (client)", style=TAG_STYLES[client_tag])
        legend.append("  ⇄  ")
        legend.append(f"{server or '?'} (server)", style=TAG_STYLES[server_tag])
        legend.append(f"   {self.mode} · {len(stream.chunks)} chunks · Enter: go to the event", style="dim")
        self.query_one("#stream-legend", Static).update(legend)
        self.query_one(Vertical).border_title = view.title

    def on_resize(self) -> None:
        if self.mode == "hex":
            self.call_after_refresh(self.redraw, True)

    def action_mode(self, mode: str) -> None:
        self.mode = mode
        self.redraw()

    def action_flow_graph(self) -> None:
        from .flow_graph import FlowGraphScreen

        self._open(FlowGraphScreen(self.journal, self.conn))
