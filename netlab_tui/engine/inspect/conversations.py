"""Conversations, follow-stream and the flow graph: Wireshark's three views of "who said what to whom".

A *conversation* is everything that shares a ``conn`` id: one TCP connection, one UDP peer pair, one HTTP
exchange, one process. On loopback netlab often holds both ends of one connection (its client talking to
its server): the two ``conn`` ids with the same pair of endpoints are one conversation, as in a capture —
its bytes are counted once (each direction as the side that saw the most of it), its events from both. ``ConversationTable`` keeps the statistics up to date one event at a time (the
TUI feeds it live); HTTP exchanges name the TCP connection they travelled on (``meta.tcp``), so the
connection's row counts their bytes too and following it shows the whole keep-alive stream.

``follow_stream`` puts both directions of a conversation in order as text, a hex dump or raw hex;
``flow_graph`` draws it as an ASCII ladder. Every line they return carries the ``seq`` of the event it
came from, so a face can jump from a line to its event. Packet-level events (from a pcap, with
``meta.flags``) draw SYN / SYN-ACK / ACK / FIN as a real capture shows them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from netlab_tui.engine.core.events import TrafficEvent

from .decoders import Line
from .decoders.hexdump import hexdump_lines, layout_for, offset_digits

# -- conversations table ---------------------------------------------------------------------------------
INITIATING = ("connect",)


@dataclass
class Conversation:
    conn: str
    proto: str
    source: str
    local: str | None = None
    peer: str | None = None
    initiator: str | None = None  # "local" (netlab connected) or "peer" (netlab accepted), when known
    first_ts: float = 0.0
    last_ts: float = 0.0
    first_seq: int = 0
    last_seq: int = 0
    events: int = 0
    events_in: int = 0
    events_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    state: str = "open"
    closed_by: str | None = None
    parent: str | None = None  # the TCP connection an HTTP exchange travelled on
    children: list[str] = field(default_factory=list)
    conns: list[str] = field(default_factory=list)  # every conn id of this conversation (both ends)
    key: str = ""  # the first conn seen: a stable name for the row while ``conn`` may change
    # per conn: [bytes_in, bytes_out, events_in, events_out] as that end saw them, and that end's address
    sides: dict[str, list[int]] = field(default_factory=dict, repr=False)
    side_local: dict[str, str | None] = field(default_factory=dict, repr=False)

    @property
    def filter(self) -> str:
        """The filter-language expression that shows this conversation (both ends)."""
        return "conn " + ",".join([self.conn] + [c for c in self.conns if c != self.conn])

    @property
    def duration(self) -> float:
        return max(0.0, self.last_ts - self.first_ts)

    @property
    def client(self) -> str | None:
        return self.local if self.initiator == "local" else self.peer

    @property
    def server(self) -> str | None:
        return self.peer if self.initiator == "local" else self.local

    @property
    def endpoints(self) -> str:
        if self.initiator == "local":
            return f"{self.local or '?'} → {self.peer or '?'}"
        if self.peer:
            return f"{self.peer} → {self.local or '?'}"
        return self.local or self.source

    def to_dict(self) -> dict[str, Any]:
        return {
            "conn": self.conn, "proto": self.proto, "source": self.source, "local": self.local, "peer": self.peer,
            "client": self.client, "server": self.server, "events": self.events,
            "events_in": self.events_in, "events_out": self.events_out,
            "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
            "start": self.first_ts, "duration": round(self.duration, 6), "state": self.state,
            "closed_by": self.closed_by, "parent": self.parent, "conns": list(self.conns or [self.conn]),
        }


class ConversationTable:
    """Conversations keyed by ``conn``, updated one event at a time."""

    def __init__(self) -> None:
        self._rows: dict[str, Conversation] = {}  # by key (the row's first conn)
        self._by_conn: dict[str, Conversation] = {}  # every conn of every row
        self._by_pair: dict[tuple, Conversation] = {}  # (proto, {endpoint, endpoint}) → row
        self.version = 0  # bumped on every change, so a view can tell whether to redraw

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, conn: str) -> Conversation | None:
        return self._by_conn.get(conn)

    def rows(self) -> list[Conversation]:
        return sorted(self._rows.values(), key=lambda c: c.first_seq)

    def clear(self) -> None:
        self._rows.clear()
        self._by_conn.clear()
        self._by_pair.clear()
        self.version += 1

    def extend(self, events: Iterable[TrafficEvent]) -> None:
        for event in events:
            self.add(event)

    def _row_for(self, event: TrafficEvent, conn: str) -> Conversation:
        row = self._by_conn.get(conn)
        pair = None
        if event.local and event.peer and event.proto in ("tcp", "udp", "http", "rpc", "ssh") and not (event.meta or {}).get("tcp"):
            pair = (event.proto, frozenset((event.local, event.peer)))
        if row is None:
            other = self._by_pair.get(pair) if pair is not None else None
            if other is not None and other.side_local.get(other.conn) != event.local:
                row = other  # the other end of a connection netlab already holds
            else:
                row = Conversation(conn, event.proto, event.source, first_ts=event.ts, first_seq=event.seq, key=conn)
                self._rows[conn] = row
            row.conns.append(conn)
            row.sides[conn] = [0, 0, 0, 0]
            self._by_conn[conn] = row
        if pair is not None and pair not in self._by_pair:
            self._by_pair[pair] = row
        if row.side_local.get(conn) is None and event.local:
            row.side_local[conn] = event.local
        return row

    def _recount(self, row: Conversation) -> None:
        """The row's counts as its primary end (``row.conn``) sees them: each direction from the end that
        saw the most of it (both ends see the same bytes; one may have started watching later)."""
        if len(row.sides) == 1:
            row.bytes_in, row.bytes_out, row.events_in, row.events_out = next(iter(row.sides.values()))
            return
        best = [0, 0, 0, 0]
        for conn, (b_in, b_out, e_in, e_out) in row.sides.items():
            if conn != row.conn and row.side_local.get(conn) not in (None, row.local):
                b_in, b_out, e_in, e_out = b_out, b_in, e_out, e_in  # the other end: its "in" is our "out"
            best = [max(best[0], b_in), max(best[1], b_out), max(best[2], e_in), max(best[3], e_out)]
        row.bytes_in, row.bytes_out, row.events_in, row.events_out = best

    def add(self, event: TrafficEvent) -> None:
        conn = event.conn
        if not conn:
            return
        self.version += 1
        row = self._row_for(event, conn)
        primary = conn == row.conn
        row.events += 1
        row.last_ts = max(row.last_ts, event.ts)
        row.last_seq = event.seq
        if primary:
            row.local = row.local or event.local
            row.peer = row.peer or event.peer
        kind = event.kind
        meta = event.meta or {}
        if kind == "connect" and event.direction != "in" and not primary and row.initiator != "local":
            # netlab's client end of a connection first seen from its server end: lead with the client
            # (Wireshark's left-hand side), as the row would had the client's event come first.
            row.conn, row.source, row.local, row.peer, row.initiator = conn, event.source, event.local, event.peer, None
            primary = True
        if row.initiator is None and primary:
            if kind == "connect":
                # netlab's own connect has no direction; a captured SYN arrives "in" at the server we show
                row.initiator = "peer" if event.direction == "in" else "local"
            elif kind in ("accept", "request"):
                row.initiator = "peer"
        size = event.size
        side = row.sides[conn]
        if event.direction == "in":
            side[0] += size
            side[2] += 1
        elif event.direction == "out":
            side[1] += size
            side[3] += 1
        parent = meta.get("tcp")
        if isinstance(parent, str) and parent != conn:
            row.parent = parent
            tcp = self._by_conn.get(parent)
            if tcp is not None:
                if conn not in tcp.children:
                    tcp.children.append(conn)
                tcp_side = tcp.sides.setdefault(parent, [0, 0, 0, 0])
                if event.direction == "in":
                    tcp_side[0] += size
                    tcp_side[2] += 1
                elif event.direction == "out":
                    tcp_side[1] += size
                    tcp_side[3] += 1
                tcp.last_ts = max(tcp.last_ts, event.ts)
                self._recount(tcp)
        self._recount(row)
        if kind == "close":
            flags = meta.get("flags")
            if isinstance(flags, str) and "R" in flags:
                row.state = "reset"
            elif row.state != "reset":
                row.state = "closed"
            by = meta.get("by")
            if by is not None and (primary or row.closed_by is None):
                if not primary:  # the other end's "peer" is this end
                    by = {"peer": "netlab", "netlab": "peer"}.get(str(by), by)
                row.closed_by = str(by)
        elif kind == "error" and "reset" in (event.message or "").lower():
            row.state = "reset"
        elif kind == "exit":
            code = meta.get("code", meta.get("exit_code", meta.get("returncode")))
            row.state = f"exited {code}" if code is not None else "exited"
        elif kind == "response" and row.state in ("open", "waiting"):
            status = meta.get("status")
            row.state = f"answered {status}" if status is not None else "answered"
        elif kind == "request" and row.state == "open":
            row.state = "waiting"


def conversations(events: Iterable[TrafficEvent]) -> list[Conversation]:
    table = ConversationTable()
    table.extend(events)
    return table.rows()


# -- follow stream ---------------------------------------------------------------------------------------
STREAM_MODES = ("text", "hex", "raw")


@dataclass
class Chunk:
    seq: int
    ts: float
    direction: str  # "in" or "out"
    data: bytes


@dataclass
class Stream:
    conn: str
    chunks: list[Chunk]
    local: str | None
    peer: str | None
    initiator: str | None

    @property
    def bytes_in(self) -> int:
        return sum(len(c.data) for c in self.chunks if c.direction == "in")

    @property
    def bytes_out(self) -> int:
        return sum(len(c.data) for c in self.chunks if c.direction == "out")

    def data(self, direction: str | None = None) -> bytes:
        """The stream's bytes in order (one direction, or both interleaved as they happened)."""
        return b"".join(c.data for c in self.chunks if direction is None or c.direction == direction)


