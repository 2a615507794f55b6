"""``watch-collector``: the server end of the course's "send every change of a directory" exercise.

Each line a client sends is one JSON change (``netlab watch DIR --forward HOST:PORT`` sends them; a
learner's own client may send ``{"event_type": "created", "src_path": "a.txt"}`` in watchdog's words).
Every change becomes an ``fs`` event whose text starts with the client it came from, and
``clients`` keeps per-client counts, so several watchers can report to one collector.

The collector greets with ``{"netlab": "watch-collector", "ack": true}`` and acknowledges netlab
watchers' lines by sequence number (``{"ack": 42}``); a watcher that lost its connection resends what
was not acknowledged, and the duplicates that can cause are recognised and dropped here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.sockets.behaviours import Behaviour

from .watcher import CHANGE_KINDS, COLLECTOR_NAME, GREETING_KEY

if TYPE_CHECKING:
    from netlab_tui.engine.sockets.tcp import TcpConnection, TcpServer

MAX_LINE = 1 << 20
GREETING = (json.dumps({GREETING_KEY: COLLECTOR_NAME, "ack": True}) + "\n").encode()
# What learners' clients call things (watchdog's attribute names) → netlab's.
_ALIASES = {"event_type": "kind", "src_path": "path", "is_directory": "is_dir", "type": "kind"}


@dataclass
class CollectorClient:
    """One watcher, across its reconnections."""

    label: str
    peer: str | None
    changes: int = 0
    duplicates: int = 0
    connections: int = 0
    connected: bool = False
    last_seen: float = field(default_factory=time.time)
    by_kind: dict[str, int] = field(default_factory=dict)


class WatchCollectorBehaviour(Behaviour):
    kind = COLLECTOR_NAME
    title = "Watch collector"

    def __init__(self) -> None:
        self.clients: dict[str, CollectorClient] = {}
        self._last_seq: dict[tuple[str, str], int] = {}

    async def on_connect(self, conn: "TcpConnection") -> None:
        conn.state["buffer"] = b""
        conn.state["label"] = None
        conn.send(GREETING)

    async def on_data(self, conn: "TcpConnection", data: bytes) -> None:
        buffer = conn.state["buffer"] + data
        *lines, rest = buffer.split(b"\n")
        if len(rest) > MAX_LINE:
            conn.info(f"{conn.peer} sent {len(rest):,} bytes without a newline: not JSON lines; closing")
            conn.close("line too long")
            return
        conn.state["buffer"] = rest
        highest_ack = None
        for raw in lines:
            if not raw.strip():
                continue
            seq = self._receive(conn, raw)
            if seq is not None:
                highest_ack = seq if highest_ack is None else max(highest_ack, seq)
        if highest_ack is not None:
            conn.send((json.dumps({"ack": highest_ack}) + "\n").encode())

    async def on_close(self, conn: "TcpConnection") -> None:
        label = conn.state.get("label")
        client = self.clients.get(label) if label else None
        if client is not None:
            client.connected = False
            conn.info(f"[{label}] disconnected after {client.changes:,} change{'s' if client.changes != 1 else ''}",
                      client=label, changes=client.changes)

    def _receive(self, conn: "TcpConnection", raw: bytes) -> int | None:
        """Show one change; returns its seq when it is to be acknowledged."""
        try:
            change = json.loads(raw)
        except ValueError:
            conn.info(f"ignored a line that is not JSON: {raw[:60]!r}", ignored=True)
            return None
        if not isinstance(change, dict):
            conn.info("ignored a JSON line that is not an object", ignored=True)
            return None
        change = {_ALIASES.get(k, k): v for k, v in change.items()}
        kind = str(change.get("kind") or "").lower()
        path = change.get("path")
        if kind not in CHANGE_KINDS or not isinstance(path, str):
            conn.info(f"ignored a line without a change kind ({'/'.join(CHANGE_KINDS)}) and a path", ignored=True)
            return None
        label = str(change.get("watcher") or conn.peer)
        client = self._client(conn, label)
        seq = change.get("seq")
        run = change.get("run")
        if isinstance(seq, int) and not isinstance(seq, bool) and run is not None:
            key = (label, str(run))
            if seq <= self._last_seq.get(key, 0):
                client.duplicates += 1
                return seq  # already shown: a resend after a reconnection
            self._last_seq[key] = seq
        else:
            seq = None
        client.changes += 1
        client.last_seen = time.time()
        client.by_kind[kind] = client.by_kind.get(kind, 0) + 1
        rel = change.get("rel") or path
        dest = change.get("dest_rel") or change.get("dest_path")
        is_dir = bool(change.get("is_dir"))
        shown = f"{rel}{'/' if is_dir else ''}" + (f" → {dest}" if dest else "")
        meta: dict[str, Any] = {
            "client": label, "path": path, "dest_path": change.get("dest_path"), "is_dir": is_dir,
            "rel": change.get("rel"), "dest_rel": change.get("dest_rel"), "seq": seq,
            "client_ts": change.get("ts"),
        }
        self.server.emit(kind, proto="fs", direction="in", local=conn.local, peer=conn.peer, conn=conn.id,
                         message=f"[{label}] {kind} {shown}", meta=meta)
        return seq

    def _client(self, conn: "TcpConnection", label: str) -> CollectorClient:
        client = self.clients.get(label)
        if client is None:
            client = self.clients[label] = CollectorClient(label, conn.peer)
        if conn.state.get("label") != label:
            conn.state["label"] = label
            client.connections += 1
            client.connected = True
            client.peer = conn.peer
            conn.info(f"[{label}] connected from {conn.peer}"
                      + (f" (connection {client.connections})" if client.connections > 1 else ""),
                      client=label, connections=client.connections)
        return client


def make_server(journal: Journal, host: str = "127.0.0.1", port: int = 0, **options: Any) -> "TcpServer":
    """The ``watch-collector`` kind's server (registered in ``kind.py``)."""
    from netlab_tui.engine.sockets.tcp import TcpServer

    # Watchers stay connected while nothing changes: no idle timeout.
    return TcpServer(journal, WatchCollectorBehaviour(**options), host=host, port=port, idle_timeout=None)
