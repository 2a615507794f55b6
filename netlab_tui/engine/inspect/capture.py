"""Captures: pcap files Wireshark and tshark open, and pcaps read back into netlab events.

Two ways to make a pcap:

* **from the wire** (``LoopbackCapture``): the real packets on the loopback interface, through a packet
  socket with a BPF filter on the session's port (``inbound`` only: on ``lo`` every packet is seen
  leaving and arriving). Needs root or CAP_NET_RAW. Raw frames are written as they come, undissected,
  so a flood does not outrun the capture.
* **from the journal** (``PacketRebuilder``): packets rebuilt with scapy from netlab's events — a
  SYN / SYN-ACK / ACK handshake when a connection opens, each chunk as a PSH/ACK segment with its ACK,
  sequence and acknowledgement numbers that add up, FIN/ACK both ways when it closes. UDP datagrams
  as they were. This is what the TUI saves, and the fallback when the process may not capture.

``PcapRecorder`` picks between them for ``netlab serve/send --pcap``. ``read_pcap`` turns a capture
(pcap or pcapng) back into ``TrafficEvent``s, one per packet, with the TCP flags, relative seq/ack and
retransmissions in ``meta``, so the inspector, follow-stream and the flow graph work on it.
"""

from __future__ import annotations

import itertools
import logging
import os
import select
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netlab_tui.engine.core.events import TrafficEvent, format_addr
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError

from .filters import split_addr

SEGMENT = 32_768  # the largest TCP payload one rebuilt packet carries
STREAM_PROTOS = frozenset(("tcp", "http", "rpc"))  # protocols whose payloads are the raw bytes of a TCP stream
STREAM_KINDS = frozenset(("data", "request", "response"))
SNAPLEN = 262_144
CAPTURE_MODES = ("auto", "wire", "journal")
QUIET = 0.25  # seconds without packets that end a capture once its session has stopped


class CaptureUnavailable(NetlabError):
    """Capturing on the wire is not allowed (no root / CAP_NET_RAW) or not possible here."""


# -- rebuilding packets from the journal -----------------------------------------------------------------
@dataclass
class _TcpStream:
    client: tuple[str, int]
    server: tuple[str, int]
    seq: dict[str, int]  # next sequence number per side ("client"/"server")
    open: bool = True
    fin: set[str] = field(default_factory=set)
    written: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})  # payload bytes per side
    reported: dict[str, dict[str, int]] = field(default_factory=dict)  # per observer: bytes it saw per side


def _ip_layer(src: str, dst: str):
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    if ":" in src or ":" in dst:
        return IPv6(src=src, dst=dst)
    return IP(src=src, dst=dst, flags="DF")


def _isn(key: Any) -> int:
    """A stable initial sequence number per endpoint (deterministic output, not a guessable counter)."""
    return zlib.crc32(repr(key).encode()) & 0x7FFFFFFF


