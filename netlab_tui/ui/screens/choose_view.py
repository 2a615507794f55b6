"""Pick the inspector's view by hand: "auto" or any decoder, with how well each fits the payload."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from netlab_tui.engine.inspect.decoders import decoders, ranked


class ChooseViewScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="view.cancel")]

    DEFAULT_CSS = """
    ChooseViewScreen { align: center middle; }
    ChooseViewScreen > Vertical { width: 60; height: auto; max-height: 80%; border: thick $accent;
                                  background: $surface; padding: 0 1; }
    ChooseViewScreen #view-hint { color: $text-muted; height: auto; }
    ChooseViewScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, payload: bytes, meta: dict | None, current: str | None) -> None:
        super().__init__()
        self.payload = payload
        self.meta = meta
        self.current = current

    def compose(self) -> ComposeResult:
        scores = {decoder.name: score for score, decoder in ranked(self.payload, self.meta)}
        best = max(scores, key=lambda name: scores[name]) if scores else "hex"
        table = decoders()
        options = [Option(f"auto  → {table[best].title}", id="auto")]
        for name, decoder in sorted(table.items(), key=lambda item: -scores.get(item[0], 0.0)):
            fit = scores.get(name, 0.0)
            label = f"{decoder.title:<24} fit {fit:.2f}" if fit else f"{decoder.title:<24} does not fit (hex fallback)"
            options.append(Option(label, id=name))
        with Vertical() as box:
            box.border_title = "Inspector view"
            yield Static("The views that fit best come first; one that does not fit falls back to hex.",
                         id="view-hint")
            yield OptionList(*options, id="view-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
