"""F1: help for the focused pane, and the key bindings that apply there."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; max-width: 95%; height: 85%; border: thick $accent; background: $surface; }
    HelpScreen VerticalScroll { height: 1fr; padding: 0 1; }
    HelpScreen #help-footer { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__()
        self.help_title = title
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Help — {self.help_title}"
            with VerticalScroll():
                yield Markdown(self.markdown, id="help-markdown")
            yield Static("Esc closes", id="help-footer")


def help_title(markdown: str) -> str:
    """A help text's own title: its first heading ("## Traffic log" → "Traffic log")."""
    for line in markdown.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return "netlab"
