"""Keep Python's cyclic garbage collector from stalling the UI while the journal fills up.

A full (generation 2) collection walks every GC-tracked object. The journal holds up to 200,000
events — long-lived, acyclic objects — and walking them took 60–250 ms on a loaded 2-core machine,
long enough to freeze the traffic log mid-flood. ``gc.freeze()`` moves everything alive into a permanent
generation that collections skip (refcounting still frees events when the journal drops them).

The policy: while events pour in, every ``FREEZE_EVERY`` new events, collect the young generations
(cheap) and freeze. Frozen objects that later become cyclic garbage (a widget removed after a freeze)
would never be collected, so once traffic has been quiet for ``IDLE_SECONDS``, unfreeze and do one
full collection — a pause when nothing is happening — and leave the collector as usual until the next
burst.

Freezing also hands the C heap's free pages back to the system (glibc's ``malloc_trim``): payloads over
512 bytes come from ``malloc``, and a long flood of varied sizes leaves the heap full of holes, so the
resident size crept up (~0.6 MiB/s in ``benchmarks/bench_serve_memory.py``) while the journal held a
constant amount. Trimming at each freeze (about once a second in a flood, a millisecond or two) keeps
``netlab serve`` at the journal's bound plus a constant.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time

from .journal import Journal

FREEZE_EVERY = 10_000  # new events between freezes
IDLE_SECONDS = 5.0  # quiet time before the full clean-up
SETTLE_SECONDS = 2.0  # after start: freeze what the app built while mounting


def _find_malloc_trim():
    """glibc's ``malloc_trim(pad)``, or None where there is none (musl, macOS …)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


malloc_trim = _find_malloc_trim()


class HeapFreezer:
    def __init__(self, journal: Journal, *, freeze_every: int = FREEZE_EVERY, idle_seconds: float = IDLE_SECONDS,
                 clock=time.monotonic) -> None:
        self.journal = journal
        self.freeze_every = freeze_every
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.frozen_at = journal.total  # journal.total at the last freeze
        self.seen_total = journal.total
        self.last_growth = clock()
        self.dirty = False  # frozen since the last full clean-up
        self.freezes = 0
        self.cleanups = 0
        self.started = clock()
        self.settled = False  # the start-up heap frozen once the app has finished mounting
        self.freeze()  # the start-up heap (modules, Textual's widgets and styles) first

    def freeze(self) -> None:
        gc.collect(1)
        gc.freeze()
        if malloc_trim is not None:
            malloc_trim(0)
        self.frozen_at = self.journal.total
        self.dirty = True
        self.freezes += 1

    def tick(self) -> None:
        """Call about once a second."""
        now = self.clock()
        total = self.journal.total
        if total != self.seen_total:
            self.seen_total = total
            self.last_growth = now
        if total - self.frozen_at >= self.freeze_every:
            self.freeze()
        elif not self.settled and now - self.started >= SETTLE_SECONDS:
            self.settled = True  # panes finish mounting (labs load …) after on_mount: freeze that too
            self.freeze()
        elif self.dirty and now - self.last_growth >= self.idle_seconds:
            self.cleanup()

    def cleanup(self) -> None:
        gc.unfreeze()
        gc.collect()
        self.dirty = False
        self.cleanups += 1

    def close(self) -> None:
        """Give the frozen objects back to the collector (the app is ending)."""
        gc.unfreeze()
