"""``netlab scan TARGET``: which TCP ports answer, with nmap or netlab's own connect scanner.

Prints a port table as results arrive (open and filtered ports; ``--all`` adds the closed ones) and a
summary line, or every event as JSON lines with ``--json``. Hosts outside the loopback range are
scanned only with ``--yes``: scan only machines you own.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import IO

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.sessions import NetlabError, Session, SessionRegistry
from netlab_tui.engine.scan.scanner import ENGINES, ScanPolicyError, ScanSession

from ._common import add_command_parser, install_stop_signals, new_journal, positive_float, run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command_parser(
        subparsers, "scan", "scan TCP ports (nmap, or the built-in connect scanner)", __doc__,
        epilog=(
            "ports: 22,80,8000-8100 · 1000- (to 65535) · - or all (1-65535) · top:100 (most common)\n"
            "       default: the 1,000 most common ports, as nmap does\n"
            "targets: 127.0.0.1 · localhost · ::1 · 127.0.0.0/29 · several, comma-separated"
        ),
    )
    parser.add_argument("target", metavar="TARGET", help="host, address or network to scan")
    parser.add_argument("-p", "--ports", metavar="PORTS", default=None, help="ports to scan (see below)")
    parser.add_argument("--engine", choices=ENGINES, default="nmap",
                        help="nmap (default; falls back to connect when nmap is not installed) or connect")
    parser.add_argument("--syn", action="store_true", help="SYN scan (nmap -sS; needs root) instead of connect")
    parser.add_argument("--timeout", type=positive_float, default=1.0, metavar="SECONDS",
                        help="connect engine: how long to wait for an answer before 'filtered' (default 1)")
    parser.add_argument("--concurrency", type=int, default=512, metavar="N",
                        help="connect engine: connections in flight at once (default 512)")
    parser.add_argument("--all", action="store_true", help="list closed ports too")
    parser.add_argument("--yes", action="store_true",
                        help="confirm you own the hosts outside 127.0.0.0/8 and ::1 that you scan")
    parser.add_argument("--compare-from", metavar="HOSTS", default=None,
                        help="also run the scan over SSH from these hosts ([user@]host[:port], comma-separated) "
                             "and show the results side by side")
    parser.add_argument("-i", "--identity", metavar="KEY", default=None, help="--compare-from: SSH private key")
    parser.add_argument("--known-hosts", metavar="FILE", default=None, help="--compare-from: known_hosts file")
    parser.add_argument("--trust", action="store_true",
                        help="--compare-from: accept (and remember) SSH host keys not known yet")
    parser.add_argument("--password-prompt", action="store_true",
                        help="--compare-from: ask for the SSH password (not echoed, never logged)")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines (the event contract)")
    parser.set_defaults(handler=handle, parser=parser)


def handle(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        args.parser.error("--concurrency must be at least 1")
    if args.compare_from:
        return _compare_command(args)
    return run(_scan(args))


async def _scan(args: argparse.Namespace) -> int:
    journal, registry = new_journal(args.json, max_events=1_000_000)
    out = sys.stdout
    session = ScanSession(
        journal, args.target, args.ports, engine=args.engine, syn=args.syn, allow_remote=args.yes,
        timeout=args.timeout, concurrency=args.concurrency,
    )
    meter = ProgressMeter(session, sys.stderr) if not args.json and sys.stderr.isatty() else None
    if not args.json:
        journal.subscribe(PortTable(out, show_closed=args.all, meter=meter), lambda e: e.source == session.name)
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    try:
        await _run_until_done(registry, session, stop, meter.update if meter is not None else None)
        if meter is not None:
            meter.clear()
        return 1 if session.error else 0
    finally:
        await registry.stop_all()
        restore()


async def _run_until_done(registry: SessionRegistry, session: Session, stop: asyncio.Event,
                          tick: Callable[[], None] | None = None) -> bool:
    """Start ``session`` and wait until it ends, or until ``stop`` is set (Ctrl+C), which stops it.
    ``tick`` runs every 0.2 s meanwhile. True when the session ended by itself."""
    try:
        await registry.start(session)
    except ScanPolicyError as exc:
        raise NetlabError(f"{exc}; pass --yes if you do") from None
    ended = asyncio.ensure_future(session.wait_closed())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        while not ended.done():
            await asyncio.wait({ended, stopper}, timeout=0.2 if tick is not None else None,
                               return_when=asyncio.FIRST_COMPLETED)
            if tick is not None:
                tick()
            if stopper.done() and not ended.done():
                await session.stop()
                return False
        return True
    finally:
        stopper.cancel()


class PortTable:
    """The human output: notes, then one row per interesting port as it arrives, then the summary."""

    def __init__(self, stream: IO[str], show_closed: bool = False, meter: "ProgressMeter | None" = None) -> None:
        self.stream = stream
        self.show_closed = show_closed
        self.meter = meter
        self.header_done = False
        self.multi_host = False

    def __call__(self, event: TrafficEvent) -> None:
        meta = event.meta or {}
        if event.kind == "info" and meta.get("hosts") is not None:
            self.multi_host = len(meta["hosts"]) > 1
            self._write(event.text or "")
        elif event.kind == "info" and meta.get("note"):
            self._write(f"note: {event.text}")
        elif event.kind == "port":
            if meta.get("state") == "closed" and not self.show_closed:
                return
            if not self.header_done:
                self.header_done = True
                self._write(self._row("HOST", "PORT", "STATE", "SERVICE"))
            self._write(self._row(str(meta.get("host")), f"{meta.get('port')}/tcp", str(meta.get("state")),
                                  str(meta.get("service"))))
        elif event.kind == "info" and meta.get("summary"):
            self._write(event.text or "")
        elif event.kind == "error":
            print(f"netlab: {event.text}", file=sys.stderr)

    def _row(self, host: str, port: str, state: str, service: str) -> str:
        row = f"{port:<11} {state:<9} {service}"
        return f"{host:<16} {row}" if self.multi_host else row

    def _write(self, line: str) -> None:
        if self.meter is not None:
            self.meter.clear()  # the meter shares the terminal's last line
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.stream = open("/dev/null", "w")  # noqa: SIM115 - `netlab scan … | head`


class ProgressMeter:
    """``42% 27,000/65,535 ports · ETA 3s`` on one rewritten line of a terminal's stderr."""

    def __init__(self, session: ScanSession, stream: IO[str]) -> None:
        self.session = session
        self.stream = stream
        self.last = 0.0

    def update(self) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        p = self.session.progress
        if not p.total:
            return
        eta = p.eta
        eta_text = f" · ETA {eta:.0f}s" if eta is not None else ""
        self.stream.write(f"\r{p.fraction:4.0%} {int(p.completed):,}/{p.total:,} ports{eta_text}\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        if self.last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# -- --compare-from ------------------------------------------------------------------------------------
def _compare_command(args: argparse.Namespace) -> int:
    from netlab_tui.engine.ssh.client import UnknownHostKey, parse_hosts

    targets = parse_hosts([args.compare_from], key_file=args.identity, known_hosts=args.known_hosts,
                          trust=args.trust)
    if args.password_prompt:
        import getpass

        try:
            password = getpass.getpass(f"SSH password for {', '.join(t.label for t in targets)}: ")
        except (EOFError, OSError):
            raise NetlabError("no password given (the prompt needs a terminal)") from None
        for target in targets:
            target.password = password
    try:
        return run(_compare(args, targets))
    except UnknownHostKey as exc:
        raise NetlabError(f"{exc}; to accept it, run again with --trust") from None


async def _compare(args: argparse.Namespace, targets: list) -> int:
    from netlab_tui.engine.scan.compare import ScanCompareSession

    journal, registry = new_journal(args.json, max_events=1_000_000)
    session = ScanCompareSession(journal, args.target, args.ports, targets, engine=args.engine,
                                 allow_remote=args.yes)
    if not args.json:
        # SSH sessions' own errors come back as the comparison's per-host errors: print those once.
        journal.subscribe(_compare_progress, lambda e: (e.kind == "error" and e.proto != "ssh") or e.kind == "connect"
                          or (e.kind == "info" and bool((e.meta or {}).get("compare") or (e.meta or {}).get("note"))))
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    try:
        if not await _run_until_done(registry, session, stop):
            return 0
        comparison = session.comparison
        if comparison is not None and not args.json:
            for line in comparison.side_by_side(everything=args.all):
                print(line)
        if session.error:
            return 1
        failed = comparison is None or any(v.error for v in comparison.vantages)
        return 1 if failed else 0
    finally:
        await registry.stop_all()
        restore()


def _compare_progress(event: TrafficEvent) -> None:
    """Human mode: say what is happening while the scans run (the table comes at the end)."""
    if event.kind == "error":
        hint = "; to accept it, run again with --trust" if "unknown host key" in (event.text or "") else ""
        print(f"netlab: {event.text}{hint}", file=sys.stderr)
    elif event.kind == "connect":
        print(f"{event.source}: {event.text}", file=sys.stderr)
    else:
        print(event.text, file=sys.stderr if (event.meta or {}).get("note") else sys.stdout)
    sys.stdout.flush()
