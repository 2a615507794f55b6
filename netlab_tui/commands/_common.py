"""What the sub-commands share: running the loop, signals, printing events."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import IO, Any

from ..engine.events import TrafficEvent

ARROWS = {"in": "<-", "out": "->", None: "  "}


def format_event_line(event: TrafficEvent, width: int = 100) -> str:
    """A human line for a terminal: time, source, direction, kind, peer, size, summary."""
    stamp = time.strftime("%H:%M:%S", time.localtime(event.ts)) + f".{int(event.ts * 1000) % 1000:03d}"
    size = f"{event.size}B" if event.payload is not None else ""
    peer = event.peer or event.local or ""
    return (
        f"{stamp} {ARROWS.get(event.direction, '  ')} {event.kind:<7} {peer:<22} {size:>6}  "
        f"{event.summary(width)}"
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
        from ..engine.sessions import NetlabError

        raise NetlabError(f"not valid hex: {value!r} (expected pairs of 0-9a-f digits)") from None


def positive_float(value: str) -> float:
    import argparse

    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value!r}")
    return number


def port_number(value: str) -> int:
    import argparse

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {number}")
    return number


def describe(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items())
