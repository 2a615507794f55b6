"""``HistoryInput``: a field that sends (a message, a URL, a command, a line of stdin) and remembers what
it sent: **Up** recalls the previous entry, **Down** the next one and then what you were typing, as in a
shell. Each field keeps its own history for the session."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Input

HISTORY_SIZE = 200


class HistoryInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous entry", show=False),
        Binding("down", "history(1)", "Next entry", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[str] = []
        self._position: int | None = None  # None: not browsing, the field holds the draft
        self._draft = ""

    def remember(self, text: str) -> None:
        """Add ``text`` as the newest entry (not twice in a row, never empty)."""
        self._position = None
        if not text or (self.history and self.history[-1] == text):
            return
        self.history.append(text)
        del self.history[:-HISTORY_SIZE]

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input is self:  # not stopped: the pane sends it
            self.remember(event.value)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position is None:
            if step > 0:
                return
            self._draft = self.value
            position = len(self.history) + step
        else:
            position = self._position + step
        if position >= len(self.history):  # past the newest: back to what was being typed
            self._position = None
            self._set(self._draft)
            return
        self._position = max(position, 0)
        self._set(self.history[self._position])

    def _set(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)