class PacketRebuilder:
    """Turns events into scapy packets with consistent TCP state, one event at a time."""

    def __init__(self) -> None:
        self._streams: dict[frozenset[str], _TcpStream] = {}
        self.skipped = 0  # events with bytes that could not become packets (no addresses)

    def packets(self, event: TrafficEvent) -> list[Any]:
        proto = event.proto
        local, peer = split_addr(event.local), split_addr(event.peer)
        if local[1] is None or peer[1] is None:
            if event.payload and event.kind in STREAM_KINDS:
                self.skipped += 1
            return []
        if proto == "udp":
            return self._udp(event, local, peer)  # type: ignore[arg-type]
        if proto not in STREAM_PROTOS:
            return []
        # Both ends of one connection may be netlab's (a client pane talking to a lab server): the two
        # views are one stream, keyed by the unordered address pair, and each byte is written once.
        key = frozenset((event.local or "", event.peer or ""))
        kind = event.kind
        stream = self._streams.get(key)
        if kind in ("connect", "accept"):
            if stream is not None and stream.open:
                return []
            client, server = (local, peer) if kind == "connect" else (peer, local)
            stream = self._open(key, client, server)  # type: ignore[arg-type]
            return self._handshake(stream, event.ts)
        if kind in STREAM_KINDS and event.payload:
            out: list[Any] = []
            sender_addr = local if event.direction == "out" else peer
            if stream is None:
                # bytes on a connection we never saw open: the first sender is taken as the client
                receiver = peer if event.direction == "out" else local
                stream = self._open(key, sender_addr, receiver)  # type: ignore[arg-type]
                out += self._handshake(stream, event.ts - 1e-6)
            side = self._side(stream, sender_addr)
            seen = stream.reported.setdefault(event.local or "", {"client": 0, "server": 0})
            seen[side] += len(event.payload)
            new = seen[side] - stream.written[side]
            if new > 0:
                stream.written[side] = seen[side]
                out += self._data(stream, side, event.payload[-new:], event.ts)
            return out
        if kind == "close" and stream is not None and stream.open:
            by = (event.meta or {}).get("by")
            closer = self._side(stream, peer if by == "peer" else local)
            other = "server" if closer == "client" else "client"
            stream.open = False
            return self._fin(stream, closer, event.ts) + self._fin(stream, other, event.ts + 2e-6)
        if kind == "error" and stream is not None and stream.open and "reset" in (event.message or "").lower():
            stream.open = False
            return [self._segment(stream, self._side(stream, peer), "RA", b"", event.ts)]
        return []

    # -- TCP -----------------------------------------------------------------------------------------
    def _open(self, key: frozenset[str], client: tuple[str, int], server: tuple[str, int]) -> _TcpStream:
        stream = _TcpStream(client, server, {"client": _isn((client, server)), "server": _isn((server, client))})
        self._streams[key] = stream
        return stream

    @staticmethod
    def _side(stream: _TcpStream, addr: tuple[str | None, int | None]) -> str:
        return "client" if tuple(addr) == stream.client else "server"

    def _segment(self, stream: _TcpStream, side: str, flags: str, payload: bytes, ts: float,
                 seq: int | None = None) -> Any:
        from scapy.layers.inet import TCP
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw

        src, dst = (stream.client, stream.server) if side == "client" else (stream.server, stream.client)
        other = "server" if side == "client" else "client"
        tcp = TCP(sport=src[1], dport=dst[1], flags=flags, seq=stream.seq[side] if seq is None else seq,
                  ack=stream.seq[other] if "A" in flags else 0, window=65535)
        packet = Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") / _ip_layer(src[0], dst[0]) / tcp
        if payload:
            packet = packet / Raw(payload)
        packet.time = ts
        return packet

    def _handshake(self, stream: _TcpStream, ts: float) -> list[Any]:
        syn = self._segment(stream, "client", "S", b"", ts, seq=stream.seq["client"])
        stream.seq["client"] += 1
        syn_ack = self._segment(stream, "server", "SA", b"", ts + 1e-6)
        stream.seq["server"] += 1
        ack = self._segment(stream, "client", "A", b"", ts + 2e-6)
        return [syn, syn_ack, ack]

    def _data(self, stream: _TcpStream, side: str, payload: bytes, ts: float) -> list[Any]:
        out = []
        other = "server" if side == "client" else "client"
        for i in range(0, len(payload), SEGMENT):
            part = payload[i : i + SEGMENT]
            out.append(self._segment(stream, side, "PA", part, ts))
            stream.seq[side] = (stream.seq[side] + len(part)) & 0xFFFFFFFF
        out.append(self._segment(stream, other, "A", b"", ts + 1e-6))
        return out

    def _fin(self, stream: _TcpStream, side: str, ts: float) -> list[Any]:
        if side in stream.fin:
            return []
        stream.fin.add(side)
        fin = self._segment(stream, side, "FA", b"", ts)
        stream.seq[side] = (stream.seq[side] + 1) & 0xFFFFFFFF
        other = "server" if side == "client" else "client"
        return [fin, self._segment(stream, other, "A", b"", ts + 1e-6)]

    # -- UDP -----------------------------------------------------------------------------------------
    def _udp(self, event: TrafficEvent, local: tuple[str, int], peer: tuple[str, int]) -> list[Any]:
        if event.kind != "data" or event.payload is None:
            return []
        from scapy.layers.inet import UDP
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw

        src, dst = (local, peer) if event.direction == "out" else (peer, local)
        packet = (Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") / _ip_layer(src[0], dst[0])
                  / UDP(sport=src[1], dport=dst[1]) / Raw(event.payload))
        packet.time = event.ts
        return [packet]


