"""``EventInbox``: the journal events a pane follows, gathered between two repaints.

The subscription only appends (cheap, at publish time); the pane's timer ``take()``s the lot, so a
burst of a thousand events costs one table update per tick, not one per event.
"""

from __future__ import annotations

from collections.abc import Callable

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal, Subscription


class EventInbox:
    def __init__(self) -> None:
        self._events: list[TrafficEvent] = []
        self._subscription: Subscription | None = None
        self.on_event: Callable[[], None] | None = None  # told of each event (a pane wakes its flush timer)

    @property
    def pending(self) -> bool:
        return bool(self._events)

    def follow(self, journal: Journal, predicate: Callable[[TrafficEvent], bool]) -> None:
        """Collect the events of ``journal`` that pass ``predicate`` from now on (and only those)."""
        self.close()
        self._events = []
        self._subscription = journal.subscribe(self._add, predicate)

    def _add(self, event: TrafficEvent) -> None:
        self._events.append(event)
        if self.on_event is not None:
            self.on_event()

    def take(self) -> list[TrafficEvent]:
        """The events gathered since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def discard(self) -> None:
        self._events = []

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
