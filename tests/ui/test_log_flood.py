"""The traffic log under a flood (a short version of benchmarks/bench_log_flood.py): every event
counted, and keys still answered while 20,000 events a second pour in."""

import asyncio
import time

from textual import events as textual_events

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for


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


async def test_new_rows_extend_the_scroll_range_without_laying_the_screen_out():
    # A layout of the whole screen costs 10-50 ms; the log grows 20 times a second during a flood.
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(TrafficLog)
        await pilot.pause(0.3)

        def publish(count: int) -> None:
            for i in range(count):
                app.journal.publish(TrafficEvent("flood", "tcp", "data", "in", "127.0.0.1:9", "127.0.0.1:5",
                                                 "tcp-1", b"same size %04d" % i))

        publish(200)  # the scrollbar appears: that one needs a layout
        await wait_for(pilot, lambda: len(log.rows) == 200 and log.show_vertical_scrollbar)
        await pilot.pause(0.3)
        screen = app.screen
        layouts = []
        original = screen._refresh_layout

        def counted(*args, **kwargs):
            layouts.append(1)
            return original(*args, **kwargs)

        screen._refresh_layout = counted
        for _ in range(5):
            publish(100)
            await pilot.pause(0.06)
        await wait_for(pilot, lambda: len(log.rows) == 700)
        await pilot.pause(0.4)  # the followed event reaches the inspector (same shape: no layout either)
        assert layouts == []
        assert log.virtual_size.height == 700
        assert log.scroll_offset.y == log.max_scroll_y > 0  # following: the newest row shows
        assert log.selected is log.rows[-1]
        await pilot.press("ctrl+q")