def open_writer(path: str | Path) -> Any:
    """A scapy PcapWriter for Ethernet frames, header written now (so even an empty capture is valid)."""
    from scapy.utils import PcapWriter

    try:
        writer = PcapWriter(str(path), linktype=1, sync=False, snaplen=SNAPLEN)
        writer.write_header(None)
    except OSError as exc:
        raise NetlabError(f"cannot write {path}: {exc.strerror or exc}") from None
    return writer


def write_pcap(events: Iterable[TrafficEvent], path: str | Path) -> int:
    """Rebuild ``events`` as packets into a pcap file. Returns the number of packets written."""
    rebuilder = PacketRebuilder()
    count = 0
    with open_writer(path) as writer:
        for event in events:
            for packet in rebuilder.packets(event):
                writer.write(packet)
                count += 1
    return count


# -- capturing on the wire -------------------------------------------------------------------------------
def bpf_for(port: int, host: str | None = None, proto: str | None = None) -> str:
    """The capture filter for one session: its port (and host), inbound only (each loopback packet is
    seen twice otherwise)."""
    parts = ["inbound", f"{proto} port {port}" if proto in ("tcp", "udp") else f"port {port}"]
    if host:
        parts.append(f"host {host}")
    return " and ".join(parts)


class LoopbackCapture:
    """Raw frames from ``lo`` matching a BPF filter, written to a pcap by a thread as they arrive."""

    def __init__(self, path: str | Path, bpf: str, *, keep: Callable[[Any], bool] | None = None) -> None:
        self.path = Path(path)
        self.bpf = bpf
        self.keep = keep  # when set, packets are held and filtered at stop() (dissected then, not before)
        self.count = 0
        self._held: list[tuple[bytes, float]] = []
        self._stop = threading.Event()
        self._stopped_at = 0.0
        self._thread: threading.Thread | None = None
        self._sock: Any = None
        self._writer: Any = None
        self.error: str | None = None

    def start(self) -> None:
        """Open the packet socket now (so nothing sent after this returns is missed), then read in a thread.
        Raises CaptureUnavailable when the process may not capture."""
        try:
            import scapy.arch  # noqa: F401 - sets conf.L2listen for this platform
            from scapy.config import conf

            if conf.L2listen is None:
                raise CaptureUnavailable("scapy has no packet capture for this platform")
            scapy_log = logging.getLogger("scapy.runtime")
            level = scapy_log.level
            scapy_log.setLevel(logging.ERROR)  # lo's link type makes scapy warn that it cannot guess one
            try:
                sock = conf.L2listen(iface="lo", filter=self.bpf)
            finally:
                scapy_log.setLevel(level)
        except CaptureUnavailable:
            raise
        except PermissionError:
            raise CaptureUnavailable("capturing packets needs root or CAP_NET_RAW") from None
        except ImportError as exc:
            raise CaptureUnavailable(f"cannot compile the capture filter ({exc})") from None
        except OSError as exc:
            raise CaptureUnavailable(f"cannot capture on lo: {exc.strerror or exc}") from None
        except Exception as exc:  # scapy raises its own exception types for BPF problems
            raise CaptureUnavailable(f"cannot capture on lo: {exc}") from None
        try:
            sock.ins.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        except OSError:
            pass
        try:
            self._writer = open_writer(self.path)
        except NetlabError:
            sock.close()
            raise
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name="netlab-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sock = self._sock
        last = time.monotonic()
        try:
            while True:
                ready, _, _ = select.select([sock], [], [], 0.05)
                if not ready:
                    # after stop(), keep reading until the wire has been quiet a while: the peer's FIN
                    # and the last ACKs are still on their way when the session says it is closed
                    if self._stop.is_set() and time.monotonic() - max(last, self._stopped_at) > QUIET:
                        return
                    continue
                last = time.monotonic()
                _cls, data, ts = sock.recv_raw(SNAPLEN)
                if data is None:
                    continue
                if self.keep is not None:
                    self._held.append((data, ts or time.time()))
                else:
                    self._write(data, ts)
        except Exception as exc:  # the capture fails alone; the session keeps running
            self.error = f"capture stopped: {exc}"

    def _write(self, data: bytes, ts: float | None) -> None:
        ts = ts or time.time()
        sec = int(ts)
        self._writer.write_packet(data, sec=sec, usec=int(round((ts - sec) * 1_000_000)))
        self.count += 1

    def stop(self) -> int:
        """Let the last packets arrive, stop, write what is held, close the file. Returns packets written."""
        if self._thread is None:
            return self.count
        self._stopped_at = time.monotonic()
        self._stop.set()
        self._thread.join(timeout=5)
        self._thread = None
        if self.keep is not None and self._held:
            from scapy.layers.l2 import Ether

            for data, ts in self._held:
                try:
                    keep = self.keep(Ether(data))
                except Exception:
                    keep = True
                if keep:
                    self._write(data, ts)
            self._held.clear()
        self._writer.close()
        self._sock.close()
        return self.count