@dataclass
class StreamView:
    title: str
    lines: list[Line]
    seqs: list[int | None]  # the event behind each line

    def plain(self) -> str:
        return "\n".join("".join(text for text, _ in line) for line in self.lines)


def _belongs(event: TrafficEvent, conn: str) -> bool:
    if event.conn == conn:
        return True
    parent = (event.meta or {}).get("tcp") if event.meta else None
    return parent == conn


def follow_stream(events: Iterable[TrafficEvent], conn: str) -> Stream:
    """Both directions of ``conn`` in order; exchanges carried by a TCP connection are included."""
    chunks: list[Chunk] = []
    local = peer = initiator = None
    for event in events:
        if not _belongs(event, conn):
            continue
        local = local or event.local
        peer = peer or event.peer
        if initiator is None and event.kind == "connect":
            initiator = "peer" if event.direction == "in" else "local"
        elif initiator is None and event.kind in ("accept", "request"):
            initiator = "peer"
        if event.payload and event.direction in ("in", "out"):
            if event.meta and event.meta.get("retransmission"):
                continue
            chunks.append(Chunk(event.seq, event.ts, event.direction, event.payload))
    return Stream(conn, chunks, local, peer, initiator)


def _visible_text(data: bytes) -> list[str]:
    """Wireshark's ASCII: printable characters kept, others as '.', split at line feeds."""
    text = data.decode("utf-8", errors="replace")
    out = []
    for line in text.split("\n"):
        out.append("".join(ch if ch == "\t" or (ch.isprintable() and ch != "\ufffd") else "." for ch in
                           line.rstrip("\r")))
    if out and out[-1] == "" and data.endswith(b"\n"):
        out.pop()
    return out


