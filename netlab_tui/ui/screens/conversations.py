"""Conversations: every connection, exchange and peer pair, with events and bytes each way.

Wireshark's Statistics → Conversations, live: the table updates while traffic flows. Enter selects the
highlighted conversation's first event in the log; ``f`` filters the log to it (said aloud, and undone
with Esc in the filter bar); ``s`` follows its stream, ``g`` draws its flow graph. Both ends of one
loopback connection (netlab's client and netlab's server) are one row.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.inspect.conversations import Conversation, ConversationTable

COLUMNS = ("conn", "proto", "client", "server", "events", "client → server", "server → client", "duration",
           "state", "session")


def _bytes(n: int, events: int) -> str:
    return f"{n:,} B / {events}"


def row_cells(row: Conversation) -> tuple[str, ...]:
    if row.initiator == "local":  # netlab connected: it is the client
        up, up_events, down, down_events = row.bytes_out, row.events_out, row.bytes_in, row.events_in
    else:
        up, up_events, down, down_events = row.bytes_in, row.events_in, row.bytes_out, row.events_out
    conn = row.conn if len(row.conns) < 2 else f"{row.conn} (+{len(row.conns) - 1})"
    return (conn, row.proto, row.client or "—", row.server or "—", str(row.events), _bytes(up, up_events),
            _bytes(down, down_events), f"{row.duration:.3f}s", row.state, row.source)


class ConversationsScreen(Screen[tuple[str, str] | None]):
    """Dismissed with ("filter", expression), ("event", seq) or None; streams and graphs open from here."""

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="conv.close"),
        Binding("f", "filter", "Filter log", id="conv.filter"),
        Binding("s", "follow_stream", "Follow stream", id="conv.stream"),
        Binding("g", "flow_graph", "Flow graph", id="conv.flow"),
    ]

    DEFAULT_CSS = """
    ConversationsScreen > Vertical { border: round $accent; border-title-color: $text; }
    ConversationsScreen #conv-hint { height: 1; padding: 0 1; color: $text-muted; }
    ConversationsScreen DataTable { height: 1fr; }
    """

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal
        self.table = ConversationTable()
        self._subscription = None
        self._shown_version = -1

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Conversations"
            yield Static("Enter: go to its first event · f: filter the log to it · s: follow stream · g: flow graph",
                         id="conv-hint")
            yield DataTable(id="conv-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for title in COLUMNS:
            table.add_column(title, key=title)
        self.table.extend(self.journal.events())
        self._subscription = self.journal.subscribe(self.table.add)
        self.refresh_table()
        self.set_interval(0.5, self.refresh_table)
        table.focus()

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()

    def refresh_table(self) -> None:
        if self.table.version == self._shown_version:
            return
        self._shown_version = self.table.version
        data = self.query_one(DataTable)
        for row in self.table.rows():
            cells = row_cells(row)
            if row.key in data.rows:
                for column, value in zip(COLUMNS, cells):
                    if data.get_cell(row.key, column) != value:
                        data.update_cell(row.key, column, value)
            else:
                data.add_row(*cells, key=row.key)
        self.query_one(Vertical).border_title = f"Conversations ({len(self.table)})"

    @property
    def current(self) -> Conversation | None:
        data = self.query_one(DataTable)
        if data.row_count == 0:
            return None
        key = data.coordinate_to_cell_key(data.cursor_coordinate).row_key
        return self.table.get(str(key.value)) if key is not None and key.value is not None else None

    @property
    def current_conn(self) -> str | None:
        row = self.current
        return row.conn if row is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.current
        if row is not None:
            self.dismiss(("event", str(row.first_seq)))

    def action_filter(self) -> None:
        row = self.current
        if row is not None:
            self.dismiss(("filter", row.filter))

    def action_follow_stream(self) -> None:
        conn = self.current_conn
        if conn:
            from .follow_stream import FollowStreamScreen

            self.app.push_screen(FollowStreamScreen(self.journal, conn), callback=self._jump)

    def action_flow_graph(self) -> None:
        conn = self.current_conn
        if conn:
            from .flow_graph import FlowGraphScreen

            self.app.push_screen(FlowGraphScreen(self.journal, conn), callback=self._jump)

    def _jump(self, seq: int | None) -> None:
        if seq is not None:
            self.dismiss(("event", str(seq)))

    def action_close(self) -> None:
        self.dismiss(None)
