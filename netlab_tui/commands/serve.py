"""``netlab serve KIND``: run one of netlab's lab servers until Ctrl+C (or until it stops itself)."""

from __future__ import annotations

import argparse
import asyncio

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.gc_policy import HeapFreezer
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import SessionRegistry

from ._capture import Recording, add_capture_arguments
from ._common import EventPrinter, install_stop_signals, port_number, run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    kinds = server_kinds()
    width = max(len(name) for name in kinds) + 2
    lines = "\n".join(f"  {k.name:<{width}}{k.summary}" for k in kinds.values())
    parser = subparsers.add_parser(
        "serve",
        help="run a lab server (tcp-echo …) and log its traffic",
        description="Run a lab server and print every event (one JSON object a line with --json).",
        epilog=f"kinds:\n{lines}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=sorted(kinds), metavar="KIND", help="the server to run (see below)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; ::1 for IPv6)")
    parser.add_argument("--port", type=port_number, default=None,
                        help="port to bind (default: the kind's usual port, or 0 = any free port)")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines (the event contract)")
    add_capture_arguments(parser)
    seen: set[str] = set()
    for kind in kinds.values():
        for option in kind.options:
            if option.name in seen:
                continue
            seen.add(option.name)
            parser.add_argument(f"--{option.name}", dest=f"opt_{option.dest}", type=option.type, default=None,
                                metavar=option.metavar, help=f"{option.help} ({kind.name})")
    parser.set_defaults(handler=handle, parser=parser)


def handle(args: argparse.Namespace) -> int:
    kind = server_kinds()[args.kind]
    options = {}
    known = {o.dest for o in kind.options}
    for key, value in vars(args).items():
        if key.startswith("opt_") and value is not None:
            dest = key[4:]
            if dest not in known:
                args.parser.error(f"--{dest.replace('_', '-')} does not apply to {kind.name}")
            options[dest] = value
    port = kind.default_port if args.port is None else args.port
    return run(_serve(kind, args.host, port, options, args.json, args))


async def _serve(kind, host: str, port: int, options: dict, as_json: bool,
                 args: argparse.Namespace | None = None) -> int:
    journal = Journal()
    registry = SessionRegistry(journal)
    recording = Recording(args, journal) if args is not None else None
    if recording is not None:
        recording.for_server()  # before the printer: the capture is running when the address is printed
    printer = EventPrinter(as_json, batch=True)  # one write per loop turn: printing must not cost more than serving
    printer.attach(journal)
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    try:
        session = kind.create(journal, host=host, port=port, **options)
        await registry.start(session)
        stopped_by_itself = asyncio.ensure_future(session.wait_closed())
        stop_requested = asyncio.ensure_future(stop.wait())
        # A long-running server's journal holds up to 200,000 events: keep full GC passes off them.
        heap_keeper = asyncio.ensure_future(_keep_heap(HeapFreezer(journal)))
        await asyncio.wait({stopped_by_itself, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
        for task in (stopped_by_itself, stop_requested, heap_keeper):
            task.cancel()
        return 0 if not session.error else 1
    finally:
        await registry.stop_all()
        printer.flush()
        restore()
        if recording is not None:
            recording.finish()


async def _keep_heap(freezer: HeapFreezer) -> None:
    try:
        while True:
            await asyncio.sleep(1.0)
            freezer.tick()
    finally:
        freezer.close()
