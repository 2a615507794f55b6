"""An idle netlab sleeps (issue 14, finding 3): with no session and no traffic, no timer ticks but the
heap keeper's, and nothing is repainted; timers tick while something runs and stop again after it.

Counted with Pilot rather than measured as CPU%: the count of timer ticks and of screen updates over a
few idle seconds does not depend on the load of the machine."""

from __future__ import annotations

import asyncio
import collections
import socket

import pytest
from textual.timer import Timer

from netlab_tui.ui.app import NetlabApp
from tests.ui.helpers import SIZE, wait_for

IDLE_SECONDS = 1.5


@pytest.fixture
def ticks(monkeypatch):
    """Timer ticks by timer name (Textual's own timers and netlab's, all of them)."""
    counts: collections.Counter[str] = collections.Counter()
    original = Timer._tick

    async def counting(self, *, next_timer: float, count: int) -> None:
        counts[self.name] += 1
        await original(self, next_timer=next_timer, count=count)

    monkeypatch.setattr(Timer, "_tick", counting)
    return counts


def count_updates(app: NetlabApp) -> list[int]:
    """Screen updates the app hands to its driver (the bytes a terminal or a browser would receive)."""
    updates = [0]
    display = app._display

    def counting(screen, renderable) -> None:
        if renderable is not None:
            updates[0] += 1
        display(screen, renderable)

    app._display = counting  # type: ignore[method-assign]
    return updates


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_an_idle_netlab_neither_ticks_nor_repaints(size, ticks):
    app = NetlabApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.6)  # the start-up's own refreshes and the first ticks that find nothing to do
        updates = count_updates(app)
        ticks.clear()
        await asyncio.sleep(IDLE_SECONDS)
        assert updates[0] == 0, f"{updates[0]} screen updates while idle"
        busy = {name: n for name, n in ticks.items() if name != "heap-keeper"}
        assert not busy, f"timers ticking while idle: {busy}"
        assert ticks["heap-keeper"] <= IDLE_SECONDS / 0.5 + 1


async def test_timers_run_while_traffic_flows_and_stop_after(ticks):
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: app.registry.sessions(role="server"))
        server = app.registry.sessions(role="server")[0]
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            for _ in range(5):
                s.sendall(b"hello\n")
                await asyncio.to_thread(s.recv, 64)
                await pilot.pause(0.05)
        log = app._log
        await wait_for(pilot, lambda: sum(e.kind == "close" for e in log.rows) == 1)
        assert "events" in str(log.parent.border_subtitle)
        total = app.journal.total
        await wait_for(pilot, lambda: f"{total:,} events" in str(log.parent.border_subtitle))
        # A server is running but nothing happens: the log and the counts stop; the Servers pane
        # checks its counters once a second without repainting them.
        await pilot.pause(0.6)
        updates = count_updates(app)
        ticks.clear()
        await asyncio.sleep(IDLE_SECONDS)
        assert updates[0] == 0, f"{updates[0]} screen updates with a silent server"
        assert ticks["traffic-log-flush"] == 0 and ticks["counts"] == 0, dict(ticks)
