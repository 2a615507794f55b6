"""UDP client: ``sendto`` a datagram (text, hex or JSON), see what comes back with ``recvfrom`` — or
that nothing came back within the timeout."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.sockets.udp import MAX_DATAGRAM, UdpClient
from netlab_tui.ui.panes import register_pane

from .socket_client import PLACEHOLDERS, SocketClientPane, chunk_line, client_css, preview_text
from .host_select import HostSelect

DEFAULT_TIMEOUT = 2.0


@register_pane
class UdpClientPane(SocketClientPane):
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
        # priority: the focus is nearly always in a text field, whose own ctrl+d would take the key
        Binding("ctrl+d", "close_socket", "Close socket", id="udp-client.close", priority=True),
    ]

    PREFIX = "udp"
    DEFAULT_EOL = "none"  # one datagram, exactly as typed
    DEFAULT_CSS = client_css("UdpClientPane", "udp") + """
    UdpClientPane #udp-timeout { width: 7; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client: UdpClient | None = None

    def compose(self) -> ComposeResult:
        yield HostSelect()
        yield self.address_row(Button("Send", id="udp-send", variant="primary"),
                               Button("Close", id="udp-close", disabled=True))
        with Horizontal(classes="options"):
            yield Label("timeout (s)")
            yield Input(f"{DEFAULT_TIMEOUT:g}", id="udp-timeout", type="number", compact=True,
                        tooltip="how long recvfrom waits for a reply")
            yield from self.payload_options()
        yield from self.exchange("no socket yet: the first send creates it")

    def prefill(self, **values: object) -> None:
        """``host``, ``port``, ``message``, ``mode`` (text/hex/json), ``eol``, ``escapes``, ``timeout``."""
        for key in ("host", "port", "timeout"):
            if key in values:
                self.query_one(f"#udp-{key}", Input).value = str(values[key])
        self.prefill_payload(values)

    def connect_to(self, host: str, port: int, **values: object) -> None:
        """Open a socket to ``host:port`` (closing one to another server) and put the cursor in the
        message field (the Servers pane's ``c``)."""
        self.prefill(host=host, port=port, **values)
        self.open_socket(host, port)

    @work(exclusive=True, group="udp-client", exit_on_error=False)
    async def open_socket(self, host: str, port: int) -> None:
        try:
            client = await self._socket_for(host, port)
        except NetlabError as exc:
            self._write(Text(f"✗ {exc}", style="bold red"))
            self.notify(str(exc), title="UDP", severity="error")
            return
        self._write(Text(f"socket {client.local} → {client.peer}: Enter sends the message as one datagram",
                         style="bold"))
        self.query_one("#udp-message", Input).focus()

    # -- sending -------------------------------------------------------------------------------------
    def payload(self) -> bytes:
        data = super().payload()
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

    def placeholder(self, mode: str) -> str:
        if mode == "text":
            return PLACEHOLDERS["text"].replace("Enter sends it", "Enter sends it as one datagram")
        return super().placeholder(mode)

    def describe(self, data: bytes) -> str:
        return preview_text(data).replace("will send", "datagram of")

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
            port = self.parse_port(host, port_text)
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
