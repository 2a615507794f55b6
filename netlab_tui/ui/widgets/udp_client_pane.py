"""UDP client: ``sendto`` a datagram (text, hex or JSON), see what comes back with ``recvfrom`` — or
that nothing came back within the timeout."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Label, RichLog, Select, Static

from ...engine.payload import encode
from ...engine.sessions import NetlabError
from ...engine.udp import MAX_DATAGRAM, UdpClient
from ..panes import register_pane
from .base import NetlabPane
from .tcp_client_pane import LINE_ENDINGS, MODES, PLACEHOLDERS, chunk_line, preview_text

DEFAULT_TIMEOUT = 2.0


@register_pane
class UdpClientPane(NetlabPane):
    PANE_ID = "udp-client"
    PANE_TITLE = "UDP client"
    ORDER = 25
    HELP = """\
## UDP client
Datagrams, as `socket(AF_INET, SOCK_DGRAM)`, `sendto` and `recvfrom` send and receive them.

1. **Host** and **port** of a UDP server (start `udp-echo` or `udp-sink` in *Servers*).
2. Type a message and press **Enter** (or **Send**): it leaves as **one datagram** — text, hex or
   JSON, like the TCP client. The first send creates the socket; the status line shows its address.
3. The reply shows up as one datagram (`←`). If none arrives within **timeout** seconds the pane
   says so: UDP promises nothing — no delivery, no reply, no error when nobody listens (unless the
   other machine answers "port unreachable", which netlab shows too).
4. `udp-sink` never replies; send it `FIN` to stop it. **Close** closes the socket.

