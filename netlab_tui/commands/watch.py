"""``netlab watch DIR``: print every change in a directory tree, and optionally send each to a server.

With ``--forward HOST:PORT`` each change also goes, as one JSON line, to a TCP server (``netlab serve
watch-collector`` is the matching one); while the server is down changes are queued and the watcher
keeps reconnecting. Runs until Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.watch.watcher import CHANGE_KINDS, DEFAULT_QUEUE_LIMIT, WatchSession

from ._common import (
    EventPrinter,
    add_command_parser,
    format_event_line,
    install_stop_signals,
    new_journal,
    run,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command_parser(
        subparsers, "watch", "watch a directory for changes (and forward them to a server)", __doc__,
        epilog=(
            "globs: a glob with / matches the path from DIR (src/*.py); one without matches the file\n"
            "       name (*.txt), and for --exclude any directory on the way (.git, __pycache__)"
        ),
    )
    parser.add_argument("directory", metavar="DIR", help="the directory to watch (recursively)")
    parser.add_argument("--forward", metavar="HOST:PORT", default=None,
                        help="send each change as a JSON line to this TCP server")
    parser.add_argument("--include", metavar="GLOB", action="append", default=[],
                        help="only report paths matching GLOB (repeatable)")
    parser.add_argument("--exclude", metavar="GLOB", action="append", default=[],
                        help="never report paths matching GLOB (repeatable)")
    parser.add_argument("--no-recursive", dest="recursive", action="store_false",
                        help="watch DIR itself only, not its subdirectories")
    parser.add_argument("--queue", type=int, default=DEFAULT_QUEUE_LIMIT, metavar="N",
                        help=f"--forward: changes kept while the server is unreachable (default {DEFAULT_QUEUE_LIMIT:,})")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines (the event contract)")
    parser.set_defaults(handler=handle, parser=parser)


def handle(args: argparse.Namespace) -> int:
    if args.queue < 1:
        args.parser.error("--queue must be at least 1")
    return run(_watch(args))


async def _watch(args: argparse.Namespace) -> int:
    journal, registry = new_journal(args.json)
    if not args.json:
        # The human view: the changes and what the watch says; the forward connection's raw bytes
        # are for --json and the TUI's inspector.
        journal.subscribe(ChangePrinter(), lambda e: not (e.proto == "tcp" and e.kind == "data"))
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    session = WatchSession(journal, args.directory, include=args.include, exclude=args.exclude,
                           forward=args.forward, recursive=args.recursive, queue_limit=args.queue)
    try:
        await registry.start(session)
        ended = asyncio.ensure_future(session.wait_closed())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({ended, stopper}, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        stopper.cancel()
        await registry.stop(session)
        return 1 if session.error else 0
    finally:
        await registry.stop_all()
        restore()
        sys.stdout.flush()


class ChangePrinter(EventPrinter):
    """``14:03:07.123 created   src/app.py``; other events as the usual event lines."""

    def __init__(self) -> None:
        super().__init__(False)

    def __call__(self, event: TrafficEvent) -> None:
        if event.kind not in CHANGE_KINDS:
            line = format_event_line(event)
        else:
            meta = event.meta or {}
            shown = (meta.get("rel") or meta.get("path") or "") + ("/" if meta.get("is_dir") else "")
            if meta.get("dest_rel") or meta.get("dest_path"):
                shown += f" → {meta.get('dest_rel') or meta.get('dest_path')}"
            line = f"{format_event_line(event)[:12]} {event.kind:<9} {shown}"
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.stream = open("/dev/null", "w")  # noqa: SIM115 - `netlab watch … | head`
