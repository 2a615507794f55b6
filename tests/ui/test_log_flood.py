"""The traffic log under a flood (a short version of benchmarks/bench_log_flood.py): every event
counted, and keys still answered while 20,000 events a second pour in."""

import asyncio
import time

from textual import events as textual_events

from netlab_tui.engine.events import TrafficEvent
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.traffic_helpers import SIZE, wait_for


async def test_flood_is_counted_exactly_and_keys_are_answered():
    app = NetlabApp()
    rate, seconds = 20_000, 2.0
    total = int(rate * seconds)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(TrafficLog)
        log.focus()
        await pilot.pause(0.5)
        handled = asyncio.Event()
        original = log.action_cursor_up

        def cursor_up() -> None:
            original()
            handled.set()

        log.action_cursor_up = cursor_up
        latencies = []

        async def keys() -> None:
            while len(latencies) < 10:
                await asyncio.sleep(0.15)
                handled.clear()
                start = time.perf_counter()
                app.post_message(textual_events.Key("up", None))
                await asyncio.wait_for(handled.wait(), 5)
                latencies.append(time.perf_counter() - start)

        key_task = asyncio.create_task(keys())
        start = time.perf_counter()
        sent = 0
        while sent < total:
            due = min(total, int((time.perf_counter() - start) * rate))
            for i in range(sent, due):
                app.journal.publish(TrafficEvent("flood", "tcp", "data", "in" if i % 2 else "out",
                                                 "127.0.0.1:9", "127.0.0.1:5", f"tcp-{i % 7}", b"x%d" % i))
            sent = due
            await asyncio.sleep(0.005)
        await key_task
        await wait_for(pilot, lambda: log.received == total and not log.pending)
        assert app.journal.total == total and len(log.rows) == total
        assert [e.seq for e in log.rows[:3]] == [1, 2, 3] and log.rows[-1].seq == total
        assert max(latencies) < 1.0, latencies  # generous: CI machines are shared
        await pilot.press("ctrl+q")
