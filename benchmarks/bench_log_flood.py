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
import concurrent.futures
import multiprocessing as mp
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from netlab_tui.engine.core.events import TrafficEvent  # noqa: E402
from netlab_tui.engine.core.journal import Journal  # noqa: E402

TICK = 0.005  # the producer publishes what is due every 5 ms


PEERS = [f"127.0.0.1:{40000 + i}" for i in range(50)]
CONNS = [f"tcp-{i}" for i in range(50)]


def make_event(i: int) -> TrafficEvent:
    """Event number ``i`` of the flood, made when it is sent, as a session makes it."""
    return TrafficEvent(
        source="tcp-echo@127.0.0.1:9999", proto="tcp", kind="data", direction="in" if i % 2 else "out",
        local="127.0.0.1:9999", peer=PEERS[i % 50], conn=CONNS[i % 50],
        payload=b"message number %08d from the flood\n" % i,
    )


def rss_mib() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / (1 << 20)
    except ImportError:  # pragma: no cover - psutil is in the test extra
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def journal_only(count: int) -> float:
    """Events made and published per second with no UI subscribed: the engine's own ceiling."""
    journal = Journal(max_events=count + 1)
    start = time.perf_counter()
    for i in range(count):
        journal.publish(make_event(i))
    return count / (time.perf_counter() - start)


async def settle(quiet_ticks: int = 50, limit: float = 10.0) -> None:
    """Wait until start-up work is over (panes mounting, labs loading): the loop must answer a 10 ms
    timer on time ``quiet_ticks`` times in a row, so the flood is measured on its own."""
    deadline = time.perf_counter() + limit
    quiet = 0
    while quiet < quiet_ticks and time.perf_counter() < deadline:
        start = time.perf_counter()
        await asyncio.sleep(0.01)
        quiet = quiet + 1 if time.perf_counter() - start < 0.025 else 0


async def run_flood(count: int, rate: int, seconds: float, filter_text: str = "") -> dict:
    from textual import events as textual_events

    from netlab_tui.ui.app import NetlabApp
    from netlab_tui.ui.widgets.traffic_log import TrafficLog

    journal = Journal(max_events=max(200_000, count))
    app = NetlabApp(journal=journal)
    result: dict = {}
    async with app.run_test(size=(140, 42)) as pilot:
        log = app.query_one(TrafficLog)
        await pilot.pause(0.3)
        if filter_text:
            await pilot.press("ctrl+f", *filter_text, "enter")
            await pilot.pause(0.2)
        log.focus()
        await settle()

        frames: list[float] = []
        original = log.render_line

        def render_line(y: int):
            if y == 0:
                frames.append(time.perf_counter())
            return original(y)

        log.render_line = render_line  # type: ignore[method-assign]

        stalls: list[float] = []
        done = asyncio.Event()

        stall_cpu: list[float] = []  # this thread's CPU time inside each stall: our work, not the machine's load

        async def ticker() -> None:
            last, last_cpu = time.perf_counter(), time.thread_time()
            while not done.is_set():
                await asyncio.sleep(0.005)
                now, cpu = time.perf_counter(), time.thread_time()
                stalls.append(now - last - 0.005)
                stall_cpu.append(cpu - last_cpu)
                last, last_cpu = now, cpu

        async def producer() -> None:
            start = time.perf_counter()
            sent = 0
            publish = journal.publish
            if not count:  # idle baseline: no traffic, same measurements
                await asyncio.sleep(seconds)
            while sent < count:
                due = min(count, int((time.perf_counter() - start) * rate))
                for i in range(sent, due):
                    publish(make_event(i))
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
        cpu_before = time.process_time()
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
        cpu_share = (time.process_time() - cpu_before) / absorbed_seconds
        done.set()
        await asyncio.gather(tick_task, key_task)
        log.flush()
        frames_in_flood = [t for t in frames if t >= flood_start]
        gaps = [b - a for a, b in zip(frames_in_flood, frames_in_flood[1:])]
        result.update(
            sent=count, journal_total=journal.total, log_received=log.received, rows=len(log.rows),
            absorbed_rate=journal.total / absorbed_seconds, frames=len(frames_in_flood),
            max_frame_gap=max(gaps) if gaps else float("nan"),
            key_median=statistics.median(latencies) if latencies else float("nan"),
            key_max=max(latencies) if latencies else float("nan"), keys=len(latencies),
            max_stall=max(stalls) if stalls else 0.0,
            max_stall_cpu=stall_cpu[stalls.index(max(stalls))] if stalls else 0.0,
            max_cpu_chunk=max(stall_cpu) if stall_cpu else 0.0, rss_growth=rss_mib() - rss_before, rss_end=rss_mib(), cpu_share=cpu_share,
        )
        await pilot.press("ctrl+q")
    return result


