"""Flow graph: one conversation as an ASCII ladder — who sent what, in which order, and when.

The initiator is on the left. From netlab's own events the ladder shows connect, the data both ways and
the close; from a capture (``netlab open file.pcap``) every packet, with SYN / SYN-ACK / ACK, the
relative seq/ack numbers and FIN. Enter on an arrow selects its event in the traffic log.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.inspect.conversations import flow_graph
from netlab_tui.ui.widgets.lines_view import LinesView

from .conversation_screen import ConversationScreen


class FlowGraphScreen(ConversationScreen):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="flow.close"),
        Binding("s", "follow_stream", "Follow stream", id="flow.stream"),
    ]

    DEFAULT_CSS = """
    FlowGraphScreen > Vertical { border: round $accent; border-title-color: $text; }
    """

    def __init__(self, journal: Journal, conn: str) -> None:
        super().__init__(journal, conn)
        self._width = 0

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Flow graph {self.conn}"
            yield LinesView(id="flow-lines")
        yield Footer()

    def on_mount(self) -> None:
        self._start_live_updates()  # the first drawing comes with the first resize, at the screen's width

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self.redraw(keep_cursor=True)

    def redraw(self, keep_cursor: bool = False) -> None:
        self._seen_total = self.journal.total
        width = max(60, (self._width or self.size.width or 100) - 4)
        view = flow_graph(self.journal.events(), self.conn, width=width)
        self.query_one(LinesView).set_lines(view.lines, view.seqs, keep_cursor=keep_cursor)
        self.query_one(Vertical).border_title = view.title

    def action_follow_stream(self) -> None:
        from .follow_stream import FollowStreamScreen

        self._open(FollowStreamScreen(self.journal, self.conn))
