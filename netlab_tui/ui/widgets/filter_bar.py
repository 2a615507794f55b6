"""The filter bar over the traffic log: the filter language checked as you type, and a search box.

The filter is compiled on every keystroke: a valid filter turns the box green and is applied after a
short pause (at once on Enter); an invalid one turns it red and says what is wrong and where, while the
log keeps the last valid filter. The search box jumps to the next event whose text contains what you
typed (Enter again, or ``n``/``N`` in the log, for the next/previous match).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from netlab_tui.engine.inspect import filters

APPLY_DELAY = 0.3  # seconds of no typing before a valid filter is applied


class FilterBar(Horizontal):
    HELP: ClassVar[str] = (
        "## Filter and search\n"
        "Type a filter to show only matching events; it is checked as you type (green: valid, red: the "
        "message says what is wrong and where). **Enter** applies at once, **Escape** clears it. "
        "The search box (`/` in the log) jumps to events containing its text; `n`/`N` in the log go "
        "to the next/previous match. In the log, **a** applies a field of the selected event as the "
        "filter.\n\n" + filters.help_markdown() + "\n"
    )

    BINDINGS = [Binding("escape", "clear", "Clear filter", show=False)]

    DEFAULT_CSS = """
    FilterBar { height: 1; }
    /* One line high: Textual's tall border (on focus, on -invalid) would hide the text being typed. */
    FilterBar Input { border: none !important; height: 1; padding: 0 1; background: $boost; }
    FilterBar Input:focus { background: $accent 30%; }
    FilterBar #filter-input { width: 3fr; }
    FilterBar #search-input { width: 1fr; margin-left: 1; }
    FilterBar #filter-input.-valid { background: $success 15%; }
    FilterBar #filter-input.-invalid { background: $error 25%; }
    FilterBar #filter-status { width: 2fr; height: 1; padding: 0 1; color: $text-muted; }
    FilterBar #filter-status.-invalid { color: $error; }
    """

    class Changed(Message):
        """A valid filter to apply (``text`` may be blank: show everything)."""

        def __init__(self, text: str, predicate: filters.Predicate) -> None:
            super().__init__()
            self.text = text
            self.predicate = predicate

    class Search(Message):
        def __init__(self, text: str, backwards: bool = False) -> None:
            super().__init__()
            self.text = text
            self.backwards = backwards

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.applied = ""  # the filter the log shows
        self.error: filters.FilterError | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: tcp and port 9999 · \"text\" · F1 for the language",
                    id="filter-input", select_on_focus=False)
        yield Static("", id="filter-status")
        yield Input(placeholder="search /", id="search-input", select_on_focus=False)

    @property
    def text(self) -> str:
        return self.query_one("#filter-input", Input).value

    def set_filter(self, text: str, apply: bool = True) -> None:
        """Put ``text`` in the box (a conversation picked elsewhere, ``netlab open --filter``)."""
        box = self.query_one("#filter-input", Input)
        box.value = text
        self._check(text)
        if apply and self.error is None:
            self._apply()

    def _check(self, text: str) -> None:
        box = self.query_one("#filter-input", Input)
        status = self.query_one("#filter-status", Static)
        self.error = filters.check(text)
        box.set_class(bool(text.strip()) and self.error is None, "-valid")
        box.set_class(self.error is not None, "-invalid")
        status.set_class(self.error is not None, "-invalid")
        if self.error is not None:
            status.update(Text(f"✗ {self.error}"))
        elif text.strip():
            status.update(Text("✓ valid — Enter applies" if text != self.applied else "✓ applied"))
        else:
            status.update("")

    def _apply(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.text
        if self.error is not None:
            return
        self.applied = text
        self.post_message(self.Changed(text, filters.compile(text)))
        if text.strip():
            self.query_one("#filter-status", Static).update(Text("✓ applied"))

    @on(Input.Changed, "#filter-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._check(event.value)
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.error is None and event.value != self.applied:
            self._timer = self.set_timer(APPLY_DELAY, self._apply)

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._check(event.value)
        if self.error is None:
            self._apply()
        else:
            self.app.bell()

    @on(Input.Submitted, "#search-input")
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self.post_message(self.Search(event.value))

    def action_clear(self) -> None:
        focused = self.app.focused
        if isinstance(focused, Input) and focused.id == "search-input":
            focused.value = ""
            return
        self.set_filter("")

    def status(self, shown: int, total: int) -> None:
        """Called by the app: how many events the applied filter lets through."""
        statuses = self.query("#filter-status")
        if statuses and self.applied.strip() and self.error is None:
            statuses.first(Static).update(Text(f"✓ {shown:,} of {total:,} events"))
