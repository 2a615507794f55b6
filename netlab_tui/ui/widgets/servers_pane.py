"""Servers: start any lab server on a chosen address with its options, see the running ones, stop them,
and open a client on one."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from netlab_tui.engine.core.catalog import ServerKind, server_kinds
from netlab_tui.engine.core.events import format_addr
from netlab_tui.engine.core.netutil import is_all_interfaces
from netlab_tui.engine.core.sessions import NetlabError, Session
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane
from .host_select import HostSelect
from .wake_timer import WakeTimer

# Where a client should connect to reach a server bound to every interface.
_LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "*": "127.0.0.1", "::": "::1"}


@register_pane
class ServersPane(NetlabPane):
    PANE_ID = "servers"
    PANE_TITLE = "Servers"
    ORDER = 10
    HELP = """\
## Servers
Start the course's servers on this machine and talk to them from netlab, from `nc`/`socat`, or from
your own Python script. Every byte they receive and send appears in the traffic log.

1. Pick a **kind**; the line below the form says what it does. Some kinds take options
   (`tcp-greet`: the greeting; `contact`: the SQLite file, empty = your user data directory).
2. Keep **host** `127.0.0.1` (only this machine can connect) or use `::1` for IPv6.
   `0.0.0.0` or `::` make the server reachable from other machines: netlab warns you.
3. **Port** `0` lets the system choose a free port; the table shows the real one.
4. **Start** (or Enter in a field). Select a server in the table: **Stop** (or `delete`) stops it,
   **Client** (or `c`) opens the client that speaks its protocol, already connected to it, with the
   cursor in the message field (TCP, UDP) or the URL (HTTP, XML-RPC). A server you start is selected
   at once, so `c` right after works. Run several servers at once, each on its port.

The course's servers:
- `tcp-echo` sends back what it receives; `tcp-greet` replies `Recu: ` + the data; `tcp-time` replies
  `received at <time>: <data>`.
- `tcp-finquit` answers `Coucou ` + each message; `FIN` closes the connection without answering, `FIN,QUIT` stops the server.
- `contact` is the JSON contact book: one `{"cmd": "list"|"add"|"delete"|"find", "args": {...}}` per
  connection, answered `{"status": ..., "msg": ..., "data": ...}`, then closed.
- `roles` tells the first client `primary`, the next ones `secondary`; `chat` relays every line to the
  other clients, tagged with the sender.
