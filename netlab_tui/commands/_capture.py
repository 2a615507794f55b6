"""``--pcap FILE`` and ``--journal FILE`` for the commands that run sessions (serve, send).

``--pcap`` records the session's packets (from the loopback wire when the process may, else rebuilt
from its events; ``--pcap-from`` forces one); ``--journal`` writes every event as JSON lines, the
event contract, for ``netlab open`` or a script. Summaries go to stderr so ``--json`` stays clean.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.inspect.capture import CAPTURE_MODES, PcapRecorder


def add_capture_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recording")
    group.add_argument("--pcap", metavar="FILE",
                       help="write the session's packets to a pcap file Wireshark/tshark open")
    group.add_argument("--pcap-from", choices=CAPTURE_MODES, default="auto",
                       help="wire = capture on lo (needs root or CAP_NET_RAW); journal = rebuild the packets "
                            "from netlab's events; auto (default) = wire when allowed, else journal")
    group.add_argument("--journal", metavar="FILE", dest="journal_file",
                       help="write every event to FILE as JSON lines (the event contract; netlab open reads it)")


class Recording:
    """What ``--pcap``/``--journal`` asked for, around one command's journal."""

    def __init__(self, args: argparse.Namespace, journal: Journal) -> None:
        self.recorder: PcapRecorder | None = None
        self._jsonl: IO[str] | None = None
        self._jsonl_count = 0
        pcap = getattr(args, "pcap", None)
        if pcap:
            self.recorder = PcapRecorder(pcap, journal, getattr(args, "pcap_from", "auto"))
        path = getattr(args, "journal_file", None)
        if path:
            try:
                self._jsonl = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in finish()
            except OSError as exc:
                raise NetlabError(f"--journal {path}: {exc.strerror or exc}") from None
            self._journal_path = path
            journal.subscribe(self._write_event)

    def _write_event(self, event: TrafficEvent) -> None:
        assert self._jsonl is not None
        self._jsonl.write(event.to_json() + "\n")
        self._jsonl_count += 1

    def for_server(self) -> None:
        """Capture starts on the server's listen event (subscribe before anything prints it)."""
        if self.recorder is not None:
            self.recorder.watch_listen()

    def for_client(self, host: str, port: int, proto: str = "tcp") -> None:
        """Capture starts now, before the client connects."""
        if self.recorder is not None:
            self.recorder.start_wire(host, port, proto)

    def finish(self) -> None:
        if self.recorder is not None:
            summary = self.recorder.close()
            if summary:
                print(summary, file=sys.stderr)
            self.recorder = None
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
            print(f"wrote {self._jsonl_count} events to {self._journal_path}", file=sys.stderr)
