"""``ConversationScreen``: what the follow-stream and flow-graph screens share.

Both show one conversation of the journal in a ``LinesView``, redraw while it grows, open each other
(``s`` / ``g``), and are dismissed with the ``seq`` of the event to select in the traffic log (Enter
on a line), or None.
"""

from __future__ import annotations

from textual.screen import Screen

from netlab_tui.engine.core.journal import Journal
from netlab_tui.ui.widgets.lines_view import LinesView

REFRESH_INTERVAL = 0.5  # seconds between checks for new events while the conversation is live


class ConversationScreen(Screen[int | None]):
    def __init__(self, journal: Journal, conn: str) -> None:
        super().__init__()
        self.journal = journal
        self.conn = conn
        self._seen_total = -1

    def redraw(self, keep_cursor: bool = False) -> None:
        """Render the conversation from the journal (subclasses)."""
        raise NotImplementedError

    def _redraw_if_new(self) -> None:
        if self.journal.total != self._seen_total:
            self.redraw(keep_cursor=True)

    def _start_live_updates(self) -> None:
        self.set_interval(REFRESH_INTERVAL, self._redraw_if_new)
        self.query_one(LinesView).focus()

    def _open(self, screen: ConversationScreen) -> None:
        """Open the other view of this conversation; a jump chosen there goes straight to the log."""
        self.app.push_screen(screen, callback=self._jumped)

    def _jumped(self, seq: int | None) -> None:
        if seq is not None:
            self.dismiss(seq)

    def on_lines_view_jump(self, message: LinesView.Jump) -> None:
        self.dismiss(message.seq)

    def action_close(self) -> None:
        self.dismiss(None)