def flood_in_process(count: int, rate: int, seconds: float, filter_text: str = "", gc_policy: bool = True) -> dict:
    """One run in a fresh interpreter, so its memory figure is its own."""
    if not gc_policy:  # the baseline: Python's collector left alone
        from netlab_tui.engine.core import gc_policy as policy

        policy.HeapFreezer.freeze = lambda self: None  # type: ignore[method-assign]
        policy.HeapFreezer.tick = lambda self: None  # type: ignore[method-assign]
    return asyncio.run(run_flood(count, rate, seconds, filter_text))


def isolated(*args) -> dict:
    ctx = mp.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(flood_in_process, *args).result()


def report(name: str, r: dict) -> None:
    exact = r["journal_total"] == r["sent"] == r["log_received"]
    print(f"{name}:")
    print(f"  events sent {r['sent']:,}  journal {r['journal_total']:,}  log received {r['log_received']:,}  "
          f"rows {r['rows']:,}  counts exact: {'yes' if exact else 'NO'}")
    if r["sent"]:
        print(f"  absorbed {r['absorbed_rate']:,.0f} events/s (producer took {r['produce_seconds']:.2f} s), "
              f"using {r['cpu_share']:.0%} of one CPU")
    gap = r["max_frame_gap"]
    print(f"  frames painted {r['frames']}, worst frame gap {gap * 1000:.0f} ms, "
          f"worst loop stall {r['max_stall'] * 1000:.0f} ms ({r['max_stall_cpu'] * 1000:.0f} ms of it running here; "
          f"the rest waiting for a CPU); longest run of our own work {r['max_cpu_chunk'] * 1000:.0f} ms")
    print(f"  key latency median {r['key_median'] * 1000:.1f} ms, worst {r['key_max'] * 1000:.1f} ms "
          f"({r['keys']} keys)")
    print(f"  memory: RSS +{r['rss_growth']:.0f} MiB during the run ({r['rss_end']:.0f} MiB at the end)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20_000, help="events per second (default 20000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="flood duration (default 10)")
    parser.add_argument("--no-filter-run", action="store_true", help="skip the run with a filter")
    parser.add_argument("--no-gc-baseline", action="store_true",
                        help="skip the run without netlab's GC policy (the baseline for frame gaps)")
    args = parser.parse_args()
    count = int(args.rate * args.seconds)

    base_rate = journal_only(count)
    print(f"journal alone (no UI): {base_rate:,.0f} events/s made and published")
    idle = isolated(0, 1, 2.0)
    print(f"idle app (2 s, no traffic): {idle['frames']} repaints, worst loop stall {idle['max_stall'] * 1000:.0f} ms, "
          f"key latency median {idle['key_median'] * 1000:.1f} ms, worst {idle['key_max'] * 1000:.1f} ms, "
          f"RSS {idle['rss_end']:.0f} MiB")
    flood = isolated(count, args.rate, args.seconds)
    report(f"flood {args.rate:,}/s for {args.seconds:g} s", flood)
    print(f"  ratios: absorbed / target rate {flood['absorbed_rate'] / args.rate:.2f}; journal-alone headroom "
          f"{base_rate / args.rate:.1f}x; key latency vs idle {flood['key_median'] / idle['key_median']:.1f}x "
          f"(median), {flood['key_max'] / idle['key_max']:.1f}x (worst)")
    ok = (flood["journal_total"] == flood["sent"] == flood["log_received"] and flood["max_frame_gap"] <= 0.150
          and flood["key_max"] <= 0.150)
    if not args.no_filter_run:
        filtered = isolated(count, args.rate, args.seconds, "tcp and dir in")
        report("same flood, filter 'tcp and dir in' applied", filtered)
        ok = (ok and filtered["journal_total"] == filtered["log_received"] == filtered["sent"]
              and filtered["rows"] == filtered["sent"] // 2 and filtered["max_frame_gap"] <= 0.150
              and filtered["key_max"] <= 0.150)
    if not args.no_gc_baseline:
        plain = isolated(count, args.rate, args.seconds, "", False)
        report("baseline: same flood, Python's garbage collector left alone (no gc_policy)", plain)
        print(f"  ratio: worst frame gap with / without the GC policy "
              f"{flood['max_frame_gap'] / plain['max_frame_gap']:.2f}, worst loop stall "
              f"{flood['max_stall'] / plain['max_stall']:.2f}")
    load = os.getloadavg()[0]
    print(f"target (counts exact, frame gap and key latency ≤ 150 ms): {'met' if ok else 'NOT met'} "
          f"(load average {load:.1f} on {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
