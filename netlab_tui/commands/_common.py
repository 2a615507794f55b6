"""What the sub-commands share: running the loop, signals, printing events."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from netlab_tui.engine.core.events import TrafficEvent

try:  # the C string encoder json.dumps(..., ensure_ascii=False) uses
    from _json import encode_basestring as _json_str
except ImportError:  # pragma: no cover - CPython always has it
    from json.encoder import py_encode_basestring as _json_str
from netlab_tui.engine.core.journal import Journal, Subscription
from netlab_tui.engine.core.sessions import SessionRegistry

ARROWS = {"in": "<-", "out": "->", None: "  "}


_PRINTABLE = bytes(range(0x20, 0x7f))
_stamp_second: int | None = None
_stamp_text = ""


def _stamp(ts: float) -> str:
    """``14:03:07.123``; the ``strftime`` of the second is kept, so a flood costs one a second."""
    global _stamp_second, _stamp_text
    second = int(ts)
    if second != _stamp_second:
        _stamp_second, _stamp_text = second, time.strftime("%H:%M:%S", time.localtime(second))
    return f"{_stamp_text}.{int(ts * 1000) % 1000:03d}"


def format_event_line(event: TrafficEvent, width: int = 100) -> str:
    """A human line for a terminal: time, source, direction, kind, peer, size, summary."""
    size = f"{len(event.payload)}B" if event.payload is not None else ""
    peer = event.peer or event.local or ""
    # Payloads are cut to the width; netlab's own messages are not (a server's listen line carries the
    # host key fingerprint and password a user must read in full).
    payload = event.payload
    if payload is None:
        summary = event.message or event.summary(width)
    elif not payload[:width].translate(None, _PRINTABLE):  # the common case, without summary()'s table
        summary = payload[:width].decode("ascii")
    else:
        summary = event.summary(width)
    return (
        f"{_stamp(event.ts)} {ARROWS.get(event.direction, '  ')} {event.kind:<7} {peer:<22} {size:>6}  "
        f"{summary}"
    ).rstrip()


_line_middles: dict[tuple, str] = {}
_MILLIS = [f".{ms:03d}" for ms in range(1000)]
_line_sizes: dict[int, str] = {}


def event_lines(events: list[TrafficEvent], width: int = 100) -> str:
    """``format_event_line(event, width) + "\n"`` for each event, in one string.

    Data events with printable ASCII payloads (a flood) take an inlined path: the middle of the line
    (direction, kind, peer) and the padded size repeat, so they are made once and kept; an echo's two
    events share the size and text.
    """
    global _stamp_second, _stamp_text
    middles = _line_middles
    sizes = _line_sizes
    printable = _PRINTABLE
    lines = []
    append = lines.append
    last_payload = tail = None
    for event in events:
        payload = event.payload
        if payload is None:
            append(format_event_line(event, width) + "\n")
            continue
        if payload is not last_payload:  # an echo's reply is the very bytes object it received: once for both
            head = payload[:width]
            if head.translate(None, printable):
                append(format_event_line(event, width) + "\n")
                continue
            last_payload = payload
            size = sizes.get(len(payload))
            if size is None:
                if len(sizes) >= 4096:
                    sizes.clear()
                size = sizes[len(payload)] = f"{len(payload)}B".rjust(6) + "  "
            tail = size + head.decode("ascii")
        ts = event.ts
        second = int(ts)
        if second != _stamp_second:
            _stamp_second, _stamp_text = second, time.strftime("%H:%M:%S", time.localtime(second))
        key = (event.direction, event.kind, event.peer or event.local or "")
        middle = middles.get(key)
        if middle is None:
            if len(middles) >= 4096:
                middles.clear()
            middle = middles[key] = f" {ARROWS.get(key[0], '  ')} {key[1]:<7} {key[2]:<22} "
        line = f"{_stamp_text}{_MILLIS[int(ts * 1000) % 1000]}{middle}{tail}\n"
        # The one whitespace among printable ASCII is the space: only then is there an end to strip.
        append(line if tail[-1] != " " else line[:-1].rstrip() + "\n")
    return "".join(lines)


_json_heads: dict[tuple, str] = {}
_JSON_HEAD_KEYS = ("source", "proto", "kind", "direction", "local", "peer", "conn")


def _json_head(key: tuple) -> str:
    """The contract's JSON for the keys naming the conversation, from ``"source"`` to ``"size": ``: they
    repeat event after event, so this is made once and kept."""
    if len(_json_heads) >= 4096:
        _json_heads.clear()
    head = _json_heads[key] = ", ".join(
        f'"{name}": {"null" if value is None else _json_str(value)}' for name, value in zip(_JSON_HEAD_KEYS, key)
    ) + ', "size": '
    return head


def event_json(event: TrafficEvent) -> str:
    """``event.to_json()``, the same text, built faster (see ``_json_head``)."""
    key = (event.source, event.proto, event.kind, event.direction, event.local, event.peer, event.conn)
    head = _json_heads.get(key) or _json_head(key)
    payload = event.payload
    if payload is not None:
        size = len(payload)
        text = _json_str(payload.decode("utf-8", "replace"))
        hex_ = f'"{payload.hex()}"'
    else:
        size = 0
        text = "null" if event.message is None else _json_str(event.message)
        hex_ = "null"
    meta = "null" if event.meta is None else json.dumps(event.meta, ensure_ascii=False, default=str)
    host = "null" if event.host is None else _json_str(event.host)
    return f'{{"ts": {event.ts!r}, {head}{size}, "text": {text}, "hex": {hex_}, "meta": {meta}, "host": {host}}}'


def json_lines(events: list[TrafficEvent]) -> str:
    """``event_json(event) + "\n"`` for each event, in one string.

    A flood is data events without meta: they take an inlined path (no call per event, locals only),
    and an echo's two events share everything after the conversation's keys. What is left of the cost
    is mostly ``repr(ts)``, the float's shortest round-trip digits (about half of it).
    """
    heads = _json_heads
    get_head = heads.get
    new_head = _json_head
    quote = _json_str
    lines = []
    append = lines.append
    last_payload = tail = None
    for event in events:
        payload = event.payload
        if payload is None or event.meta is not None or event.host is not None:
            append(event_json(event) + "\n")
            continue
        key = (event.source, event.proto, event.kind, event.direction, event.local, event.peer, event.conn)
        if payload is not last_payload:  # an echo's reply is the very bytes object it received: once for both
            last_payload = payload
            tail = (f'{len(payload)}, "text": {quote(payload.decode("utf-8", "replace"))}, "hex": "{payload.hex()}", '
                    f'"meta": null, "host": null}}\n')
        append(f'{{"ts": {event.ts!r}, {get_head(key) or new_head(key)}{tail}')
    return "".join(lines)


class EventPrinter:
    """Prints events as JSON lines (``--json``) or human lines.

    By default each event is written and flushed as it comes. With ``batch=True`` (``netlab serve``, where
    printing would otherwise cost more than serving) events are only queued as they come, and formatted
    and written later in one write and one flush — same order, nothing dropped: on the next turn of the
    event loop after a quiet spell (a lone event shows at once), at most every ``interval`` seconds during
    a flood. ``flush()`` writes what is queued at once (call it before the program ends).

    Subscribed with ``attach(journal)``, a batched printer costs a flood one C call per event: once a
    write is scheduled, its subscription's callback is the queue's own ``append`` until that write.
    """

    def __init__(self, as_json: bool, stream: IO[str] | None = None, *, batch: bool = False,
                 interval: float = 0.05) -> None:
        self.as_json = as_json
        self.stream = stream or sys.stdout
        self.batch = batch
        self.interval = interval
        self._pending: list[TrafficEvent] = []
        self._scheduled: asyncio.Handle | None = None
        self._last_flush = float("-inf")  # loop time
        self._subscription: Subscription | None = None
        self._closed = False  # the reader went away (`netlab serve ... | head`)

    def attach(self, journal: Journal) -> Subscription:
        """Subscribe to every event of ``journal`` (prefer this to ``journal.subscribe(printer)``)."""
        self._subscription = journal.subscribe(self)
        return self._subscription

    def __call__(self, event: TrafficEvent) -> None:
        self._pending.append(event)
        if not self.batch:
            self.flush()
        elif self._scheduled is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a thread, the end of the program): at once
                self.flush()
                return
            wait = self._last_flush + self.interval - loop.time()
            self._scheduled = loop.call_soon(self.flush) if wait <= 0 else loop.call_later(wait, self.flush)
            if self._subscription is not None:  # until the write: queue without a Python call
                self._subscription.callback = self._pending.append

    def flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if self._subscription is not None:
            self._subscription.callback = self
        events = self._pending
        if not events:
            return
        self._pending = []
        with contextlib.suppress(RuntimeError):
            self._last_flush = asyncio.get_running_loop().time()
        if self._closed:
            return
        text = json_lines(events) if self.as_json else event_lines(events)
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:  # `netlab serve ... | head`: stop printing, keep serving
            self._closed = True
            with contextlib.suppress(OSError):  # so the interpreter's last flush of the stream does not complain
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())


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
        EventPrinter(True).attach(journal)
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
