"""The traffic event: one thing that happened, in the shape of the event contract.

Every session publishes ``TrafficEvent`` objects to the journal. ``to_dict`` gives the contract's JSON
object (the keys of ARCHITECTURE.md's table, always all present); ``from_dict`` reads one back, so a
JSONL journal can be reopened.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

PROTOS = ("tcp", "udp", "http", "rpc", "shell", "ssh", "scan", "fs", "lab", "netlab")
DIRECTIONS = ("in", "out", None)
CONTRACT_KEYS = (
    "ts", "source", "proto", "kind", "direction", "local", "peer", "conn", "size", "text", "hex", "meta", "host",
)

_conn_ids = itertools.count(1)


def new_conn_id(proto: str) -> str:
    """A conversation id unique in this process: ``tcp-3``, ``udp-7``, ``http-12`` …"""
    return f"{proto}-{next(_conn_ids)}"


def format_addr(host: str, port: int | None) -> str:
    """``host:port``, with IPv6 hosts bracketed as the contract asks (``[::1]:80``)."""
    if port is None:
        return host
    if ":" in host and not host.startswith("["):
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def sockaddr_str(sockaddr: Any) -> str | None:
    """Format what ``getsockname``/``getpeername`` return (2- or 4-tuples) as ``host:port``."""
    if not sockaddr:
        return None
    if isinstance(sockaddr, (tuple, list)) and len(sockaddr) >= 2:
        return format_addr(str(sockaddr[0]), int(sockaddr[1]))
    return str(sockaddr)


@dataclass(slots=True)
class TrafficEvent:
    """One event. ``payload`` holds the exact bytes (None when the kind carries none).

    ``message`` is a human sentence for events without payload (errors, info, listen …); it fills the
    contract's ``text`` key when there is no payload.
    """

    source: str
    proto: str
    kind: str
    direction: str | None = None
    local: str | None = None
    peer: str | None = None
    conn: str | None = None
    payload: bytes | None = None
    message: str | None = None
    meta: dict[str, Any] | None = None
    ts: float = field(default_factory=time.time)
    seq: int = 0  # position in the journal, assigned on publish
    # The topology host it happened on: None on this machine. A class attribute here, a slot only in
    # HostEvent, so that the events of a single-machine run keep their size (the journal holds 200,000).
    host: ClassVar[str | None] = None

    @property
    def size(self) -> int:
        return len(self.payload) if self.payload is not None else 0

    @property
    def text(self) -> str | None:
        if self.payload is not None:
            return self.payload.decode("utf-8", errors="replace")
        return self.message

    @property
    def hex(self) -> str | None:
        return self.payload.hex() if self.payload is not None else None

    def summary(self, width: int = 80) -> str:
        """A one-line description for log views: the payload with control characters made visible."""
        if self.payload is not None:
            text = self.payload[: width * 4].decode("utf-8", errors="replace")
            text = text.translate(_VISIBLE)
            return text[:width]
        if self.message:
            return self.message[:width]
        if self.meta:
            return " ".join(f"{k}={v}" for k, v in list(self.meta.items())[:4])[:width]
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "source": self.source,
            "proto": self.proto,
            "kind": self.kind,
            "direction": self.direction,
            "local": self.local,
            "peer": self.peer,
            "conn": self.conn,
            "size": self.size,
            "text": self.text,
            "hex": self.hex,
            "meta": self.meta,
            "host": self.host,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrafficEvent":
        """Rebuild an event from the contract's JSON object (a JSONL journal line)."""
        missing = [k for k in ("source", "proto", "kind") if k not in data]
        if missing:
            raise ValueError(f"event is missing {', '.join(missing)}")
        hex_ = data.get("hex")
        payload = bytes.fromhex(hex_) if isinstance(hex_, str) else None
        return cls(
            source=str(data["source"]),
            proto=str(data["proto"]),
            kind=str(data["kind"]),
            direction=data.get("direction"),
            local=data.get("local"),
            peer=data.get("peer"),
            conn=data.get("conn"),
            payload=payload,
            message=None if payload is not None else data.get("text"),
            meta=data.get("meta"),
            ts=float(data.get("ts") or time.time()),
        ) if not isinstance(data.get("host"), str) else HostEvent(
            str(data["source"]), str(data["proto"]), str(data["kind"]), data.get("direction"), data.get("local"),
            data.get("peer"), data.get("conn"), payload, None if payload is not None else data.get("text"),
            data.get("meta"), float(data.get("ts") or time.time()), host=data["host"],
        )


class HostEvent(TrafficEvent):
    """An event that happened on a host of a multi-host topology (``host`` = ``h1`` …)."""

    __slots__ = ("host",)

    def __init__(self, *args: Any, host: str, **kwargs: Any) -> None:
        TrafficEvent.__init__(self, *args, **kwargs)
        self.host = host


# Control characters shown as Unicode control pictures (␊ for \n …), so one event stays on one line.
_VISIBLE = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}