- `udp-echo` replies `Recu: ` + each datagram; `udp-sink` records datagrams until one says `FIN`.

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
        Binding("c", "client_for_selected", "Client", id="servers.client"),
    ]

    DEFAULT_CSS = """
    ServersPane #server-kind { width: 1fr; }
    ServersPane #server-host { width: 18; }
    ServersPane #server-port { width: 12; }
    ServersPane #server-options { height: auto; }
    ServersPane #server-options Input { width: 1fr; }
    ServersPane #server-options .no-options { width: 1fr; color: $text-muted; padding: 1 1 0 0; }
    ServersPane #server-summary { color: $text-muted; height: auto; max-height: 4; padding: 0 1; }
    ServersPane #server-warning { color: $warning; height: auto; padding: 0 1; }
    ServersPane DataTable { height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._option_values: dict[tuple[str, str], str] = {}  # (kind, option) → what was typed
        self._shown_kind: str | None = None
        self._refresh_pending = False

    def compose(self) -> ComposeResult:
        kinds = server_kinds()
        yield HostSelect()
        with Horizontal(classes="form"):
            yield Label("Kind")
            yield Select([(f"{k.name}  ({k.proto})", k.name) for k in kinds.values()],
                         value="tcp-echo" if "tcp-echo" in kinds else Select.BLANK,
                         allow_blank=False, id="server-kind")
            yield Label("Host")
            yield Input("127.0.0.1", id="server-host", placeholder="127.0.0.1")
            yield Label("Port")
            yield Input("0", id="server-port", type="integer", placeholder="0 = any")
        with Horizontal(classes="form", id="server-options"):
            yield Button("Start", id="server-start", variant="success")
            yield Button("Stop", id="server-stop", variant="error")
            yield Button("Client", id="server-client")
        yield Static("", id="server-summary")
        yield Static("", id="server-warning")
        yield DataTable(id="servers-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#servers-table", DataTable)
        # No name column: a server's name is its kind@address, both shown; the bytes in/out stay in view
        # at 140 columns. (The row key is the name.)
        table.add_columns("kind", "address", "status", "conns", "bytes in", "bytes out")
        self._unsubscribe = self.netlab.registry.subscribe(self._session_changed)
        self._kind_changed()
        self._refresh_table()
        # The counters are checked once a second while a server exists, and not at all otherwise.
        self._counters_timer = WakeTimer(self, 1.0, self._refresh_counters, name="servers-counters")
        if self.netlab.registry.sessions(role="server"):
            self._counters_timer.wake()

    def on_unmount(self) -> None:
        self._unsubscribe()

    # -- the form ------------------------------------------------------------------------------------
    def selected_kind(self) -> ServerKind | None:
        return server_kinds().get(str(self.query_one("#server-kind", Select).value))

    @on(Select.Changed, "#server-kind")
    def _kind_changed(self) -> None:
        kind = self.selected_kind()
        if kind is None or kind.name == self._shown_kind:
            return
        self._remember_options()
        self._shown_kind = kind.name
        row = self.query_one("#server-options", Horizontal)
        for widget in list(row.children):
            if not isinstance(widget, Button):
                widget.remove()
        start = self.query_one("#server-start", Button)
        widgets: list = []
        for option in kind.options:
            widgets.append(Label(option.name))
            default = "" if option.default is None else str(option.default)
            widgets.append(Input(self._option_values.get((kind.name, option.name), default),
                                 placeholder="empty = the default", id=f"server-opt-{option.name}",
                                 tooltip=option.help))
        if not widgets:
            widgets.append(Static("no options", classes="no-options"))
        row.mount_all(widgets, before=start)
        lines = [f"{kind.title} ({kind.proto}): {kind.summary}"]
        lines += [f"{option.name}: {option.help}" for option in kind.options]
        self.query_one("#server-summary", Static).update("\n".join(lines))

    def _remember_options(self) -> None:
        if self._shown_kind is None:
            return
        for field in self.query("#server-options Input").results(Input):
            name = (field.id or "").removeprefix("server-opt-")
            self._option_values[(self._shown_kind, name)] = field.value

    @on(Input.Changed, "#server-host")
    def _host_changed(self, event: Input.Changed) -> None:
        warning = ""
        if is_all_interfaces(event.value.strip()):
            warning = f"⚠ {event.value.strip() or 'empty host'}: all interfaces — other machines can reach this server"
        self.query_one("#server-warning", Static).update(warning)

    def option_values(self, kind: ServerKind) -> dict[str, object]:
        """The kind's options as typed, converted; empty fields are left to the kind's default."""
        values: dict[str, object] = {}
        for option in kind.options:
            fields = list(self.query(f"#server-opt-{option.name}").results(Input))
            text = fields[0].value if fields else self._option_values.get((kind.name, option.name), "")
            if text == "":
                continue
            try:
                values[option.dest] = option.type(text)
            except (TypeError, ValueError):
                raise NetlabError(f"invalid {option.name} {text!r}: {option.help}") from None
        return values

    def prefill(self, **values: object) -> None:
        """``kind``, ``host``, ``port``, and the kind's options by name (``greeting``, ``db`` …)."""
        kind = server_kinds().get(str(values.get("kind") or self.query_one("#server-kind", Select).value))
        if kind is not None:
            for option in kind.options:
                if option.name in values:
                    self._option_values[(kind.name, option.name)] = str(values[option.name])
                    if kind.name == self._shown_kind:
                        for field in self.query(f"#server-opt-{option.name}").results(Input):
                            field.value = str(values[option.name])
            if "kind" in values:
                self.query_one("#server-kind", Select).value = kind.name
                self._kind_changed()
        if "host" in values:
            self.query_one("#server-host", Input).value = str(values["host"])
        if "port" in values:
            self.query_one("#server-port", Input).value = str(values["port"])

    # -- start/stop ----------------------------------------------------------------------------------
    @on(Button.Pressed, "#server-start")
    @on(Input.Submitted, "#server-host, #server-port, #server-options Input")
    def _start_pressed(self) -> None:
        kind = str(self.query_one("#server-kind", Select).value)
        host = self.query_one("#server-host", Input).value.strip() or "127.0.0.1"
        port_text = self.query_one("#server-port", Input).value.strip() or "0"
        try:
            options = self.option_values(server_kinds()[kind])
        except NetlabError as exc:
            self.notify(str(exc), title="Cannot start server", severity="error")
            return
        self.start_server(kind, host, port_text, options)

    @work(group="servers", exit_on_error=False)
    async def start_server(self, kind_name: str, host: str, port_text: str,
                           options: dict[str, object] | None = None) -> Session | None:
        try:
            kind = server_kinds()[kind_name]
            try:
                port = int(port_text)
            except ValueError:
                raise NetlabError(f"invalid port {port_text!r}: expected a number from 0 to 65535") from None
            session = kind.create(self.netlab.journal, host=host, port=port, **(options or {}))
            await self.netlab.registry.start(session)
        except (NetlabError, ValueError, OSError) as exc:
            self.notify(str(exc), title="Cannot start server", severity="error")
            return None
        if is_all_interfaces(host):
            self.notify(f"{session.name} is reachable from other machines (bound to all interfaces)",
                        title="Warning", severity="warning")
        else:
            self.notify(f"{session.name} started", timeout=3)
        self.select_session(session.name)
        return session

    def select_session(self, name: str, focus: bool = True) -> bool:
        """Put the table's cursor on the server ``name`` (and the focus on the table): ``c`` then opens
        its client."""
        self._refresh_table()
        table = self.query_one("#servers-table", DataTable)
        try:
            table.move_cursor(row=table.get_row_index(name))
        except Exception:  # stopped meanwhile
            return False
        if focus:
            table.focus()
        return True

    def selected_session(self) -> Session | None:
        table = self.query_one("#servers-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.netlab.registry.get(str(row_key.value))

    @on(Button.Pressed, "#server-stop")
    def action_stop_selected(self) -> None:
        session = self.selected_session()
        if session is None:
            self.notify("no server is running", severity="warning")
            return
        self.stop_server(session)

    @work(group="servers", exit_on_error=False)
    async def stop_server(self, session: Session) -> None:
        await self.netlab.registry.stop(session)
        self.notify(f"{session.name} stopped", timeout=3)

    @on(Button.Pressed, "#server-client")
    def action_client_for_selected(self) -> None:
        """Open the client that speaks the selected server's protocol, connected to it."""
        session = self.selected_session()
        if session is None or getattr(session, "port", None) is None:
            self.notify("start a server first, then select it in the table", severity="warning")
            return
        pane_id = client_pane_for(session)
        if pane_id is None:
            self.notify(f"{session.name}: netlab has no client pane for {session.proto}; use a terminal",
                        severity="warning")
            return
        if pane_id not in self.netlab.pane_ids:
            self.notify(f"no {pane_id} tool for {session.name}", severity="warning")
            return
        host = str(getattr(session, "host", "127.0.0.1"))
        host = _LOOPBACK_FOR.get(host, host)
        self._open_client(pane_id, client_prefill(pane_id, host, session))

    @work(group="servers", exit_on_error=False)
    async def _open_client(self, pane_id: str, prefill: dict) -> None:
        pane = await self.netlab.open_pane(pane_id, focus=False)  # built now if it never was shown
        connect = getattr(pane, "connect_to", None)
        if connect is None:
            self.netlab.show_pane(pane_id, **prefill)
            return
        connect(**prefill)

    # -- table ---------------------------------------------------------------------------------------
    def _refresh_counters(self) -> bool:
        if self.netlab.registry.sessions(role="server"):
            self._refresh_table()
            return True
        return False

    def _session_changed(self, session: Session) -> None:
        # Connections come and go in bursts: redraw at most ten times a second.
        if session.role == "server" and getattr(self, "_counters_timer", None) is not None:
            self._counters_timer.wake()
        if session.role == "server" and not self._refresh_pending:
            self._refresh_pending = True
            self.set_timer(0.1, self._refresh_table)

    def _refresh_table(self) -> None:
        self._refresh_pending = False
        if not self.is_mounted:
            return
        table = self.query_one("#servers-table", DataTable)
        selected = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        rows = [
            (session.name, (session.kind, getattr(session, "address", None) or "—", str(session.status),
                            _connections(session), f"{session.stats['bytes_in']:,}",
                            f"{session.stats['bytes_out']:,}"))
            for session in self.netlab.registry.sessions(role="server")
        ]
        if rows == getattr(self, "_shown_rows", None):
            return  # the same text: no repaint (the counters are checked every second)
        self._shown_rows = rows
        table.clear()
        for name, cells in rows:
            table.add_row(*cells, key=name)
        if selected is not None:
            try:
                table.move_cursor(row=table.get_row_index(selected))
            except Exception:  # the selected server is gone: the cursor stays where it was
                pass


def client_pane_for(session: Session) -> str | None:
    """The pane that talks to ``session``: TCP and UDP servers their socket client, the HTTP servers
    the HTTP client, the XML-RPC service the RPC client."""
    if session.kind == "xmlrpc":
        return "rpc"
    return {"tcp": "tcp-client", "udp": "udp-client", "http": "http-client"}.get(session.proto)


def client_prefill(pane_id: str, host: str, session: Session) -> dict[str, object]:
    port = int(getattr(session, "port", 0) or 0)
    if pane_id in ("http-client", "rpc"):
        return {"url": f"http://{format_addr(host, port)}/"}
    return {"host": host, "port": port}


def _connections(session: Session) -> str:
    """Open connections (TCP) or peers seen (UDP), with the total since start."""
    connections = getattr(session, "connections", None)
    if isinstance(connections, dict):
        total = getattr(session, "total_connections", None)
        return f"{len(connections)}" + (f" / {total}" if total else "")
    peers = getattr(session, "peers", None)
    if isinstance(peers, list):
        return f"{len(peers)} peers"
    return "—"
