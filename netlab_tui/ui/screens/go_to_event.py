"""Go to event (Wireshark's Go to Packet, Ctrl+G): type an event's number, land on it in the log."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class GoToEventScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="goto.cancel")]

    DEFAULT_CSS = """
    GoToEventScreen { align: center middle; }
    GoToEventScreen > Vertical { width: 50; max-width: 95%; height: auto; border: thick $accent;
                                 background: $surface; padding: 0 1; }
    GoToEventScreen #goto-hint { color: $text-muted; height: auto; }
    GoToEventScreen #goto-error { color: $error; height: auto; }
    """

    def __init__(self, last: int) -> None:
        super().__init__()
        self.last = last

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Go to event"
            yield Static(f"The event's number (the log's no. column, 1 to {self.last:,}); Enter goes there.",
                         id="goto-hint")
            yield Input(placeholder="no.", id="goto-number", type="integer")
            yield Static("", id="goto-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#goto-number")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text.isdigit() or not 1 <= int(text) <= self.last:
            self.query_one("#goto-error", Static).update(f"enter a number from 1 to {self.last:,}")
            return
        self.dismiss(int(text))

    def action_cancel(self) -> None:
        self.dismiss(None)
