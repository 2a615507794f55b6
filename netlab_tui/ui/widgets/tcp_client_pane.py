"""TCP client: one connection you type into — text, hex or JSON — with every reply chunk as ``recv``
returned it, a settable ``recv`` buffer size, half-close, reconnect and a raw HTTP request template."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label

from netlab_tui.engine.core.events import format_addr
from netlab_tui.engine.core.sessions import NetlabError, SessionStatus
from netlab_tui.engine.sockets.payload import HTTP_GET_TEMPLATE, escape
from netlab_tui.engine.sockets.tcp import DEFAULT_BUFSIZE, MAX_BUFSIZE, TcpClient
from netlab_tui.ui.panes import register_pane

from .socket_client import SocketClientPane, chunk_line, client_css
from .host_select import HostSelect


@register_pane
class TcpClientPane(SocketClientPane):
    PANE_ID = "tcp-client"
    PANE_TITLE = "TCP client"
    ORDER = 20
    HELP = """\
## TCP client
One TCP connection you type into — what `socket.create_connection`, `sendall` and `recv` do.

1. **Host** and **port** of a server (start one in *Servers*, then **Client** there), then **Connect**.
2. Type a message and press **Enter**. **Send as**: `text` (UTF-8, plus the **line ending**; tick
   **\\\\ escapes** to type `\\r`, `\\n`, `\\t`, `\\xNN`), `hex` (`48 65 6c 6c 6f`) or `JSON` (a document, or
   fields `cmd=add args.name=Ana args.age:=30` that build one). The line above the field shows the
   exact bytes that will leave.
3. Replies appear as they arrive (`←`), **one line per `recv`**, each at most **recv buffer** bytes:
   TCP is a byte stream and keeps no message boundaries. Set the buffer to 4 and send `Hello world`
   to see one message arrive in several pieces — which is why the course reads until `recv` returns `b''`.
4. **Half-close** shuts down the write side (`shutdown(SHUT_WR)`): the server sees EOF, and you keep
   reading its answer — what the contact client must *not* do, and what an echo client may do.