def render_stream(stream: Stream, mode: str = "text", *, max_lines: int = 50_000,
                  columns: int | None = None) -> StreamView:
    """``stream`` as lines tagged ``in``/``out`` (colour per direction), each with its event's seq. In hex,
    ``columns`` (the view's width) picks a hex layout that fits with the server's indent, 16 bytes a row."""
    if mode not in STREAM_MODES:
        raise ValueError(f"mode must be one of {', '.join(STREAM_MODES)}")
    lines: list[Line] = []
    seqs: list[int | None] = []
    out_name = stream.local or "netlab"
    in_name = stream.peer or "peer"
    header = (f"{stream.conn}: {out_name} sent {stream.bytes_out:,} B, {in_name} sent {stream.bytes_in:,} B, "
              f"{len(stream.chunks)} chunk{'s' if len(stream.chunks) != 1 else ''}")
    lines.append([(header, "header")])
    seqs.append(None)
    offsets = {"in": 0, "out": 0}
    # Wireshark indents what the server sent: "in" when netlab is the client, "out" when it served.
    server_sends = "out" if stream.initiator == "peer" else "in"
    total = max(stream.bytes_in, stream.bytes_out)
    layout = layout_for(None if columns is None else columns - 4, total)
    digits = offset_digits(layout, total)
    for chunk in stream.chunks:
        tag = chunk.direction
        if mode == "text":
            for text in _visible_text(chunk.data):
                lines.append([(text, tag)])
                seqs.append(chunk.seq)
        elif mode == "hex":
            indent = "    " if chunk.direction == server_sends else ""
            for line in hexdump_lines(chunk.data, layout=layout, digits=digits):
                offset_text = f"{offsets[tag] + int(line[0][0].strip(), 16):0{digits}x}"
                offset_text += line[0][0][len(line[0][0].rstrip()):]  # the layout's gap after the offset
                lines.append([(indent + offset_text, "offset"), ("".join(text for text, _ in line[1:]), tag)])
                seqs.append(chunk.seq)
            offsets[tag] += len(chunk.data)
        else:
            hex_text = chunk.data.hex()
            for i in range(0, len(hex_text), 64):
                lines.append([(hex_text[i : i + 64], tag)])
                seqs.append(chunk.seq)
        if len(lines) >= max_lines:
            lines.append([(f"… stream cut at {max_lines:,} lines", "dim")])
            seqs.append(None)
            break
    title = f"Follow stream {stream.conn} ({mode})"
    return StreamView(title, lines, seqs)


