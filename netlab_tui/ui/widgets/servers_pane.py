"""Servers: start any lab server on a chosen address, see the running ones, stop them."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from ...engine.catalog import server_kinds
from ...engine.netutil import is_all_interfaces
from ...engine.sessions import NetlabError, Session
from ..panes import register_pane
from .base import NetlabPane


@register_pane
class ServersPane(NetlabPane):
    PANE_ID = "servers"
    PANE_TITLE = "Servers"
    ORDER = 10
    HELP = """\
## Servers
Start the course's servers on this machine and talk to them from netlab, from `nc`/`socat`, or from
your own Python script. Every byte they receive and send appears in the traffic log.

1. Pick a **kind** (`tcp-echo` sends back what it receives).
2. Keep **host** `127.0.0.1` (only this machine can connect) or use `::1` for IPv6.
   `0.0.0.0` makes the server reachable from other machines: netlab warns you.
3. **Port** `0` lets the system choose a free port; the table shows the real one.
4. **Start** (or Enter in the port field). Select a server in the table and **Stop** (or `delete`).

Your own client, the way the course writes it:
```python
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", PORT))
s.sendall(b"Hello")
print(s.recv(1024))
s.close()
```
"""

    BINDINGS: ClassVar = [
        Binding("delete", "stop_selected", "Stop server", id="servers.stop"),
    ]

    DEFAULT_CSS = """
    ServersPane .form { height: auto; }
    ServersPane .form Label { padding: 1 1 0 0; }
    ServersPane #server-kind { width: 1fr; }
    ServersPane #server-host { width: 18; }
    ServersPane #server-port { width: 10; }
    ServersPane #server-summary { color: $text-muted; height: 1; padding: 0 1; }
    ServersPane DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        kinds = server_kinds()
        with Horizontal(classes="form"):
            yield Label("Kind")
            yield Select([(k.name, k.name) for k in kinds.values()], value="tcp-echo" if "tcp-echo" in kinds else Select.BLANK,
                         allow_blank=False, id="server-kind")
        with Horizontal(classes="form"):
            yield Label("Host")
            yield Input("127.0.0.1", id="server-host", placeholder="127.0.0.1")
            yield Label("Port")
            yield Input("0", id="server-port", type="integer", placeholder="0 = any")
            yield Button("Start", id="server-start", variant="success")
            yield Button("Stop", id="server-stop", variant="error")
        yield Static("", id="server-summary")
        table = DataTable(id="servers-table", cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        table = self.query_one("#servers-table", DataTable)
        table.add_columns("name", "kind", "address", "status", "conns", "in", "out")
        self._unsubscribe = self.netlab.registry.subscribe(self._session_changed)
        self._update_summary()
        self._refresh_table()
        self.set_interval(1.0, self._refresh_counters)

    def _refresh_counters(self) -> None:
        if self.netlab.registry.sessions(role="server"):
            self._refresh_table()

    def on_unmount(self) -> None:
        self._unsubscribe()

    @on(Select.Changed, "#server-kind")
    def _kind_changed(self) -> None:
        self._update_summary()

    def _update_summary(self) -> None:
        kind = server_kinds().get(str(self.query_one("#server-kind", Select).value))
        self.query_one("#server-summary", Static).update(f"{kind.title}: {kind.summary}" if kind else "")

    def prefill(self, **values: object) -> None:
        if "kind" in values:
            self.query_one("#server-kind", Select).value = str(values["kind"])
        if "host" in values:
            self.query_one("#server-host", Input).value = str(values["host"])
        if "port" in values:
            self.query_one("#server-port", Input).value = str(values["port"])

    # -- start/stop ----------------------------------------------------------------------------------
    @on(Button.Pressed, "#server-start")
    @on(Input.Submitted, "#server-host, #server-port")
    def _start_pressed(self) -> None:
        kind = str(self.query_one("#server-kind", Select).value)
        host = self.query_one("#server-host", Input).value.strip() or "127.0.0.1"
        port_text = self.query_one("#server-port", Input).value.strip() or "0"
        self.start_server(kind, host, port_text)

    @work(group="servers", exit_on_error=False)
    async def start_server(self, kind_name: str, host: str, port_text: str) -> Session | None:
        try:
            kind = server_kinds()[kind_name]
            try:
                port = int(port_text)
            except ValueError:
                raise NetlabError(f"invalid port {port_text!r}: expected a number from 0 to 65535") from None
            session = kind.create(self.netlab.journal, host=host, port=port)
            await self.netlab.registry.start(session)
        except (NetlabError, ValueError, OSError) as exc:
            self.notify(str(exc), title="Cannot start server", severity="error")
            return None
        if is_all_interfaces(host):
            self.notify(f"{session.name} is reachable from other machines (bound to all interfaces)",
                        title="Warning", severity="warning")
        else:
            self.notify(f"{session.name} started", timeout=3)
        return session

    @on(Button.Pressed, "#server-stop")
    def action_stop_selected(self) -> None:
        table = self.query_one("#servers-table", DataTable)
        if table.row_count == 0:
            self.notify("no server is running", severity="warning")
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        session = self.netlab.registry.get(str(row_key.value))
        if session is not None:
            self.stop_server(session)

    @work(group="servers", exit_on_error=False)
    async def stop_server(self, session: Session) -> None:
        await self.netlab.registry.stop(session)
        self.notify(f"{session.name} stopped", timeout=3)

    # -- table ---------------------------------------------------------------------------------------
    def _session_changed(self, session: Session) -> None:
        # Connections come and go in bursts: redraw at most ten times a second.
        if session.role == "server" and not self._refresh_pending:
            self._refresh_pending = True
            self.set_timer(0.1, self._refresh_table)

    _refresh_pending = False

    def _refresh_table(self) -> None:
        self._refresh_pending = False
        if not self.is_mounted:
            return
        table = self.query_one("#servers-table", DataTable)
        selected = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        for session in self.netlab.registry.sessions(role="server"):
            table.add_row(
                session.name,
                session.kind,
                getattr(session, "address", None) or "—",
                str(session.status),
                str(len(getattr(session, "connections", {}) or {})),
                f"{session.stats['bytes_in']:,}",
                f"{session.stats['bytes_out']:,}",
                key=session.name,
            )
        if selected is not None:
            try:
                table.move_cursor(row=table.get_row_index(selected))
            except Exception:
                pass
