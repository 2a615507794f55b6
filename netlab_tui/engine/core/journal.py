"""The journal: the single, bounded record of everything netlab saw.

Bounded twice — by event count and by bytes — and when either bound is reached the oldest events go
first, counted in ``dropped`` so a view can say how much history it no longer has. Subscribers are
called synchronously on publish (on the event loop's thread); threads hand events over with
``publish_threadsafe``.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from .events import TrafficEvent

Predicate = Callable[[TrafficEvent], bool]
Subscriber = Callable[[TrafficEvent], None]

# What one event costs beyond its payload (object, dict of meta, strings): a deliberately round figure
# so the byte bound also holds for floods of empty events.
EVENT_OVERHEAD = 256


class Subscription:
    """Returned by ``Journal.subscribe``; call ``unsubscribe()`` (or use as a context manager)."""

    __slots__ = ("_journal", "callback", "predicate", "active")

    def __init__(self, journal: "Journal", callback: Subscriber, predicate: Predicate | None) -> None:
        self._journal = journal
        self.callback = callback
        self.predicate = predicate
        self.active = True

    def unsubscribe(self) -> None:
        if self.active:
            self.active = False
            self._journal._subscriptions.remove(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.unsubscribe()


class Journal:
    def __init__(self, max_events: int = 200_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_events < 1 or max_bytes < 1:
            raise ValueError("journal bounds must be positive")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._events: deque[TrafficEvent] = deque()
        self._bytes = 0
        self._subscriptions: list[Subscription] = []
        self.dropped = 0  # events evicted to stay within bounds
        self.total = 0  # events ever published (also the last seq)
        self.on_error: Callable[[BaseException], None] | None = None

    # -- writing -------------------------------------------------------------------------------------
    def publish(self, event: TrafficEvent) -> TrafficEvent:
        self.total = seq = self.total + 1
        event.seq = seq
        events = self._events
        events.append(event)
        payload = event.payload
        self._bytes += EVENT_OVERHEAD if payload is None else len(payload) + EVENT_OVERHEAD
        if len(events) > self.max_events or self._bytes > self.max_bytes:
            # A long flood's steady state, one in and one out, inline: the call to _evict cost a quarter
            # of publishing.
            old = events.popleft()
            self._bytes -= EVENT_OVERHEAD if old.payload is None else len(old.payload) + EVENT_OVERHEAD
            self.dropped += 1
            if len(events) > self.max_events or self._bytes > self.max_bytes:
                self._evict()
        for sub in self._subscriptions:
            if sub.predicate is None or sub.predicate(event):
                try:
                    sub.callback(event)
                except Exception as exc:  # a broken view must not break the sessions feeding it
                    if self.on_error is not None:
                        self.on_error(exc)
        return event

    def publish_threadsafe(self, loop: asyncio.AbstractEventLoop, event: TrafficEvent) -> None:
        """From a worker thread: hand the event to the loop that owns the journal."""
        loop.call_soon_threadsafe(self.publish, event)

    def _evict(self) -> None:
        events = self._events
        while events and (len(events) > self.max_events or self._bytes > self.max_bytes):
            old = events.popleft()
            self._bytes -= (len(old.payload) if old.payload is not None else 0) + EVENT_OVERHEAD
            self.dropped += 1

    def clear(self) -> None:
        """Forget the stored events (the counters keep counting; cleared events are not 'dropped')."""
        self._events.clear()
        self._bytes = 0

    # -- reading -------------------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber, predicate: Predicate | None = None) -> Subscription:
        sub = Subscription(self, callback, predicate)
        self._subscriptions.append(sub)
        return sub

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[TrafficEvent]:
        return iter(list(self._events))

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def events(self, predicate: Predicate | None = None) -> list[TrafficEvent]:
        if predicate is None:
            return list(self._events)
        return [e for e in self._events if predicate(e)]

    def get(self, seq: int) -> TrafficEvent | None:
        """The event with this sequence number, if still held (O(1): seqs are contiguous)."""
        if not self._events:
            return None
        first = self._events[0].seq
        index = seq - first
        if 0 <= index < len(self._events):
            event = self._events[index]
            if event.seq == seq:
                return event
        return None

    # -- export --------------------------------------------------------------------------------------
    def export_jsonl(self, target: str | Path | IO[str], predicate: Predicate | None = None) -> int:
        """Write the events as JSON lines (the event contract). Returns how many were written."""
        events = self.events(predicate)
        if isinstance(target, (str, Path)):
            with open(target, "w", encoding="utf-8") as fh:
                return _write_jsonl(fh, events)
        return _write_jsonl(target, events)


def _write_jsonl(fh: IO[str], events: Iterable[TrafficEvent]) -> int:
    count = 0
    for event in events:
        fh.write(event.to_json())
        fh.write("\n")
        count += 1
    return count


def load_jsonl(path: str | Path) -> list[TrafficEvent]:
    """Read a JSONL journal back. Raises ValueError naming the first bad line."""
    events: list[TrafficEvent] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                events.append(TrafficEvent.from_dict(json.loads(line)))
            except (ValueError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}:{lineno}: not a netlab event ({exc})") from None
    return events


# -- filter predicates: small, composable; the filter language of the log builds on them ---------------
def by_proto(*protos: str) -> Predicate:
    wanted = frozenset(protos)
    return lambda e: e.proto in wanted


def by_kind(*kinds: str) -> Predicate:
    wanted = frozenset(kinds)
    return lambda e: e.kind in wanted


def by_source(source: str) -> Predicate:
    return lambda e: e.source == source


def by_conn(conn: str) -> Predicate:
    return lambda e: e.conn == conn


def by_direction(direction: str | None) -> Predicate:
    return lambda e: e.direction == direction


def payload_contains(needle: bytes | str) -> Predicate:
    raw = needle.encode() if isinstance(needle, str) else needle
    return lambda e: e.payload is not None and raw in e.payload


def all_of(*predicates: Predicate) -> Predicate:
    return lambda e: all(p(e) for p in predicates)


def any_of(*predicates: Predicate) -> Predicate:
    return lambda e: any(p(e) for p in predicates)


def not_(predicate: Predicate) -> Predicate:
    return lambda e: not predicate(e)