The course's client:
```python
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"Hello", ("127.0.0.1", PORT))
data, addr = s.recvfrom(65535)
```
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+d", "close_socket", "Close socket", id="udp-client.close"),
    ]

    DEFAULT_CSS = """
    UdpClientPane #udp-host { width: 1fr; }
    UdpClientPane #udp-port { width: 12; }
    UdpClientPane .options { height: 1; }
    UdpClientPane .options Label { padding: 0 1 0 0; }
    UdpClientPane .options Checkbox { margin-left: 1; }
    UdpClientPane #udp-timeout { width: 7; }
    UdpClientPane #udp-mode { width: 10; }
    UdpClientPane #udp-eol { width: 10; }
    UdpClientPane #udp-transcript { height: 1fr; border: round $primary-darken-3; }
    UdpClientPane #udp-status { height: 1; color: $text-muted; padding: 0 1; margin-top: 1; }
    UdpClientPane #udp-preview { height: 1; color: $text-muted; padding: 0 1; }
    UdpClientPane #udp-preview.error { color: $error; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client: UdpClient | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form"):
            yield Label("Host")
            yield Input("127.0.0.1", id="udp-host")
            yield Label("Port")
            yield Input("", id="udp-port", type="integer", placeholder="port")
            yield Button("Send", id="udp-send", variant="primary")
            yield Button("Close", id="udp-close", disabled=True)
        with Horizontal(classes="options"):
            yield Label("timeout (s)")
            yield Input(f"{DEFAULT_TIMEOUT:g}", id="udp-timeout", type="number", compact=True,
                        tooltip="how long recvfrom waits for a reply")
            yield Label("  as")
            yield Select(MODES, value="text", allow_blank=False, id="udp-mode", compact=True)
            yield Label("  end")
            yield Select(LINE_ENDINGS, value="none", allow_blank=False, id="udp-eol", compact=True)
            yield Checkbox("\\ escapes", id="udp-escapes", compact=True,
                           tooltip="read \\r \\n \\t \\0 \\\\ \\xNN in text as the bytes they stand for")
        yield Label("no socket yet: the first send creates it", id="udp-status")
        yield RichLog(id="udp-transcript", wrap=True, markup=False, max_lines=5000, min_width=20)
        yield Static("", id="udp-preview")
        yield Input(placeholder=PLACEHOLDERS["text"].replace("Enter sends it", "Enter sends it as one datagram"),
                    id="udp-message")

    def prefill(self, **values: object) -> None:
        """``host``, ``port``, ``message``, ``mode`` (text/hex/json), ``eol``, ``escapes``, ``timeout``."""
        for key in ("host", "port", "timeout", "message"):
            if key in values:
                self.query_one(f"#udp-{key}", Input).value = str(values[key])
        if values.get("mode") in ("text", "hex", "json"):
            self.query_one("#udp-mode", Select).value = str(values["mode"])
        if values.get("eol") in ("lf", "crlf", "none"):
            self.query_one("#udp-eol", Select).value = str(values["eol"])
        if "escapes" in values:
            self.query_one("#udp-escapes", Checkbox).value = bool(values["escapes"])
        self._update_preview()

    # -- sending -------------------------------------------------------------------------------------
    def payload(self) -> bytes:
        data = encode(self.query_one("#udp-message", Input).value,
                      str(self.query_one("#udp-mode", Select).value),
                      str(self.query_one("#udp-eol", Select).value),
                      escapes=self.query_one("#udp-escapes", Checkbox).value)
        if len(data) > MAX_DATAGRAM:
            raise NetlabError(f"datagram too large: {len(data)} bytes (UDP carries at most {MAX_DATAGRAM})")
        return data

    def _timeout(self) -> float:
        text = self.query_one("#udp-timeout", Input).value.strip()
        try:
            value = float(text)
        except ValueError:
            value = -1
        if not 0 < value <= 600:
            raise NetlabError(f"timeout must be a number of seconds from 0 to 600, not {text!r}")
        return value

    @on(Input.Changed, "#udp-message")
    @on(Select.Changed, "#udp-mode, #udp-eol")
    @on(Checkbox.Changed, "#udp-escapes")
    def _update_preview(self) -> None:
        mode = str(self.query_one("#udp-mode", Select).value)
        self.query_one("#udp-eol", Select).disabled = mode != "text"
        self.query_one("#udp-escapes", Checkbox).disabled = mode != "text"
        message = self.query_one("#udp-message", Input)
        preview = self.query_one("#udp-preview", Static)
        if not message.value:
            preview.update("")
            preview.remove_class("error")
            return
        try:
            preview.update(preview_text(self.payload()).replace("will send", "datagram of"))
            preview.remove_class("error")
        except NetlabError as exc:
            preview.update(str(exc))
            preview.add_class("error")

    @on(Input.Submitted, "#udp-port, #udp-host")
    def _address_entered(self) -> None:
        message = self.query_one("#udp-message", Input)
        if message.value:
            self._send_pressed()
        else:
            message.focus()

    @on(Button.Pressed, "#udp-send")
    @on(Input.Submitted, "#udp-message")
    def _send_pressed(self) -> None:
        host = self.query_one("#udp-host", Input).value.strip()
        port_text = self.query_one("#udp-port", Input).value.strip()
        try:
            if not host:
                raise NetlabError("enter a host, e.g. 127.0.0.1")
            try:
                port = int(port_text)
            except ValueError:
                raise NetlabError(f"invalid port {port_text!r}: expected a number from 1 to 65535") from None
            data = self.payload()
            timeout = self._timeout()
        except NetlabError as exc:
            self.notify(str(exc), title="Cannot send", severity="error")
            return
        self.query_one("#udp-message", Input).value = ""
        self.send(host, port, data, timeout)

    @work(exclusive=True, group="udp-client", exit_on_error=False)
    async def send(self, host: str, port: int, data: bytes, timeout: float) -> None:
        try:
            client = await self._socket_for(host, port)
            client.drain_pending()
            self._write(chunk_line("→", data, "yellow", f" to {client.peer}"))
            client.send(data)
            reply = await client.receive(timeout)
        except NetlabError as exc:
            self._write(Text(f"✗ {exc}", style="bold red"))
            self.notify(str(exc), title="UDP", severity="error")
            return
        if reply is None:
            self._write(Text(f"no reply within {timeout:g}s — UDP does not say whether anyone received it",
                             style="italic"))

    async def _socket_for(self, host: str, port: int) -> UdpClient:
        """The open socket if it talks to this peer, else a new one (closing the old)."""
        client = self.client
        if client is not None and client.running and (client.host, client.port) == (host, port):
            return client
        if client is not None:
            await self.netlab.registry.stop(client)
        client = UdpClient(self.netlab.journal, host, port)
        client.on_receive(self._received)
        await self.netlab.registry.start(client)
        self.client = client
        self._set_status(f"socket {client.local} → {client.peer} · {client.sent} sent, {client.received} received")
        self.query_one("#udp-close", Button).disabled = False
        return client

    def _received(self, data: bytes) -> None:
        client = self.client
        self._write(chunk_line("←", data, "green", f" from {client.peer}" if client else ""))
        if client is not None:
            self._set_status(f"socket {client.local} → {client.peer} · {client.sent} sent, "
                             f"{client.received} received")

    @on(Button.Pressed, "#udp-close")
    def action_close_socket(self) -> None:
        if self.client is not None:
            self.close_socket()

    @work(exclusive=True, group="udp-client", exit_on_error=False)
    async def close_socket(self) -> None:
        if self.client is None:
            return
        await self.netlab.registry.stop(self.client)
        self._write(Text(f"socket {self.client.local} closed", style="bold"))
        self.client = None
        self._set_status("no socket: the next send creates one")
        self.query_one("#udp-close", Button).disabled = True

    # -- helpers -------------------------------------------------------------------------------------
    def _write(self, text: Text) -> None:
        self.query_one("#udp-transcript", RichLog).write(text)

    def _set_status(self, text: str) -> None:
        self.query_one("#udp-status", Label).update(text)
