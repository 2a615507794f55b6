"""``NetlabPane``: the base of every tool pane in the sidebar."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.containers import Vertical

if TYPE_CHECKING:
    from netlab_tui.ui.app import NetlabApp


class NetlabPane(Vertical):
    """A tool pane. Subclasses set the class attributes and compose their widgets.

    ``self.netlab`` is the running app (``.journal``, ``.registry``, ``.show_pane(id)``,
    ``.select_event(seq)``). Do network I/O in ``self.run_worker``/``@work`` — never block.
    """

    PANE_ID: ClassVar[str] = ""
    PANE_TITLE: ClassVar[str] = ""
    ORDER: ClassVar[int] = 100  # sidebar position
    HELP: ClassVar[str] = ""  # Markdown shown by F1 when focus is in this pane

    DEFAULT_CSS = """
    NetlabPane { height: 1fr; padding: 0 1; }
    """

    @property
    def netlab(self) -> "NetlabApp":
        return self.app  # type: ignore[return-value]

    def prefill(self, **values: object) -> None:
        """Fill the pane's form (labs and the command palette use this). Override per pane."""

    def focus_first(self) -> None:
        """Focus the pane's first focusable widget (when the pane is opened from the sidebar)."""
        for widget in self.query("*"):
            if widget.focusable and self._shown(widget):
                widget.focus()
                return

    def _shown(self, widget) -> bool:
        """Not inside a hidden part of the pane (a host selector while no topology runs …)."""
        node = widget
        while node is not None and node is not self:
            if not node.display:
                return False
            node = node.parent
        return True