# -- flow graph ------------------------------------------------------------------------------------------
FLAG_NAMES = {"S": "SYN", "F": "FIN", "R": "RST", "P": "PSH", "A": "ACK", "U": "URG", "E": "ECE", "C": "CWR"}
_FLAG_ORDER = "SFRPAUEC"


def flag_text(flags: str) -> str:
    """``"SA"`` → ``"SYN, ACK"`` (Wireshark's order)."""
    return ", ".join(FLAG_NAMES[f] for f in _FLAG_ORDER if f in flags)


def _preview(data: bytes, width: int) -> str:
    text = data[: width * 4].decode("utf-8", errors="replace")
    text = text.translate(_VISIBLE)
    return text if len(text) <= width else text[: width - 1] + "…"


_VISIBLE = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}


def _event_label(event: TrafficEvent, preview_width: int) -> str:
    meta = event.meta or {}
    flags = meta.get("flags")
    if isinstance(flags, str):
        parts = [flag_text(flags)]
        if "seq" in meta:
            parts.append(f"seq={meta['seq']}")
        if "A" in flags and "ack" in meta:
            parts.append(f"ack={meta['ack']}")
        label = " ".join(parts)
        if event.payload:
            label += f" len={event.size} {_preview(event.payload, preview_width)!s}"
        return label
    kind = event.kind
    if event.payload is not None:
        extra = ""
        if kind == "request" and meta.get("method"):
            extra = f" {meta['method']} {meta.get('target') or meta.get('path') or ''}".rstrip()
        elif kind == "response" and meta.get("status") is not None:
            extra = f" {meta['status']}"
        return f"{kind}{extra} {event.size} B \"{_preview(event.payload, preview_width)}\""
    if kind == "close":
        by = meta.get("by")
        return f"close ({event.message or by or ''})".replace(" ()", "")
    if kind in ("connect", "accept"):
        return "connect"
    return f"{kind}: {event.message or ''}".rstrip(": ")


