"""What the TCP and UDP client panes share: the address row, the payload options (text, hex or JSON,
line ending, ``\\`` escapes), the preview of the exact bytes that will leave, the transcript and the layout.

A pane sets ``PREFIX`` ("tcp", "udp"): every widget id starts with it (``#tcp-message``, ``#udp-mode`` …).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, RichLog, Select, Static

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.sockets.payload import encode, escape

from .base import NetlabPane
from .check_box import NetlabCheckbox
from .history_input import HistoryInput

MODES = [("text", "text"), ("hex", "hex"), ("JSON", "json")]
LINE_ENDINGS = [("\\n", "lf"), ("\\r\\n", "crlf"), ("none", "none")]
PLACEHOLDERS = {
    "text": "message — Enter sends it (plus the line ending)",
    "hex": "hex bytes, e.g. 48 65 6c 6c 6f 0a",
    "json": 'a JSON document {"cmd": "list"} or fields: cmd=add args.name=Ana args.mail=ana@x.fr',
}

# The layout both panes share; "Pane" and "#p-" become the pane's class name and id prefix.
_CSS = """
Pane #p-host { width: 1fr; }
Pane #p-port { width: 12; }
Pane .options { height: 1; }
Pane .options Label { padding: 0 1 0 0; }
Pane .options Button { margin-left: 1; }
Pane .options Checkbox { margin-left: 1; }
Pane #p-mode { width: 10; }
Pane #p-eol { width: 10; }
Pane #p-transcript { height: 1fr; border: round $primary-darken-3; }
Pane #p-status { width: 1fr; height: auto; max-height: 3; color: $text-muted; padding: 0 1; margin-top: 1; }
Pane #p-preview { height: 1; color: $text-muted; padding: 0 1; }
Pane #p-preview.error { color: $error; }
"""


def client_css(pane: str, prefix: str) -> str:
    """The shared rules for the pane class ``pane`` whose ids start with ``prefix``."""
    return _CSS.replace("Pane", pane).replace("#p-", f"#{prefix}-")


def visible(data: bytes) -> str:
    """Bytes on one line, with CR, LF, tabs and undecodable bytes shown as escapes."""
    return escape(data)


def chunk_line(arrow: str, data: bytes, style: str, note: str = "") -> Text:
    return Text.assemble((f"{arrow} ", f"bold {style}"), (visible(data), style),
                         (f"  ({len(data)} B{note})", "dim"))


def preview_text(data: bytes, limit: int = 60) -> str:
    shown = visible(data[:limit]) + ("…" if len(data) > limit else "")
    return f"will send {len(data)} B: {shown}"


class SocketClientPane(NetlabPane):
    """Base of the TCP and UDP client panes (not a pane itself: it is not registered)."""

    PREFIX: ClassVar[str] = ""
    DEFAULT_EOL: ClassVar[str] = "lf"

    # -- composing ----------------------------------------------------------------------------------
    def address_row(self, *buttons: Widget) -> Horizontal:
        p = self.PREFIX
        return Horizontal(Label("Host"), Input("127.0.0.1", id=f"{p}-host"),
                          Label("Port"), Input("", id=f"{p}-port", type="integer", placeholder="port"),
                          *buttons, classes="form")

    def payload_options(self) -> Iterator[Widget]:
        """"as [mode]  end [line ending]  [ ] \\ escapes", for an ``options`` row."""
        p = self.PREFIX
        yield Label("  as")
        yield Select(MODES, value="text", allow_blank=False, id=f"{p}-mode", classes="payload-option", compact=True)
        yield Label("  end")
        yield Select(LINE_ENDINGS, value=self.DEFAULT_EOL, allow_blank=False, id=f"{p}-eol",
                     classes="payload-option", compact=True)
        yield NetlabCheckbox("\\ escapes", id=f"{p}-escapes", classes="payload-option", compact=True,
                       tooltip="read \\r \\n \\t \\0 \\\\ \\xNN in text as the bytes they stand for")

    def exchange(self, status: str, disabled: bool = False) -> Iterator[Widget]:
        """The status line, the transcript, the byte preview and the message field."""
        p = self.PREFIX
        yield Label(status, id=f"{p}-status")
        yield RichLog(id=f"{p}-transcript", wrap=True, markup=False, max_lines=5000, min_width=20)
        yield Static("", id=f"{p}-preview")
        yield HistoryInput(placeholder=self.placeholder("text"), id=f"{p}-message", classes="payload-message",
                           disabled=disabled)

    def prefill_payload(self, values: dict[str, object]) -> None:
        """``mode`` (text/hex/json), ``eol`` (lf/crlf/none), ``escapes`` and ``message`` from a prefill."""
        if values.get("mode") in ("text", "hex", "json"):
            self._field("mode", Select).value = str(values["mode"])
        if values.get("eol") in ("lf", "crlf", "none"):
            self._field("eol", Select).value = str(values["eol"])
        if "escapes" in values:
            self._field("escapes", Checkbox).value = bool(values["escapes"])
        if "message" in values:
            self._field("message", Input).value = str(values["message"])
        self._update_preview()

    @staticmethod
    def parse_port(host: str, port_text: str) -> int:
        """The port of the address fields (NetlabError for an empty host or a port that is not a number)."""
        if not host:
            raise NetlabError("enter a host, e.g. 127.0.0.1")
        try:
            return int(port_text)
        except ValueError:
            raise NetlabError(f"invalid port {port_text!r}: expected a number from 1 to 65535") from None

    # -- the payload --------------------------------------------------------------------------------
    def payload(self) -> bytes:
        """The bytes the message field stands for, in the chosen mode (NetlabError if it cannot be)."""
        return encode(self._field("message", Input).value, str(self._field("mode", Select).value),
                      str(self._field("eol", Select).value), escapes=self._field("escapes", Checkbox).value)

    def placeholder(self, mode: str) -> str:
        return PLACEHOLDERS.get(mode, "")

    def describe(self, data: bytes) -> str:
        """The preview line for the bytes about to leave."""
        return preview_text(data)

    @on(Input.Changed, ".payload-message")
    @on(Select.Changed, ".payload-option")
    @on(Checkbox.Changed, ".payload-option")
    def _update_preview(self) -> None:
        mode = str(self._field("mode", Select).value)
        message = self._field("message", Input)
        message.placeholder = self.placeholder(mode)
        # a line ending and escapes only mean something for text
        self._field("eol", Select).disabled = mode != "text"
        self._field("escapes", Checkbox).disabled = mode != "text"
        preview = self._field("preview", Static)
        if not message.value:
            preview.update("")
            preview.remove_class("error")
            return
        try:
            preview.update(self.describe(self.payload()))
            preview.remove_class("error")
        except NetlabError as exc:
            preview.update(str(exc))
            preview.add_class("error")

    # -- helpers ------------------------------------------------------------------------------------
    def _field(self, name: str, kind: type[Widget]):
        return self.query_one(f"#{self.PREFIX}-{name}", kind)

    def _write(self, text: Text) -> None:
        self._field("transcript", RichLog).write(text)

    def _set_status(self, text: str) -> None:
        self._field("status", Label).update(text)
