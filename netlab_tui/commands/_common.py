"""What the sub-commands share: running the loop, signals, printing events."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import SessionRegistry

ARROWS = {"in": "<-", "out": "->", None: "  "}


def format_event_line(event: TrafficEvent, width: int = 100) -> str:
    """A human line for a terminal: time, source, direction, kind, peer, size, summary."""
    stamp = time.strftime("%H:%M:%S", time.localtime(event.ts)) + f".{int(event.ts * 1000) % 1000:03d}"
    size = f"{event.size}B" if event.payload is not None else ""
    peer = event.peer or event.local or ""
    # Payloads are cut to the width; netlab's own messages are not (a server's listen line carries the
    # host key fingerprint and password a user must read in full).
    summary = event.message if event.payload is None and event.message else event.summary(width)
    return (
        f"{stamp} {ARROWS.get(event.direction, '  ')} {event.kind:<7} {peer:<22} {size:>6}  "
        f"{summary}"
    ).rstrip()


class EventPrinter:
    """Prints events as JSON lines (``--json``) or human lines, flushing as it goes."""

    def __init__(self, as_json: bool, stream: IO[str] | None = None) -> None:
        self.as_json = as_json
        self.stream = stream or sys.stdout

    def __call__(self, event: TrafficEvent) -> None:
        line = event.to_json() if self.as_json else format_event_line(event)
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:  # `netlab serve ... | head`: stop printing, keep serving
            self.as_json = False
            self.stream = open("/dev/null", "w")  # noqa: SIM115 - lives as long as the process


def add_command_parser(subparsers: argparse._SubParsersAction, name: str, help: str, doc: str | None,
                       **kwargs: Any) -> argparse.ArgumentParser:
    """A sub-command whose ``--help`` shows ``doc`` (a module docstring) and any epilog as written.

    The docstrings mark commands as ``code`` for the source reader; --help shows them without the marks.
    """
    return subparsers.add_parser(
        name, help=help, description=(doc or "").replace("``", "") or None,
        formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs,
    )


def new_journal(as_json: bool, **options: Any) -> tuple[Journal, SessionRegistry]:
    """A command's journal (``options`` go to ``Journal``) and registry; with ``--json`` every event is
    printed as a JSON line."""
    journal = Journal(**options)
    registry = SessionRegistry(journal)
    if as_json:
        journal.subscribe(EventPrinter(True))
    return journal, registry


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM set ``stop`` instead of raising; returns a function that restores the defaults."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)

    def restore() -> None:
        for sig in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)

    return restore


@contextlib.asynccontextmanager
async def foreground(registry: SessionRegistry, session: Any, *, forward_stdin: bool) -> AsyncIterator[list[int]]:
    """Run one child (a local process, a remote command) in the foreground, as a shell runs a job.

    ``session`` is started in ``registry``; netlab's standard input is forwarded to it (or its input is
    closed at once); SIGINT/SIGTERM stop it, and the yielded list receives their numbers so the caller
    can exit with 128+N. On the way out stdin forwarding ends, the registry stops, signals are restored.
    """
    from ._stdin import StdinForwarder

    loop = asyncio.get_running_loop()
    interrupted: list[int] = []

    def on_signal(signum: int) -> None:
        interrupted.append(signum)
        loop.create_task(session.stop())

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):
            pass
    forwarder: StdinForwarder | None = None
    try:
        await registry.start(session)
        if forward_stdin:
            forwarder = StdinForwarder(session.write_stdin, session.close_stdin)
            forwarder.start()
        else:
            await session.close_stdin()
        yield interrupted
    finally:
        if forwarder is not None:
            await forwarder.stop()
        await registry.stop_all()
        for sig in installed:
            loop.remove_signal_handler(sig)


class OutputWriter:
    """A child's stdout/stderr events to ours, byte for byte (for a pipeline: only ``last_stage``'s stdout)."""

    def __init__(self, last_stage: int | None = None) -> None:
        self.last_stage = last_stage
        self.silenced = False

    def __call__(self, event: TrafficEvent) -> None:
        if event.payload is None or self.silenced:
            return
        if event.kind == "stdout":
            stage = (event.meta or {}).get("stage")
            if self.last_stage is not None and stage != self.last_stage:
                return
            stream = sys.stdout.buffer
        else:
            stream = sys.stderr.buffer
        try:
            stream.write(event.payload)
            stream.flush()
        except BrokenPipeError:  # `netlab run ... | head`: stop printing, let the command finish
            self.silenced = True
            with contextlib.suppress(OSError):  # so the interpreter's final flush does not complain
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def run(coro: Awaitable[int]) -> int:
    return asyncio.run(coro)  # type: ignore[arg-type]


def die(message: str, status: int = 1) -> int:
    print(f"netlab: {message}", file=sys.stderr)
    return status


def parse_bytes(value: str, *, as_hex: bool) -> bytes:
    """A message from the command line: text as UTF-8, or hex digits (spaces and colons allowed)."""
    if not as_hex:
        return value.encode("utf-8")
    cleaned = "".join(ch for ch in value if ch not in " :\n\t")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        from netlab_tui.engine.core.sessions import NetlabError

        raise NetlabError(f"not valid hex: {value!r} (expected pairs of 0-9a-f digits)") from None


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value!r}")
    return number


def port_number(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {number}")
    return number