# -- choosing: the recorder behind --pcap ----------------------------------------------------------------
class PcapRecorder:
    """Records one CLI session into a pcap: from the wire when allowed, else rebuilt from the journal.

    ``mode``: ``"wire"`` (fail when not allowed), ``"journal"``, or ``"auto"`` (wire, falling back).
    Call ``watch_listen(journal)`` for a server (capture starts on its ``listen`` event, before the
    address is printed) or ``start_wire(port, host)`` for a client, before it connects.
    """

    def __init__(self, path: str | Path, journal: Journal, mode: str = "auto") -> None:
        if mode not in CAPTURE_MODES:
            raise NetlabError(f"capture mode must be one of {', '.join(CAPTURE_MODES)}")
        path = Path(path)
        if path.is_dir():
            raise NetlabError(f"--pcap {path}: is a directory")
        if not path.parent.exists():
            raise NetlabError(f"--pcap {path}: directory {path.parent} does not exist")
        if not os.access(path.parent, os.W_OK):
            raise NetlabError(f"--pcap {path}: cannot write in {path.parent}")
        self.path = path
        self.journal = journal
        self.mode = mode
        self.source: str | None = None  # "wire" or "journal" once decided
        self.note: str | None = None  # why the journal was used in auto mode
        self.packets = 0
        self._capture: LoopbackCapture | None = None
        self._rebuilder: PacketRebuilder | None = None
        self._writer: Any = None
        self._subscription: Any = None
        self._conns: set[frozenset[tuple[str, int]]] = set()

    # servers: start when the listen event says which port
    def watch_listen(self) -> None:
        def on_event(event: TrafficEvent) -> None:
            if self.source is None and event.kind == "listen":
                host, port = split_addr(event.local)
                if port:
                    self._begin(bpf_for(port, None, event.proto if event.proto in ("tcp", "udp") else "tcp"),
                                keep=None)

        self._subscription = self.journal.subscribe(on_event)

    # clients: start before connecting; only our own connections are kept
    def start_wire(self, host: str, port: int, proto: str = "tcp") -> None:
        def keep(packet: Any) -> bool:
            ends = _endpoints(packet)
            return ends is None or ends in self._conns

        def track(event: TrafficEvent) -> None:
            a, b = split_addr(event.local), split_addr(event.peer)
            if a[1] is not None and b[1] is not None:
                self._conns.add(frozenset((a, b)))  # type: ignore[arg-type]

        self._subscription = self.journal.subscribe(track)
        address = host if _is_ip(host) else None
        self._begin(bpf_for(port, address, proto), keep=keep)

    def _begin(self, bpf: str, keep: Callable[[Any], bool] | None) -> None:
        if self.mode in ("auto", "wire"):
            capture = LoopbackCapture(self.path, bpf, keep=keep)
            try:
                capture.start()
                self._capture = capture
                self.source = "wire"
                return
            except CaptureUnavailable as exc:
                if self.mode == "wire":
                    raise
                self.note = str(exc)
        self._start_journal()

    def _start_journal(self) -> None:
        self._writer = open_writer(self.path)
        self._rebuilder = PacketRebuilder()
        self.source = "journal"
        for event in self.journal.events():  # anything published before the capture began
            self._rebuild(event)
        sub = self.journal.subscribe(self._rebuild)
        if self._subscription is not None:
            previous = self._subscription
            self._subscription = _Both(previous, sub)
        else:
            self._subscription = sub

    def _rebuild(self, event: TrafficEvent) -> None:
        assert self._rebuilder is not None and self._writer is not None
        for packet in self._rebuilder.packets(event):
            self._writer.write(packet)
            self.packets += 1

    def close(self) -> str | None:
        """Finish the file; returns a one-line summary for the user (None when nothing was recorded:
        ``wire`` mode that could not start)."""
        if self.source is None:
            if self.mode == "wire":
                return None
            self._start_journal()  # the session never listened or connected: an empty, valid pcap
        if self._capture is not None:
            self.packets = self._capture.stop()
            if self._capture.error:
                self.note = self._capture.error
            self._capture = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        where = "captured on lo" if self.source == "wire" else "rebuilt from netlab's events"
        note = f" ({self.note})" if self.note else ""
        return f"wrote {self.packets} packet{'s' if self.packets != 1 else ''} to {self.path}, {where}{note}"


