"""The traffic log under a flood: 20,000 events/s for 10 s through the journal into the TUI's log.

A headless ``NetlabApp`` (``run_test``) receives the flood in its own event loop, the way sessions
publish: every few milliseconds the events that are due are published to the journal, which hands
them to the log. Meanwhile the benchmark

* presses a key (↑ / ↓ in the log) every 100 ms and measures how long the app takes to handle it;
* records every frame the log paints (``render_line`` of its first row) and the largest gap
  between two frames;
* records the largest stall of the event loop (a 5 ms ticker).

Then it checks the counts are exact (journal total = events sent = events the log received) and
prints events/s absorbed, worst frame gap, key latency (median / worst) and memory (RSS growth).
Baselines in the same run: the journal alone (no UI) and the idle app (no traffic); and the flood
again with a filter typed in the filter bar.

    .venv/bin/python benchmarks/bench_log_flood.py [--rate 20000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from netlab_tui.engine.events import TrafficEvent  # noqa: E402
from netlab_tui.engine.journal import Journal  # noqa: E402

TICK = 0.005  # the producer publishes what is due every 5 ms


def make_events(count: int) -> list[TrafficEvent]:
    """Pre-built events (so the benchmark measures the journal and the UI, not event construction)."""
    events = []
    for i in range(count):
        conn = f"tcp-{i % 50}"
        direction = "in" if i % 2 else "out"
        events.append(TrafficEvent(
            source="tcp-echo@127.0.0.1:9999", proto="tcp", kind="data", direction=direction,
            local="127.0.0.1:9999", peer=f"127.0.0.1:{40000 + i % 50}", conn=conn,
            payload=b"message number %08d from the flood\n" % i,
        ))
    return events


def rss_mib() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / (1 << 20)
    except ImportError:  # pragma: no cover - psutil is in the test extra
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def journal_only(events: list[TrafficEvent]) -> float:
    journal = Journal(max_events=len(events) + 1)
    start = time.perf_counter()
    for event in events:
        journal.publish(event)
    return len(events) / (time.perf_counter() - start)


async def run_flood(events: list[TrafficEvent], rate: int, seconds: float, filter_text: str = "") -> dict:
    from textual import events as textual_events

    from netlab_tui.ui.app import NetlabApp
    from netlab_tui.ui.widgets.traffic_log import TrafficLog

    for event in events:
        event.seq = 0
    journal = Journal(max_events=max(200_000, len(events)))
    app = NetlabApp(journal=journal)
    result: dict = {}
    async with app.run_test(size=(140, 42)) as pilot:
        log = app.query_one(TrafficLog)
        await pilot.pause(0.3)
        if filter_text:
            await pilot.press("ctrl+f", *filter_text, "enter")
            await pilot.pause(0.2)
        log.focus()
        await pilot.pause(0.1)

        frames: list[float] = []
        original = log.render_line

        def render_line(y: int):
            if y == 0:
                frames.append(time.perf_counter())
            return original(y)

        log.render_line = render_line  # type: ignore[method-assign]

        stalls: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                stalls.append(now - last - 0.005)
                last = now

        async def producer() -> None:
            start = time.perf_counter()
            sent = 0
            total = len(events)
            publish = journal.publish
            if not total:  # idle baseline: no traffic, same measurements
                await asyncio.sleep(seconds)
            while sent < total:
                due = min(total, int((time.perf_counter() - start) * rate))
                for event in events[sent:due]:
                    publish(event)
                sent = due
                await asyncio.sleep(TICK)
            result["produce_seconds"] = time.perf_counter() - start

        # Key latency: a key event posted to the app, as the terminal driver does, until the log's action
        # for it has run.
        latencies: list[float] = []
        handled = asyncio.Event()

        def timed(action):
            def wrapper() -> None:
                action()
                handled.set()
            return wrapper

        log.action_cursor_up = timed(log.action_cursor_up)  # type: ignore[method-assign]
        log.action_cursor_down = timed(log.action_cursor_down)  # type: ignore[method-assign]

        async def keys() -> None:
            names = ["up", "down"]
            i = 0
            while not done.is_set():
                await asyncio.sleep(0.1)
                handled.clear()
                start = time.perf_counter()
                app.post_message(textual_events.Key(names[i % 2], None))
                try:
                    await asyncio.wait_for(handled.wait(), 2.0)
                except TimeoutError:
                    latencies.append(2.0)
                    continue
                latencies.append(time.perf_counter() - start)
                i += 1

        rss_before = rss_mib()
        tick_task = asyncio.create_task(ticker())
        key_task = asyncio.create_task(keys())
        flood_start = time.perf_counter()
        await producer()
        # let the log take in the last batch
        deadline = time.perf_counter() + 5
        while log.pending or log.received < journal.total:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.02)
        absorbed_seconds = time.perf_counter() - flood_start
        done.set()
        await asyncio.gather(tick_task, key_task)
        log.flush()
        frames_in_flood = [t for t in frames if t >= flood_start]
        gaps = [b - a for a, b in zip(frames_in_flood, frames_in_flood[1:])]
        result.update(
            sent=len(events), journal_total=journal.total, log_received=log.received, rows=len(log.rows),
            absorbed_rate=journal.total / absorbed_seconds, frames=len(frames_in_flood),
            max_frame_gap=max(gaps) if gaps else float("nan"),
            key_median=statistics.median(latencies) if latencies else float("nan"),
            key_max=max(latencies) if latencies else float("nan"), keys=len(latencies),
            max_stall=max(stalls) if stalls else 0.0, rss_growth=rss_mib() - rss_before,
        )
        await pilot.press("ctrl+q")
    return result


def report(name: str, r: dict) -> None:
    exact = r["journal_total"] == r["sent"] == r["log_received"]
    print(f"{name}:")
    print(f"  events sent {r['sent']:,}  journal {r['journal_total']:,}  log received {r['log_received']:,}  "
          f"rows {r['rows']:,}  counts exact: {'yes' if exact else 'NO'}")
    if r["sent"]:
        print(f"  absorbed {r['absorbed_rate']:,.0f} events/s (producer took {r['produce_seconds']:.2f} s)")
    print(f"  frames painted {r['frames']}, worst frame gap {r['max_frame_gap'] * 1000:.0f} ms, "
          f"worst loop stall {r['max_stall'] * 1000:.0f} ms")
    print(f"  key latency median {r['key_median'] * 1000:.1f} ms, worst {r['key_max'] * 1000:.1f} ms "
          f"({r['keys']} keys)")
    print(f"  memory: RSS +{r['rss_growth']:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20_000, help="events per second (default 20000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="flood duration (default 10)")
    parser.add_argument("--no-filter-run", action="store_true", help="skip the run with a filter")
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    events = make_events(count)

    base_rate = journal_only(events)
    print(f"journal alone (no UI): {base_rate:,.0f} events/s published")
    gc.collect()
    idle = asyncio.run(run_flood([], 1, 2.0))
    print(f"idle app: worst frame gap {idle['max_frame_gap'] * 1000:.0f} ms, key latency median "
          f"{idle['key_median'] * 1000:.1f} ms")
    gc.collect()
    flood = asyncio.run(run_flood(events, args.rate, args.seconds))
    report(f"flood {args.rate:,}/s for {args.seconds:g} s", flood)
    print(f"  ratio: absorbed rate / target {flood['absorbed_rate'] / args.rate:.2f}; "
          f"journal-alone headroom {base_rate / args.rate:.0f}x; key latency vs idle "
          f"{flood['key_median'] / idle['key_median']:.1f}x")
    ok = (flood["journal_total"] == flood["sent"] == flood["log_received"] and flood["max_frame_gap"] <= 0.150
          and flood["key_max"] <= 0.150)
    if not args.no_filter_run:
        gc.collect()
        filtered = asyncio.run(run_flood(events, args.rate, args.seconds, filter_text="tcp and dir in"))
        report("same flood, filter 'tcp and dir in' applied", filtered)
        ok = ok and filtered["journal_total"] == filtered["log_received"] and filtered["max_frame_gap"] <= 0.150
    print(f"target (counts exact, frame gap and key latency ≤ 150 ms): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
