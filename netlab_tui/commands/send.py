"""``netlab send tcp HOST PORT [MESSAGE]``: one client exchange, as a script would do it.

Sends MESSAGE (or standard input when piped; typed lines when interactive), then prints what comes
back: until the server has been quiet for ``--wait`` seconds, or until it closes with ``--until-eof``
(the course's read-until-EOF loop).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from ..engine.journal import Journal
from ..engine.sessions import NetlabError, SessionRegistry
from ..engine.tcp import DEFAULT_BUFSIZE, MAX_BUFSIZE, TcpClient
from ._common import EventPrinter, install_stop_signals, parse_bytes, port_number, positive_float, run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "send",
        help="send a message over TCP and print the reply",
        description="Connect, send a message, print the reply bytes (or every event with --json).",
    )
    protos = parser.add_subparsers(dest="proto", metavar="PROTO", required=True)
    tcp = protos.add_parser("tcp", help="one TCP connection", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    tcp.add_argument("host", metavar="HOST")
    tcp.add_argument("port", metavar="PORT", type=port_number)
    tcp.add_argument("message", metavar="MESSAGE", nargs="?",
                     help="what to send; without it: standard input (piped) or lines as you type them")
    tcp.add_argument("--hex", action="store_true", help="MESSAGE is hex digits (e.g. '48 65 6c 6c 6f')")
    tcp.add_argument("--crlf", action="store_true", help="end each line with \\r\\n (what HTTP and SMTP want)")
    tcp.add_argument("--newline", action="store_true", help="append \\n to MESSAGE")
    tcp.add_argument("--until-eof", action="store_true",
                     help="keep reading until the server closes the connection")
    tcp.add_argument("--shutdown", action="store_true",
                     help="shut down the write side after sending (half-close), then read")
    tcp.add_argument("--wait", type=positive_float, default=1.0, metavar="SECONDS",
                     help="stop reading after this long without data (default 1)")
    tcp.add_argument("--timeout", type=positive_float, default=10.0, metavar="SECONDS",
                     help="connect timeout, and the limit for --until-eof (default 10)")
    tcp.add_argument("--bufsize", type=int, default=DEFAULT_BUFSIZE, metavar="BYTES",
                     help=f"recv buffer size (default {DEFAULT_BUFSIZE}); small values show how TCP splits data")
    tcp.add_argument("--json", action="store_true", help="print events as JSON lines instead of the reply")
    tcp.set_defaults(handler=handle_tcp, parser=tcp)


def handle_tcp(args: argparse.Namespace) -> int:
    if not 1 <= args.bufsize <= MAX_BUFSIZE:
        args.parser.error(f"--bufsize must be 1 to {MAX_BUFSIZE}")
    payload: bytes | None = None
    if args.message is not None:
        payload = parse_bytes(args.message, as_hex=args.hex)
        if args.newline or args.crlf:
            payload += b"\r\n" if args.crlf else b"\n"
    elif not sys.stdin.isatty():
        payload = sys.stdin.buffer.read()
        if args.hex:
            payload = parse_bytes(payload.decode("ascii", errors="replace"), as_hex=True)
    return run(_send_tcp(args, payload))


async def _send_tcp(args: argparse.Namespace, payload: bytes | None) -> int:
    journal = Journal()
    registry = SessionRegistry(journal)
    out = sys.stdout.buffer
    if args.json:
        journal.subscribe(EventPrinter(True))
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    activity = asyncio.Event()

    def on_chunk(chunk: bytes | None) -> None:
        activity.set()
        if chunk is not None and not args.json:
            out.write(chunk)
            out.flush()

    client = TcpClient(journal, args.host, args.port, bufsize=args.bufsize, connect_timeout=args.timeout)
    client.on_receive(on_chunk)
    try:
        await registry.start(client)
        if payload is not None:
            await client.send(payload)
        else:
            await _interactive(client, args, stop)
        if args.shutdown:
            await client.shutdown_write()
        await _read_replies(client, args, activity, stop)
        return 0
    except NetlabError:
        raise
    finally:
        await registry.stop_all()
        restore()


async def _interactive(client: TcpClient, args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Send each typed line as it is entered, until end of input (Ctrl+D) or Ctrl+C."""
    loop = asyncio.get_running_loop()
    ending = b"\r\n" if args.crlf else b"\n"
    while not stop.is_set() and not client.eof.is_set():
        line = await loop.run_in_executor(None, sys.stdin.buffer.readline)
        if not line:
            break
        data = line.rstrip(b"\r\n") + ending
        if args.hex:
            data = parse_bytes(line.decode("ascii", errors="replace"), as_hex=True)
        await client.send(data)


async def _read_replies(client: TcpClient, args, activity: asyncio.Event, stop: asyncio.Event) -> None:
    stopper = asyncio.ensure_future(stop.wait())
    eof = asyncio.ensure_future(client.eof.wait())
    try:
        if args.until_eof:
            done, _ = await asyncio.wait({stopper, eof}, timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                raise NetlabError(f"no EOF from {client.peer} after {args.timeout:g}s (--until-eof)")
            return
        while True:
            activity.clear()
            waiter = asyncio.ensure_future(activity.wait())
            done, _ = await asyncio.wait({stopper, eof, waiter}, timeout=args.wait,
                                         return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not done or stopper in done or eof in done:
                return
    finally:
        for task in (stopper, eof):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