5. **HTTP GET** fills in a raw HTTP/1.1 request to send over the plain socket, as the course does by hand.
6. **Disconnect** closes the connection; **Reconnect** opens a new one to the same server.
"""

    BINDINGS: ClassVar = [
        # priority: the focus is nearly always in a text field, whose own ctrl+d would take the key
        Binding("ctrl+d", "disconnect", "Disconnect", id="tcp-client.disconnect", priority=True),
        Binding("ctrl+r", "reconnect", "Reconnect", id="tcp-client.reconnect", priority=True),
        Binding("ctrl+t", "half_close", "Half-close", id="tcp-client.half-close", priority=True),
    ]

    PREFIX = "tcp"
    DEFAULT_CSS = client_css("TcpClientPane", "tcp") + """
    TcpClientPane #tcp-bufsize { width: 9; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client: TcpClient | None = None
        self.target: tuple[str, int] | None = None  # the last server connected to, for Reconnect
        self._connecting = False  # connect_to() is under way: a send waits for it
        self.chunks_in = 0

    def compose(self) -> ComposeResult:
        yield HostSelect()
        yield self.address_row(Button("Connect", id="tcp-connect", variant="primary"),
                               Button("Disconnect", id="tcp-disconnect", disabled=True))
        with Horizontal(classes="options"):
            yield Label("recv buffer")
            yield Input(str(DEFAULT_BUFSIZE), id="tcp-bufsize", type="integer", compact=True,
                        tooltip=f"bytes per recv, 1 to {MAX_BUFSIZE}; applies at once")
            yield from self.payload_options()
        with Horizontal(classes="options"):
            yield Button("Reconnect", id="tcp-reconnect", disabled=True, compact=True)
            yield Button("Half-close", id="tcp-shutdown", disabled=True, compact=True,
                         tooltip="shutdown(SHUT_WR): send FIN, keep reading")
            yield Button("HTTP GET", id="tcp-http", compact=True, tooltip="a raw HTTP/1.1 request template")
        yield from self.exchange("not connected", disabled=True)

    def prefill(self, **values: object) -> None:
        """``host``, ``port``, ``message``, ``mode`` (text/hex/json), ``eol`` (lf/crlf/none), ``escapes``,
        ``bufsize``."""
        if "host" in values:
            self.query_one("#tcp-host", Input).value = str(values["host"])
        if "port" in values:
            self.query_one("#tcp-port", Input).value = str(values["port"])
        if "bufsize" in values:
            self.query_one("#tcp-bufsize", Input).value = str(values["bufsize"])
        self.prefill_payload(values)

    def connect_to(self, host: str, port: int, **values: object) -> None:
        """Connect to ``host:port`` — closing the connection to any other server — and put the cursor in
        the message field (the Servers pane's ``c``)."""
        self.prefill(host=host, port=port, **values)
        # The message field takes the keys at once: what is typed (and sent) while the connection is
        # being made is not lost in the Servers table — send() waits for the connection.
        self._connecting = True
        message = self.query_one("#tcp-message", Input)
        message.disabled = False
        message.focus()
        self.connect(host, str(port))

    # -- connecting ----------------------------------------------------------------------------------
    @on(Button.Pressed, "#tcp-connect")
    @on(Input.Submitted, "#tcp-host, #tcp-port")
    def _connect_pressed(self) -> None:
        host = self.query_one("#tcp-host", Input).value.strip()
        port = self.query_one("#tcp-port", Input).value.strip()
        self.connect(host, port)

    @on(Button.Pressed, "#tcp-reconnect")
    def action_reconnect(self) -> None:
        if self.target is None:
            self.notify("connect once first", severity="warning")
            return
        host, port = self.target
        self.connect(host, str(port))

    @work(exclusive=True, group="tcp-client", exit_on_error=False)
    async def connect(self, host: str, port_text: str) -> None:
        try:
            await self._connect(host, port_text)
        finally:
            self._connecting = False

    async def _connect(self, host: str, port_text: str) -> None:
        if self.client is not None and self.client.running:
            await self.netlab.registry.stop(self.client)
            self._write(Text("disconnected", style="bold"))
        try:
            port = self.parse_port(host, port_text)
            client = TcpClient(self.netlab.journal, host, port, bufsize=self._bufsize())
            client.on_receive(self._received)
            self._set_status(f"connecting to {format_addr(host, port)} …")
            await self.netlab.registry.start(client)
        except NetlabError as exc:
            self._set_status(f"not connected — {exc}")
            self.notify(str(exc), title="Cannot connect", severity="error")
            self._set_connected(False)
            return
        self.client = client
        self.target = (host, port)
        self.chunks_in = 0
        self._write(Text(f"connected {client.local} → {client.peer}", style="bold"))
        self._set_connected(True)
        self._show_status()
        self.query_one("#tcp-message", Input).focus()

    def _received(self, chunk: bytes | None) -> None:
        if chunk is None:
            self._write(Text("server closed the connection (EOF: recv returned b'')", style="bold red"))
            self._set_status("disconnected (the server closed) — Reconnect to talk again")
            self._set_connected(False)
            return
        self.chunks_in += 1
        size = self.client.bufsize if self.client is not None else DEFAULT_BUFSIZE
        note = f", a full recv({size})" if len(chunk) == size else ""
        self._write(chunk_line("←", chunk, "green", note))
        self._show_status()

    @on(Button.Pressed, "#tcp-disconnect")
    def action_disconnect(self) -> None:
        if self.client is not None and self.client.status == SessionStatus.RUNNING:
            self.disconnect()

    @work(exclusive=True, group="tcp-client", exit_on_error=False)
    async def disconnect(self) -> None:
        if self.client is None:
            return
        await self.netlab.registry.stop(self.client)
        self._write(Text("disconnected", style="bold"))
        self._set_status("not connected")
        self._set_connected(False)

    @on(Button.Pressed, "#tcp-shutdown")
    def action_half_close(self) -> None:
        if self.client is not None and self.client.running and not self.client.write_closed:
            self.half_close()

    @work(group="tcp-client-send", exit_on_error=False)
    async def half_close(self) -> None:
        assert self.client is not None
        try:
            await self.client.shutdown_write()
        except NetlabError as exc:
            self.notify(str(exc), title="Cannot half-close", severity="error")
            return
        self._write(Text("→ FIN: write side shut down (the server's recv returns b''); still reading",
                         style="bold yellow"))
        self.query_one("#tcp-message", Input).disabled = True
        self.query_one("#tcp-shutdown", Button).disabled = True
        self._show_status()

    # -- the recv buffer -----------------------------------------------------------------------------
    def _bufsize(self) -> int:
        text = self.query_one("#tcp-bufsize", Input).value.strip()
        try:
            size = int(text)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_BUFSIZE:
            raise NetlabError(f"recv buffer size must be 1 to {MAX_BUFSIZE} bytes, not {text!r}")
        return size

    @on(Input.Changed, "#tcp-bufsize")
    def _bufsize_changed(self) -> None:
        try:
            size = self._bufsize()
        except NetlabError as exc:
            self._set_status(str(exc))
            return
        if self.client is not None and self.client.running:
            self.client.set_bufsize(size)
            self._show_status()

    # -- sending -------------------------------------------------------------------------------------
    @on(Input.Submitted, "#tcp-message")
    def _send_pressed(self, event: Input.Submitted) -> None:
        try:
            data = self.payload()
        except NetlabError as exc:
            self.notify(str(exc), title="Cannot send", severity="error")
            return
        event.input.value = ""
        self.send(data)

    @work(group="tcp-client-send", exit_on_error=False)
    async def send(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while self._connecting and loop.time() < deadline:  # typed right after `c` in Servers
            await asyncio.sleep(0.02)
        if self.client is None or not self.client.running:
            self.notify("connect first", severity="warning")
            return
        # Written before awaiting the send, so the transcript keeps the order of the exchange.
        self._write(chunk_line("→", data, "yellow"))
        try:
            await self.client.send(data)
        except NetlabError as exc:
            self._write(Text(f"not sent: {exc}", style="bold red"))
            self.notify(str(exc), title="Cannot send", severity="error")

    @on(Button.Pressed, "#tcp-http")
    def _http_template(self) -> None:
        """A raw HTTP/1.1 request, as the course types it over a plain socket."""
        host = self.query_one("#tcp-host", Input).value.strip() or "127.0.0.1"
        port_text = self.query_one("#tcp-port", Input).value.strip()
        host_header = format_addr(host, int(port_text)) if port_text.isdigit() and port_text != "80" else host
        self.prefill(mode="text", eol="none", escapes=True,
                     message=escape(HTTP_GET_TEMPLATE.format(host=host_header).encode()))
        self.query_one("#tcp-message", Input).focus()

    # -- helpers -------------------------------------------------------------------------------------
    def _show_status(self) -> None:
        client = self.client
        if client is None or not client.running:
            return
        half = " · write side shut" if client.write_closed else ""
        self._set_status(f"connected {client.local} → {client.peer} · recv({client.bufsize}) · "
                         f"{self.chunks_in} in{half}")

    def _set_connected(self, connected: bool) -> None:
        self.query_one("#tcp-connect", Button).disabled = connected
        self.query_one("#tcp-disconnect", Button).disabled = not connected
        self.query_one("#tcp-message", Input).disabled = not connected
        self.query_one("#tcp-shutdown", Button).disabled = not connected
        self.query_one("#tcp-reconnect", Button).disabled = self.target is None