class _Both:
    def __init__(self, *subs: Any) -> None:
        self.subs = subs

    def unsubscribe(self) -> None:
        for sub in self.subs:
            sub.unsubscribe()


def _is_ip(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host.strip("[]"))
            return True
        except OSError:
            continue
    return False


def _endpoints(packet: Any) -> frozenset[tuple[str, int]] | None:
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6

    ip = packet.getlayer(IP) or packet.getlayer(IPv6)
    l4 = packet.getlayer(TCP) or packet.getlayer(UDP)
    if ip is None or l4 is None:
        return None
    return frozenset(((ip.src, l4.sport), (ip.dst, l4.dport)))


# -- reading captures back -------------------------------------------------------------------------------
@dataclass
class _Flow:
    conn: str
    proto: str
    server: tuple[str, int]
    client: tuple[str, int]
    isn: dict[str, int] = field(default_factory=dict)  # per side, for relative numbers
    next_seq: dict[str, int] = field(default_factory=dict)
    fins: set[str] = field(default_factory=set)
    closed: bool = False


def read_pcap(path: str | Path, *, max_packets: int = 1_000_000) -> list[TrafficEvent]:
    """A capture as netlab events: one per TCP/UDP packet (others are counted in a final info event).

    The server (the side that received the SYN; for UDP the first receiver; else the lower port) is
    "local", so ``in`` is what the client sent. TCP events carry ``meta`` flags, relative seq/ack, window and frame number; SYN is
    ``connect``, SYN-ACK ``accept``, FIN/RST ``close``, a bare ACK ``ack``, payloads ``data``.
    """
    path = Path(path)
    try:
        import scapy.layers.inet  # noqa: F401 - importing the layers registers the link types to dissect
        import scapy.layers.inet6  # noqa: F401
        import scapy.layers.l2  # noqa: F401
        from scapy.utils import PcapReader
    except ImportError as exc:  # pragma: no cover - scapy is a dependency
        raise NetlabError(f"reading pcaps needs scapy ({exc})") from None
    try:
        reader = PcapReader(str(path))
    except FileNotFoundError:
        raise NetlabError(f"{path}: no such file") from None
    except OSError as exc:
        raise NetlabError(f"{path}: {exc.strerror or exc}") from None
    except Exception as exc:
        raise NetlabError(f"{path}: not a pcap or pcapng capture ({exc})") from None
    events: list[TrafficEvent] = []
    flows: dict[frozenset, _Flow] = {}
    ids = itertools.count(1)
    source = f"pcap:{path.name}"
    other = 0
    try:
        for frame, packet in enumerate(reader, 1):
            if frame > max_packets:
                break
            event = _packet_event(packet, frame, flows, ids, source)
            if event is None:
                other += 1
            else:
                events.append(event)
    except Exception as exc:
        events.append(TrafficEvent(source, "netlab", "error", message=f"capture is damaged after "
                                   f"{len(events) + other} packets: {exc}"))
    finally:
        reader.close()
    if other:
        events.append(TrafficEvent(source, "netlab", "info", message=f"{other} packets that are not TCP/UDP over IP "
                                   "were left out", ts=events[-1].ts if events else time.time(),
                                   meta={"skipped": other}))
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return events


