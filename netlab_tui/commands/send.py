"""``netlab send tcp|udp HOST PORT [MESSAGE]``: one client exchange, as a script would do it.

Sends MESSAGE (or standard input when piped; typed lines when interactive), then prints what comes
back: until the server has been quiet for ``--wait`` seconds, or until it closes with ``--until-eof``
(the course's read-until-EOF loop).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError, SessionRegistry
from netlab_tui.engine.sockets import payload as payloads
from netlab_tui.engine.sockets.tcp import DEFAULT_BUFSIZE, MAX_BUFSIZE, TcpClient
from netlab_tui.engine.sockets.udp import MAX_DATAGRAM, UdpClient

from ._capture import Recording, add_capture_arguments
from ._common import EventPrinter, install_stop_signals, parse_bytes, port_number, positive_float, run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "send",
        help="send a message over TCP or UDP and print the reply",
        description="Connect, send a message, print the reply bytes (or every event with --json).",
    )
    protos = parser.add_subparsers(dest="proto", metavar="PROTO", required=True, parser_class=_IntermixedParser)
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
    add_capture_arguments(tcp)
    _add_json_payload_arguments(tcp)
    tcp.set_defaults(handler=handle_tcp, parser=tcp)

    udp = protos.add_parser("udp", help="UDP datagrams: sendto, then recvfrom with a timeout",
                            description=UDP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    udp.add_argument("host", metavar="HOST")
    udp.add_argument("port", metavar="PORT", type=port_number)
    udp.add_argument("message", metavar="MESSAGE", nargs="?",
                     help="the datagram; without it: standard input (piped) as one datagram, "
                          "or one datagram per line as you type them")
    udp.add_argument("--hex", action="store_true", help="MESSAGE is hex digits (e.g. '48 65 6c 6c 6f')")
    udp.add_argument("--newline", action="store_true", help="append \\n to MESSAGE")
    udp.add_argument("--timeout", type=positive_float, default=2.0, metavar="SECONDS",
                     help="how long to wait for a reply (default 2)")
    udp.add_argument("--no-reply", action="store_true",
                     help="send and exit without waiting for a reply (for a sink)")
    udp.add_argument("--json", action="store_true", help="print events as JSON lines instead of the reply")
    add_capture_arguments(udp)
    _add_json_payload_arguments(udp)
    udp.set_defaults(handler=handle_udp, parser=udp)


UDP_DESCRIPTION = """\
Send one datagram (sendto) and print the reply (recvfrom), waiting at most --timeout seconds.
UDP promises nothing: no reply is an error here (exit status 1) unless --no-reply says none is expected.
"""


def _add_json_payload_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("JSON payloads (instead of MESSAGE)")
    group.add_argument("--json-doc", metavar="JSON",
                       help="send this JSON document, as json.dumps(...).encode() would (checked first)")
    group.add_argument("--field", action="append", metavar="KEY=VALUE", default=None,
                       help="build a JSON object field by field: key=text, key:=json, dots nest "
                            "(--field cmd=add --field args.name=Alice)")


def _json_payload(args: argparse.Namespace) -> bytes | None:
    """The payload given with --json-doc/--field, if any (and refuse it together with MESSAGE)."""
    if args.json_doc is None and not args.field:
        return None
    if args.message is not None:
        args.parser.error("give either MESSAGE or --json-doc/--field, not both")
    if args.json_doc is not None and args.field:
        args.parser.error("give either --json-doc or --field, not both")
    if args.json_doc is not None:
        return payloads.json_document(args.json_doc)
    return payloads.json_from_fields(args.field)


class _IntermixedParser(argparse.ArgumentParser):
    """Options may follow the optional MESSAGE (``send tcp HOST PORT --hex 41``): plain argparse binds
    the empty MESSAGE before it sees ``--hex`` and then rejects ``41``."""

    _parsing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._parsing:  # parse_known_intermixed_args calls back into parse_known_args
            return super().parse_known_args(args, namespace)
        self._parsing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._parsing = False


def handle_tcp(args: argparse.Namespace) -> int:
    if not 1 <= args.bufsize <= MAX_BUFSIZE:
        args.parser.error(f"--bufsize must be 1 to {MAX_BUFSIZE}")
    payload: bytes | None = _json_payload(args)
    if payload is not None:
        if args.newline or args.crlf:
            payload += b"\r\n" if args.crlf else b"\n"
    elif args.message is not None:
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
    recording = Recording(args, journal)
    try:
        recording.for_client(args.host, args.port, "tcp")
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
        recording.finish()


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


def handle_udp(args: argparse.Namespace) -> int:
    payload: bytes | None = _json_payload(args)
    if payload is None and args.message is not None:
        payload = parse_bytes(args.message, as_hex=args.hex)
        if args.newline:
            payload += b"\n"
    elif payload is None and not sys.stdin.isatty():
        payload = sys.stdin.buffer.read()
        if args.hex:
            payload = parse_bytes(payload.decode("ascii", errors="replace"), as_hex=True)
    if payload is not None and len(payload) > MAX_DATAGRAM:
        raise NetlabError(f"datagram too large: {len(payload)} bytes (UDP carries at most {MAX_DATAGRAM})")
    return run(_send_udp(args, payload))


async def _send_udp(args: argparse.Namespace, payload: bytes | None) -> int:
    journal = Journal()
    registry = SessionRegistry(journal)
    if args.json:
        journal.subscribe(EventPrinter(True))
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    client = UdpClient(journal, args.host, args.port, timeout=args.timeout)
    recording = Recording(args, journal)
    try:
        recording.for_client(args.host, args.port, "udp")
        await registry.start(client)
        if payload is None:
            return await _interactive_udp(client, args, stop)
        if args.no_reply:
            client.send(payload)
            return 0
        reply = await _until_stopped(client.request(payload), stop)
        if reply is None:
            if stop.is_set():
                return 130
            raise NetlabError(f"no reply from udp {client.peer} within {args.timeout:g}s")
        _print_datagram(reply, args)
        return 0
    finally:
        await registry.stop_all()
        restore()
        recording.finish()


async def _interactive_udp(client: UdpClient, args: argparse.Namespace, stop: asyncio.Event) -> int:
    """One datagram per typed line; each reply (or its absence) is shown before the next line."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        line = await _until_stopped(loop.run_in_executor(None, sys.stdin.buffer.readline), stop)
        if not line:
            return 0
        data = line.rstrip(b"\r\n") + (b"\n" if args.newline else b"")
        if args.hex:
            data = parse_bytes(line.decode("ascii", errors="replace"), as_hex=True)
        if args.no_reply:
            client.send(data)
            continue
        reply = await _until_stopped(client.request(data), stop)
        if reply is not None:
            _print_datagram(reply, args)
        elif not stop.is_set():
            print(f"netlab: no reply from udp {client.peer} within {args.timeout:g}s", file=sys.stderr)
    return 0


async def _until_stopped(awaitable, stop: asyncio.Event):
    """The awaitable's result, or None as soon as Ctrl+C sets ``stop``."""
    work = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            return work.result()
        return None
    finally:
        for task in (work, stopper):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _print_datagram(data: bytes, args: argparse.Namespace) -> None:
    if args.json:
        return  # the data event is already printed
    out = sys.stdout.buffer
    out.write(data)
    if sys.stdout.isatty() and not data.endswith(b"\n"):  # one datagram a line on a terminal
        out.write(b"\n")
    out.flush()
