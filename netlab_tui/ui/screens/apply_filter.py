"""Apply as Filter (Wireshark's): pick a field of the selected event; the log shows only its kind.

Enter replaces the log's filter; ``&`` adds the term to the current filter with *and*, ``!`` applies its
negation (``not …``: hide events like this one).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.inspect.filters import terms_for


def combine(current: str, term: str, how: str) -> str:
    """The filter to apply: ``term`` alone, ``current and term``, or ``not term`` (and'ed likewise)."""
    current = current.strip()
    if how == "not":
        term = f"not ({term})"
    if how in ("and", "not") and current:
        return f"({current}) and {term}"
    return term


class ApplyFilterScreen(ModalScreen[str | None]):
    """Dismissed with the filter to apply, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="apply_filter.cancel"),
        Binding("ampersand", "apply('and')", "And with current", id="apply_filter.and"),
        Binding("exclamation_mark", "apply('not')", "Not this", id="apply_filter.not"),
    ]

    DEFAULT_CSS = """
    ApplyFilterScreen { align: center middle; }
    ApplyFilterScreen > Vertical { width: 76; max-width: 100%; height: auto; max-height: 90%;
                                   border: thick $accent; background: $surface; padding: 0 1; }
    ApplyFilterScreen #apply-filter-hint { color: $text-muted; height: auto; }
    ApplyFilterScreen OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, event: TrafficEvent, current: str = "") -> None:
        super().__init__()
        self.event = event
        self.current = current
        self.terms = terms_for(event)

    def compose(self) -> ComposeResult:
        width = min(44, max((len(term) for term, _ in self.terms), default=10))
        options = [Option(Text(f"{term:<{width}}  ", no_wrap=True, overflow="ellipsis").append(what, style="dim"),
                          id=str(i)) for i, (term, what) in enumerate(self.terms)]
        hint = "Enter: show only these · &: and with the current filter\n!: hide these · Esc: cancel"
        if self.current.strip():
            hint += f"\ncurrent filter: {self.current.strip()}"
        with Vertical() as box:
            box.border_title = f"Apply as filter — event #{self.event.seq}"
            yield Static(hint, id="apply-filter-hint")
            yield OptionList(*options, id="apply-filter-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one(OptionList).focus()

    def _term(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        return self.terms[options.highlighted][0]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_apply("replace")

    def action_apply(self, how: str) -> None:
        term = self._term()
        if term is not None:
            self.dismiss(combine(self.current, term, how))

    def action_cancel(self) -> None:
        self.dismiss(None)