def _sender(event: TrafficEvent) -> str | None:
    """Which side the arrow leaves from: "local" or "peer" (None for a note across the ladder)."""
    if event.direction == "out":
        return "local"
    if event.direction == "in":
        return "peer"
    kind = event.kind
    if kind == "connect":
        return "local"
    if kind == "accept":
        return "peer"
    if kind == "close":
        by = (event.meta or {}).get("by")
        return "peer" if by == "peer" else "local"
    return None


def flow_graph(events: Iterable[TrafficEvent], conn: str, *, width: int = 100,
               max_lines: int = 5_000) -> StreamView:
    """An ASCII ladder of ``conn``: the initiator on the left, one arrow per event, time down the side."""
    chosen = [e for e in events if _belongs(e, conn)]
    if not chosen:
        return StreamView(f"Flow graph {conn}", [[(f"no events for {conn}", "dim")]], [None])
    local = next((e.local for e in chosen if e.local), None)
    peer = next((e.peer for e in chosen if e.peer), None)
    initiator = None
    for e in chosen:
        if e.kind == "connect":
            initiator = "peer" if e.direction == "in" else "local"
            break
        if e.kind in ("accept", "request"):
            initiator = "peer"
            break
    left_side = "local" if initiator == "local" else "peer"
    names = {"local": local or "netlab", "peer": peer or "?"}
    from_capture = chosen[0].source.startswith("pcap:")
    roles = {"local": "server" if initiator != "local" else "client",
             "peer": "client" if initiator != "local" else "server"}
    if not from_capture:
        roles["local"] += ", netlab"
    t0 = chosen[0].ts
    time_w = 11
    inner = max(30, width - time_w - 2)
    lines: list[Line] = []
    seqs: list[int | None] = []

    left_title = f"{names[left_side]} ({roles[left_side]})"
    right_side = "peer" if left_side == "local" else "local"
    right_title = f"{names[right_side]} ({roles[right_side]})"
    gap = max(1, inner + 2 - len(left_title) - len(right_title))
    lines.append([(f"{'time (s)':<{time_w}}", "dim"), (left_title, "header"), (" " * gap, None),
                  (right_title, "header")])
    seqs.append(None)
    lines.append([(" " * time_w, None), ("│" + " " * inner + "│", "dim")])
    seqs.append(None)
    for event in chosen:
        stamp = f"{event.ts - t0:<{time_w - 1}.6f} "
        sender = _sender(event)
        label = _event_label(event, max(8, inner // 3))
        tag = event.direction or ("out" if sender == "local" else "in" if sender == "peer" else None)
        if sender is None:
            text = f" {label} "
            if len(text) > inner:
                text = text[: inner - 1] + "…"
            lines.append([(stamp, "dim"), ("│", "dim"), (text.center(inner, " "), "dim"), ("│", "dim")])
        else:
            body = inner - 1  # room between the post and the arrow head
            text = f" {label} "
            if len(text) > body - 4:
                text = text[: body - 5] + "… "
            dashes = body - len(text)
            left_dashes = dashes // 2
            shaft = "─" * left_dashes + text + "─" * (dashes - left_dashes)
            if sender == left_side:
                lines.append([(stamp, "dim"), ("├", "dim"), (shaft + "►", tag), ("│", "dim")])
            else:
                lines.append([(stamp, "dim"), ("│", "dim"), ("◄" + shaft, tag), ("┤", "dim")])
        seqs.append(event.seq)
        if len(lines) >= max_lines:
            lines.append([(f"… cut at {max_lines:,} lines", "dim")])
            seqs.append(None)
            break
    lines.append([(" " * time_w, None), ("│" + " " * inner + "│", "dim")])
    seqs.append(None)
    start = time.strftime("%H:%M:%S", time.localtime(t0))
    return StreamView(f"Flow graph {conn} (from {start})", lines, seqs)
