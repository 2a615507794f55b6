"""TCP client: connect to any TCP server, type messages, see every reply as it arrives."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, RichLog

from ...engine.sessions import NetlabError, SessionStatus
from ...engine.tcp import TcpClient
from ..panes import register_pane
from .base import NetlabPane


def _visible(data: bytes) -> str:
    return data.decode("utf-8", errors="backslashreplace").replace("\r", "\\r").replace("\n", "\\n")


@register_pane
class TcpClientPane(NetlabPane):
    PANE_ID = "tcp-client"
    PANE_TITLE = "TCP client"
    ORDER = 20
    HELP = """\
## TCP client
One TCP connection you type into — what `socket.create_connection` + `sendall` + `recv` do.

1. **Host** and **port** of a server (start one in *Servers*), then **Connect**.
2. Type a message and press **Enter**: it is sent as UTF-8 followed by `\\n`.
3. Replies appear as they arrive (`←`), each `recv` chunk on its own line: TCP is a byte stream
   and keeps no message boundaries.
4. **Disconnect** closes the connection (the server sees EOF: `recv` returns `b''`).
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+d", "disconnect", "Disconnect", id="tcp-client.disconnect"),
    ]

    DEFAULT_CSS = """
    TcpClientPane .form { height: auto; }
    TcpClientPane .form Label { padding: 1 1 0 0; }
    TcpClientPane #tcp-host { width: 18; }
    TcpClientPane #tcp-port { width: 10; }
    TcpClientPane #tcp-transcript { height: 1fr; border: round $primary-darken-3; }
    TcpClientPane #tcp-status { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client: TcpClient | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form"):
            yield Label("Host")
            yield Input("127.0.0.1", id="tcp-host")
            yield Label("Port")
            yield Input("", id="tcp-port", type="integer", placeholder="port")
            yield Button("Connect", id="tcp-connect", variant="primary")
            yield Button("Disconnect", id="tcp-disconnect", disabled=True)
        yield Label("not connected", id="tcp-status")
        yield RichLog(id="tcp-transcript", wrap=True, markup=False, max_lines=5000)
        yield Input(placeholder="message — Enter sends it followed by \\n", id="tcp-message", disabled=True)

    def prefill(self, **values: object) -> None:
        if "host" in values:
            self.query_one("#tcp-host", Input).value = str(values["host"])
        if "port" in values:
            self.query_one("#tcp-port", Input).value = str(values["port"])
        if "message" in values:
            self.query_one("#tcp-message", Input).value = str(values["message"])

    # -- connecting ----------------------------------------------------------------------------------
    @on(Button.Pressed, "#tcp-connect")
    @on(Input.Submitted, "#tcp-host, #tcp-port")
    def _connect_pressed(self) -> None:
        host = self.query_one("#tcp-host", Input).value.strip()
        port = self.query_one("#tcp-port", Input).value.strip()
        self.connect(host, port)

    @work(exclusive=True, group="tcp-client", exit_on_error=False)
    async def connect(self, host: str, port_text: str) -> None:
        if self.client is not None and self.client.running:
            await self.netlab.registry.stop(self.client)
        try:
            if not host:
                raise NetlabError("enter a host, e.g. 127.0.0.1")
            try:
                port = int(port_text)
            except ValueError:
                raise NetlabError(f"invalid port {port_text!r}: expected a number from 1 to 65535") from None
            client = TcpClient(self.netlab.journal, host, port)
            client.on_receive(self._received)
            self._set_status(f"connecting to {host}:{port} …")
            await self.netlab.registry.start(client)
        except NetlabError as exc:
            self._set_status(f"not connected — {exc}")
            self.notify(str(exc), title="Cannot connect", severity="error")
            return
        self.client = client
        self._write(Text(f"connected {client.local} → {client.peer}", style="bold"))
        self._set_status(f"connected {client.local} → {client.peer}")
        self._set_connected(True)
        self.query_one("#tcp-message", Input).focus()

    def _received(self, chunk: bytes | None) -> None:
        if chunk is None:
            self._write(Text("server closed the connection (EOF: recv returned b'')", style="bold red"))
            self._set_status("disconnected (server closed)")
            self._set_connected(False)
            return
        self._write(Text.assemble(("← ", "bold green"), (_visible(chunk), "green"),
                                  (f"  ({len(chunk)} B)", "dim")))

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

    # -- sending -------------------------------------------------------------------------------------
    @on(Input.Submitted, "#tcp-message")
    def _send_pressed(self, event: Input.Submitted) -> None:
        data = (event.value + "\n").encode("utf-8")
        event.input.value = ""
        self.send(data)

    @work(group="tcp-client-send", exit_on_error=False)
    async def send(self, data: bytes) -> None:
        if self.client is None:
            self.notify("connect first", severity="warning")
            return
        # Written before awaiting the send, so the transcript keeps the order of the exchange.
        self._write(Text.assemble(("→ ", "bold yellow"), (_visible(data), "yellow"), (f"  ({len(data)} B)", "dim")))
        try:
            await self.client.send(data)
        except NetlabError as exc:
            self._write(Text(f"not sent: {exc}", style="bold red"))
            self.notify(str(exc), title="Cannot send", severity="error")

    # -- helpers -------------------------------------------------------------------------------------
    def _write(self, text: Text) -> None:
        self.query_one("#tcp-transcript", RichLog).write(text)

    def _set_status(self, text: str) -> None:
        self.query_one("#tcp-status", Label).update(text)

    def _set_connected(self, connected: bool) -> None:
        self.query_one("#tcp-connect", Button).disabled = connected
        self.query_one("#tcp-disconnect", Button).disabled = not connected
        self.query_one("#tcp-message", Input).disabled = not connected
