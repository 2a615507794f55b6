"""The heap freezer: frozen while events pour in, a full collection once traffic is quiet."""

import gc
import os

import pytest

from netlab_tui.engine.core import gc_policy
from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.gc_policy import HeapFreezer
from netlab_tui.engine.core.journal import Journal


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_freezes_during_bursts_and_cleans_up_when_idle():
    journal = Journal()
    clock = Clock()
    freezer = HeapFreezer(journal, freeze_every=100, idle_seconds=5, clock=clock)
    try:
        assert freezer.freezes == 1 and gc.get_freeze_count() > 0  # the start-up heap
        for i in range(250):
            journal.publish(TrafficEvent("s", "tcp", "data", "in", payload=b"x%d" % i))
            if i % 50 == 49:
                clock.now += 0.5
                freezer.tick()
        assert freezer.freezes == 4  # at 100 and 200 new events, and once the app has settled (2 s)
        assert freezer.cleanups == 0
        frozen = gc.get_freeze_count()
        clock.now += 4.9
        freezer.tick()
        assert freezer.cleanups == 0 and gc.get_freeze_count() == frozen  # not quiet for long enough yet
        clock.now += 0.2
        freezer.tick()
        assert freezer.cleanups == 1 and gc.get_freeze_count() == 0  # everything back to the collector
        clock.now += 60
        freezer.tick()
        assert freezer.cleanups == 1  # nothing new: no more pauses
    finally:
        freezer.close()
    assert gc.get_freeze_count() == 0


def test_frozen_events_are_still_freed_when_the_journal_drops_them():
    freed = []

    class Probe:
        def __del__(self) -> None:
            freed.append(True)

    journal = Journal(max_events=10)
    freezer = HeapFreezer(journal, freeze_every=1)
    try:
        journal.publish(TrafficEvent("s", "tcp", "data", "in", payload=b"first", meta={"probe": Probe()}))
        freezer.tick()  # frozen now
        assert not freed
        for _ in range(20):
            journal.publish(TrafficEvent("s", "tcp", "data", "in", payload=b"more"))
        assert freed == [True]  # refcounting freed it when the journal let it go, frozen or not
    finally:
        freezer.close()


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(gc_policy.malloc_trim is None or not os.path.exists("/proc/self/statm"),
                    reason="needs glibc's malloc_trim and /proc")
def test_freezing_gives_a_fragmented_heap_back_to_the_system():
    # What a flood of varied payloads leaves behind: most chunks freed, a few survivors pinning the heap.
    chunks = [bytes(600 + i % 1500) for i in range(60_000)]  # ~78 MB from malloc (over 512 bytes each)
    survivors = chunks[::50]
    del chunks
    before = rss_bytes()
    freezer = HeapFreezer(Journal())  # freezes (and trims) once at start
    try:
        after = rss_bytes()
    finally:
        freezer.close()
    assert len(survivors) == 1200
    assert before - after > 20 * 2**20, f"RSS {before / 2**20:.0f} MiB -> {after / 2**20:.0f} MiB"
