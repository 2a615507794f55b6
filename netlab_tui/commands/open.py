"""``netlab open FILE``: a JSONL journal or a pcap/pcapng capture, in the inspector or printed for scripts.

Without an option the file opens in the TUI (log, inspector, follow-stream, conversations, flow graph).
The headless forms print instead: ``--print`` (one line an event), ``--json`` (the event contract, so a
pcap becomes a JSONL journal), ``--conversations``, ``--follow CONN``, ``--flow CONN``, ``--inspect SEQ``;
``--filter`` narrows any of them with the filter language (``--filter help`` explains it) and
``--pcap OUT`` writes the (filtered) events as a capture.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal, load_jsonl
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.inspect import filters

from ._common import format_event_line

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
               b"\x0a\x0d\x0d\x0a")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "open",
        help="open a saved journal (.jsonl) or a capture (.pcap) in the inspector",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="a netlab JSONL journal, or a pcap/pcapng capture")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--print", action="store_true", dest="print_lines", help="print one line per event")
    what.add_argument("--json", action="store_true", help="print the events as JSON lines (the event contract)")
    what.add_argument("--conversations", action="store_true", help="print the conversations table")
    what.add_argument("--follow", metavar="CONN", help="print both directions of conversation CONN in order")
    what.add_argument("--flow", metavar="CONN", help="draw conversation CONN as a ladder diagram")
    what.add_argument("--inspect", metavar="SEQ", type=int, help="decode event number SEQ")
    parser.add_argument("--filter", metavar="EXPR", default="",
                        help="only events matching EXPR (e.g. 'tcp and port 9999'; 'help' explains the language)")
    parser.add_argument("--as", dest="mode", choices=("text", "hex", "raw"), default="text",
                        help="--follow as text (default), a hex dump or raw hex")
    parser.add_argument("--view", default="auto", metavar="NAME",
                        help="decoder for --inspect: auto (default), hex, text, json, http, xml, rpc, pickle …")
    parser.add_argument("--width", type=int, default=100, metavar="COLS", help="width for --flow (default 100)")
    parser.add_argument("--pcap", metavar="OUT", help="also write the (filtered) events as a pcap capture")
    parser.set_defaults(handler=handle, parser=parser)


def load_events(path: str | Path) -> list[TrafficEvent]:
    """The events of a JSONL journal or a pcap/pcapng file (decided by the file's first bytes)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise NetlabError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise NetlabError(f"{path}: is a directory") from None
    except OSError as exc:
        raise NetlabError(f"{path}: {exc.strerror or exc}") from None
    if head in PCAP_MAGICS:
        from netlab_tui.engine.inspect.capture import read_pcap

        return read_pcap(path)
    try:
        events = load_jsonl(path)
    except UnicodeDecodeError:
        raise NetlabError(f"{path}: neither a JSONL journal nor a pcap capture") from None
    except ValueError as exc:
        raise NetlabError(str(exc)) from None
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return events


def handle(args: argparse.Namespace) -> int:
    try:
        return _handle(args)
    except BrokenPipeError:  # `netlab open x.pcap --json | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _handle(args: argparse.Namespace) -> int:
    if args.filter.strip() == "help":
        print(filters.help_text())
        return 0
    try:
        predicate = filters.compile(args.filter)
    except filters.FilterError as exc:
        raise NetlabError(f"--filter: {exc}\n  {args.filter}\n  {' ' * exc.pos}^") from None
    events = [e for e in load_events(args.file) if predicate(e)]
    if args.pcap:
        from netlab_tui.engine.inspect.capture import write_pcap

        count = write_pcap(events, args.pcap)
        print(f"wrote {count} packets to {args.pcap}", file=sys.stderr)
    out = sys.stdout
    if args.json:
        for event in events:
            out.write(event.to_json() + "\n")
        return 0
    if args.print_lines:
        for event in events:
            out.write(f"{event.seq:>6} {format_event_line(event)}\n")
        return 0
    if args.conversations:
        print_conversations(events)
        return 0
    if args.follow or args.flow:
        from netlab_tui.engine.inspect.conversations import flow_graph, follow_stream, render_stream

        conn = args.follow or args.flow
        if not any(e.conn == conn for e in events):
            known = sorted({e.conn for e in events if e.conn})
            hint = f"; conversations: {', '.join(known[:12])}" if known else ""
            raise NetlabError(f"no conversation {conn!r} in {args.file}{hint}")
        view = render_stream(follow_stream(events, conn), args.mode) if args.follow else flow_graph(
            events, conn, width=max(40, args.width))
        print(view.plain())
        return 0
    if args.inspect is not None:
        print_inspection(events, args.inspect, args.view)
        return 0
    if args.pcap:
        return 0
    return open_tui(events, args.file, args.filter)


def print_conversations(events: list[TrafficEvent]) -> None:
    from netlab_tui.engine.inspect.conversations import conversations

    rows = conversations(events)
    header = f"{'conn':<10} {'proto':<5} {'endpoints':<45} {'events':>6} {'→ bytes':>9} {'← bytes':>9} " \
             f"{'duration':>9}  state"
    print(header)
    for row in rows:
        # "→" is what the client (left) sent, "←" what the server sent back
        sent_by_client = row.bytes_out if row.initiator == "local" else row.bytes_in
        sent_by_server = row.bytes_in if row.initiator == "local" else row.bytes_out
        print(f"{row.conn:<10} {row.proto:<5} {row.endpoints:<45} {row.events:>6} {sent_by_client:>9,} "
              f"{sent_by_server:>9,} {row.duration:>8.3f}s  {row.state}")


def print_inspection(events: list[TrafficEvent], seq: int, view_name: str) -> None:
    from netlab_tui.engine.inspect.decoders import decode, decoders

    event = next((e for e in events if e.seq == seq), None)
    if event is None:
        raise NetlabError(f"no event number {seq} (the file has {len(events)} events)")
    if view_name != "auto" and view_name not in decoders():
        raise NetlabError(f"no decoder {view_name!r}; choose from auto, {', '.join(sorted(decoders()))}")
    print(format_event_line(event))
    if event.payload is None:
        print("(no payload)")
        return
    view = decode(event.payload, event.meta, view_name)
    print(f"── {view.title} ──")
    if view.note:
        print(f"⚠ {view.note}")
    print(view.plain())


def build_app(events: list[TrafficEvent], path: str, filter_text: str = ""):
    """The TUI with the file's events in its journal (log, inspector, streams, conversations)."""
    from netlab_tui.ui.app import NetlabApp

    journal = Journal(max_events=max(200_000, len(events) + 1000))
    for event in events:
        journal.publish(event)
    app = NetlabApp(journal=journal)
    app.sub_title = f"{Path(path).name}: {len(events):,} events"
    app.initial_filter = filter_text
    return app


def open_tui(events: list[TrafficEvent], path: str, filter_text: str) -> int:
    return int(build_app(events, path, filter_text).run() or 0)
