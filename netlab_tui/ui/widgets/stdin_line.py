"""``StdinLine``: the input line under a running command's output (Shell and SSH panes).

Enter sends the line and a newline to the standard input of the running command(s) — so ``bc -q`` or a
remote ``cat`` can be used interactively; **EOF** closes their input, as Ctrl+D does at a terminal.
The line is enabled only while something runs (the pane says when).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input

from netlab_tui.engine.core.sessions import NetlabError

from .history_input import HistoryInput


class StdinLine(Horizontal):
    DEFAULT_CSS = """
    StdinLine { height: auto; }
    StdinLine Input { width: 1fr; }
    """

    def __init__(self, prefix: str, sessions: Callable[[], Iterable[Any]]) -> None:
        """``sessions()`` gives the sessions to write to (those still running are used); the input and the
        button get the ids ``{prefix}-stdin`` and ``{prefix}-eof``."""
        super().__init__(id=f"{prefix}-stdin-line")
        self._id_prefix = prefix
        self._session_source = sessions

    def compose(self) -> ComposeResult:
        yield HistoryInput(placeholder="stdin — Enter sends the line + \\n", id=f"{self._id_prefix}-stdin",
                           disabled=True)
        yield Button("EOF", id=f"{self._id_prefix}-eof", disabled=True)

    @property
    def input(self) -> Input:
        return self.query_one(f"#{self._id_prefix}-stdin", Input)

    def set_enabled(self, enabled: bool) -> None:
        self.input.disabled = not enabled
        self.query_one(f"#{self._id_prefix}-eof", Button).disabled = not enabled

    def _live_sessions(self) -> list[Any]:
        return [session for session in self._session_source() if session is not None and session.running]

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        data = (event.value + "\n").encode("utf-8")
        event.input.value = ""
        running = self._live_sessions()
        if running:
            self.run_worker(self._send(running, data), group="stdin", exit_on_error=False)

    async def _send(self, sessions: list[Any], data: bytes) -> None:
        for session in sessions:
            try:
                if await session.write_stdin(data) is False:
                    self.app.notify("the command no longer reads its input", severity="warning")
            except NetlabError as exc:
                self.app.notify(str(exc), severity="error")

    @on(Button.Pressed)
    def _eof_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.send_eof()

    def send_eof(self) -> None:
        """Close the running commands' input; the line stays disabled until the next command."""
        for session in self._live_sessions():
            self.run_worker(session.close_stdin(), group="stdin", exit_on_error=False)
        self.set_enabled(False)
