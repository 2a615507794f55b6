"""Journal ingest rate (events/s) and memory per event, headless.

Baseline in the same run: appending the same events to a plain ``collections.deque`` with maxlen
(the least a bounded store can do). Also checks that memory stays bounded under a long flood.
"""

from __future__ import annotations

import collections
import gc
import time
import tracemalloc

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal

N = 500_000
PAYLOAD = b"Hello, netlab! " * 4  # 60 bytes, a typical line of the course


def make_events(n: int) -> list[TrafficEvent]:
    return [TrafficEvent(source="tcp-echo@127.0.0.1:9999", proto="tcp", kind="data", direction="in",
                         local="127.0.0.1:9999", peer="127.0.0.1:40000", conn="tcp-1", payload=PAYLOAD)
            for _ in range(n)]


def rate(fn, events) -> float:
    gc.collect()
    start = time.perf_counter()
    fn(events)
    return len(events) / (time.perf_counter() - start)


def main() -> None:
    events = make_events(N)

    def baseline(evs):
        store = collections.deque(maxlen=100_000)
        append = store.append
        for e in evs:
            append(e)

    def journal_only(evs):
        journal = Journal(max_events=100_000)
        publish = journal.publish
        for e in evs:
            publish(e)

    def journal_with_subscriber(evs):
        journal = Journal(max_events=100_000)
        pending = []
        journal.subscribe(pending.append)  # what the TUI's log does
        publish = journal.publish
        for e in evs:
            publish(e)

    def create_and_publish(n):
        journal = Journal(max_events=100_000)
        publish = journal.publish
        for _ in range(n):
            publish(TrafficEvent(source="s", proto="tcp", kind="data", direction="in", local="a", peer="b",
                                 conn="tcp-1", payload=PAYLOAD))

    base = rate(baseline, events)
    plain = rate(journal_only, events)
    sub = rate(journal_with_subscriber, events)
    gc.collect()
    start = time.perf_counter()
    create_and_publish(N)
    full = N / (time.perf_counter() - start)
    print(f"deque baseline            {base:>12,.0f} events/s")
    print(f"journal.publish           {plain:>12,.0f} events/s  ({plain / base:.2f}x baseline)")
    print(f"  + one subscriber        {sub:>12,.0f} events/s")
    print(f"  create event + publish  {full:>12,.0f} events/s  (target >= 200,000)")

    # Memory per event, and boundedness: a flood 20x the bound must not grow past the bound.
    del events
    gc.collect()
    tracemalloc.start()
    journal = Journal(max_events=50_000)
    for i in range(50_000):  # distinct payload objects, as real traffic has
        journal.publish(TrafficEvent(source="s", proto="tcp", kind="data", direction="in",
                                     payload=PAYLOAD + i.to_bytes(4, "big")))
    at_bound, _ = tracemalloc.get_traced_memory()
    for i in range(1_000_000):
        journal.publish(TrafficEvent(source="s", proto="tcp", kind="data", direction="in",
                                     payload=PAYLOAD + i.to_bytes(4, "big")))
    after_flood, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory per event          {at_bound / 50_000:>12,.0f} bytes (payload {len(PAYLOAD) + 4} bytes)")
    print(f"after 1,000,000 more      {after_flood / 1e6:>12.1f} MB  vs {at_bound / 1e6:.1f} MB at the bound "
          f"(growth {after_flood / at_bound:.2f}x), dropped {journal.dropped:,}")


if __name__ == "__main__":
    main()