def _packet_event(packet: Any, frame: int, flows: dict, ids: Any, source: str) -> TrafficEvent | None:
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6

    ip = packet.getlayer(IP)
    if ip is None:
        ip = packet.getlayer(IPv6)
    if ip is None:
        return None
    tcp = packet.getlayer(TCP)
    udp = None if tcp is not None else packet.getlayer(UDP)
    l4 = tcp if tcp is not None else udp
    if l4 is None:
        return None
    src, dst = (str(ip.src), int(l4.sport)), (str(ip.dst), int(l4.dport))
    key = frozenset((src, dst))
    proto = "tcp" if tcp is not None else "udp"
    payload = bytes(l4.payload) if l4.payload else b""
    if tcp is not None and isinstance(ip, IP):
        # trust IP's total length over trailing padding (a 60-byte minimum Ethernet frame pads short packets)
        ip_len = int(ip.len or 0)
        tcp_len = ip_len - int(ip.ihl or 5) * 4 - int(tcp.dataofs or 5) * 4
        if 0 <= tcp_len < len(payload):
            payload = payload[:tcp_len]
    flags = str(tcp.flags) if tcp is not None else ""
    flow = flows.get(key)
    if flow is None or (tcp is not None and flow.closed and "S" in flags and "A" not in flags):
        if tcp is not None and "S" in flags and "A" not in flags:
            client, server = src, dst
        elif tcp is not None and "S" in flags:
            client, server = dst, src
        elif tcp is None:  # UDP: whoever speaks first is the client
            client, server = src, dst
        else:  # a connection that started before the capture: the lower port is probably the server's
            client, server = (src, dst) if src[1] > dst[1] else (dst, src)
        flow = _Flow(f"{proto}-{next(ids)}", proto, server, client)
        flows[key] = flow
    side = "client" if src == flow.client else "server"
    direction = "in" if side == "client" else "out"
    ts = float(packet.time)
    meta: dict[str, Any] = {"frame": frame}
    kind = "data"
    if tcp is not None:
        seq, ack = int(tcp.seq), int(tcp.ack)
        if "S" in flags:
            flow.isn[side] = seq
            flow.next_seq[side] = (seq + 1) & 0xFFFFFFFF
        isn = flow.isn.setdefault(side, (seq - 1) & 0xFFFFFFFF)
        other_side = "server" if side == "client" else "client"
        meta.update(flags=flags, seq=(seq - isn) & 0xFFFFFFFF, win=int(tcp.window))
        if "A" in flags:
            other_isn = flow.isn.get(other_side)
            meta["ack"] = (ack - other_isn) & 0xFFFFFFFF if other_isn is not None else ack
        expected = flow.next_seq.get(side)
        if payload:
            end = (seq + len(payload)) & 0xFFFFFFFF
            if expected is not None and ((expected - end) & 0xFFFFFFFF) < 0x80000000:
                meta["retransmission"] = True  # it ends at or before what this side already sent
            else:
                flow.next_seq[side] = end
        if "F" in flags:
            flow.next_seq[side] = (flow.next_seq.get(side, seq) + 1) & 0xFFFFFFFF
            flow.fins.add(side)
        if "R" in flags or len(flow.fins) == 2:
            flow.closed = True
        if payload:
            kind = "data"
        elif "S" in flags:
            kind = "accept" if "A" in flags else "connect"
        elif "F" in flags or "R" in flags:
            kind = "close"
            meta["by"] = "peer" if side == "client" else "server"
        else:
            kind = "ack"
    return TrafficEvent(
        source=source, proto=proto, kind=kind, direction=direction,
        local=format_addr(*flow.server), peer=format_addr(*flow.client), conn=flow.conn,
        payload=payload if payload or kind == "data" else None, meta=meta, ts=ts,
    )
