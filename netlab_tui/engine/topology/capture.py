"""One capture point per segment: the frames crossing a topology's links, to a pcap file.

A packet socket opened inside the segment's namespace sees every frame twice — once arriving from the
sender's port, once leaving on the receiver's (``PACKET_OUTGOING``) — and a third time on the bridge
itself when it is for the bridge. Only the arrivals on ports are kept: each frame that crosses a link
is recorded once, tagged by the port (the host) it came from.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from pathlib import Path

from . import netns

ETH_P_ALL = 0x0003
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144


class TopologyCapture:
    """Capture on every segment of a running ``Network`` into one pcap file (``start`` … ``stop``)."""

    def __init__(self, network, path: str | Path) -> None:
        self.network = network
        self.path = Path(path)
        self.frames = 0
        self.by_host: dict[str, int] = {}
        self._sockets: list[tuple[socket.socket, dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file = None

    def start(self) -> None:
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed by stop()
        self._file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
        for segment, path in self.network.segment_paths.items():
            ports = self.network.ports.get(segment, {})
            sock = netns.run_in(path, lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                                            socket.htons(ETH_P_ALL)))
            sock.setblocking(False)
            self._sockets.append((sock, ports))
        self._thread = threading.Thread(target=self._run, name="topology-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        by_fd = {sock.fileno(): (sock, ports) for sock, ports in self._sockets}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(by_fd), [], [], 0.1)
            for fd in ready:
                sock, ports = by_fd[fd]
                while True:
                    try:
                        data, address = sock.recvfrom(SNAPLEN)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        return
                    ifname, pkttype = address[0], address[2]
                    host = ports.get(ifname)
                    if host is None or pkttype == socket.PACKET_OUTGOING:
                        continue  # the bridge's own copy, or the same frame leaving on the receiver's port
                    self._write(data, time.time())
                    self.by_host[host] = self.by_host.get(host, 0) + 1

    def _write(self, data: bytes, ts: float) -> None:
        seconds = int(ts)
        self._file.write(struct.pack("<IIII", seconds, int((ts - seconds) * 1e6), len(data), len(data)) + data)
        self.frames += 1

    def stop(self) -> int:
        """Stop and close the file; the number of frames recorded."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for sock, _ in self._sockets:
            sock.close()
        self._sockets.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
        return self.frames


def can_capture() -> bool:
    return os.geteuid() == 0
