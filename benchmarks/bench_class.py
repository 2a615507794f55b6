"""``netlab class`` under a class: 30 learners joining at once over websockets, sized for 2 cores.

Prints time to first screen (p50/p99), the learners' RSS total, their idle CPU total over the minute after
everyone has a screen (and the bytes the idle sessions send), and keystroke-to-echo latency p99 (goal
< 200 ms). Baseline in the same run: one learner joining alone on the same server.
Learners' processes are found by their NETLAB_LEARNER environment; the figures include their children.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.classroom._class import client_session, learner_pids, login, open_terminal, start_class  # noqa: E402

LEARNERS = 30
IDLE_SECONDS = 60
KEYS_PER_LEARNER = 4


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def processes(directory: Path, names: list[str]) -> list[psutil.Process]:
    found = []
    for name in names:
        for pid in learner_pids(directory, name):
            try:
                parent = psutil.Process(pid)
                found += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
    return found


def rss_total(procs: list[psutil.Process]) -> int:
    return sum(p.memory_info().rss for p in procs if p.is_running())


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


async def join(server, name: str):
    http = client_session()
    try:
        await login(http, server.url, name, server.code)
        began = time.perf_counter()
        terminal = await open_terminal(http, server.url)
        await terminal.wait_for_output("Tools", timeout=180)
    except BaseException:
        await http.close()
        raise
    return http, terminal, time.perf_counter() - began


async def echo_latencies(terminal, tag: str) -> list[float]:
    await terminal.type("\x10")
    await terminal.wait_for("🔎", timeout=30)
    typed, latencies = "", []
    for ch in tag[:KEYS_PER_LEARNER]:
        typed += ch
        began = time.perf_counter()
        await terminal.type(ch)
        await terminal.wait_for(typed, timeout=30)
        latencies.append(time.perf_counter() - began)
        await asyncio.sleep(0.2)
    return latencies


async def main() -> None:
    server = start_class("--max-learners", str(LEARNERS + 1))
    try:
        # Baseline: one learner alone.
        http, terminal, alone = await join(server, "solo")
        procs = processes(server.directory, ["solo"])
        solo_rss = rss_total(procs)
        solo_keys = await echo_latencies(terminal, "qzxw")
        await terminal.close()
        await http.close()
        await asyncio.sleep(2)

        names = [f"learner{i:02d}" for i in range(LEARNERS)]
        began = time.perf_counter()
        results = await asyncio.gather(*(join(server, name) for name in names), return_exceptions=True)
        all_in = time.perf_counter() - began
        joined = [r for r in results if not isinstance(r, BaseException)]
        failures = [repr(r) for r in results if isinstance(r, BaseException)]
        firsts = [seconds for _, _, seconds in joined]
        procs = processes(server.directory, names)
        rss = rss_total(procs)

        received_before = sum(len(t.received) for _, t, _ in joined)
        cpu_before, wall_before = cpu_seconds(procs), time.perf_counter()
        await asyncio.sleep(IDLE_SECONDS)
        idle_cpu = (cpu_seconds(procs) - cpu_before) / (time.perf_counter() - wall_before)
        idle_bytes = (sum(len(t.received) for _, t, _ in joined) - received_before) / IDLE_SECONDS

        keys: list[float] = []
        for _, terminal, _ in joined:  # one learner typing at a time while the others sit idle
            keys += await echo_latencies(terminal, "asdf")
        for http, terminal, _ in joined:
            await terminal.close()
            await http.close()
    finally:
        server.stop()

    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    print(f"netlab class, {LEARNERS} learners joining at once ({psutil.cpu_count()} CPUs, shared machine)")
    print(f"  baseline, one learner alone: first screen {alone:.2f} s, RSS {solo_rss / 2**20:.0f} MB, "
          f"echo p99 {ms(pct(solo_keys, 99))}")
    print(f"  {len(joined)} of {LEARNERS} got a screen" + (f"; failures: {failures}" if failures else ""))
    print(f"  first screen: p50 {statistics.median(firsts):.2f} s, p99 {pct(firsts, 99):.2f} s, "
          f"all {LEARNERS} in {all_in:.1f} s (p50 = {statistics.median(firsts) / alone:.1f}x alone)")
    print(f"  RSS total: {rss / 2**20:.0f} MB ({rss / len(joined) / 2**20:.0f} MB a learner, "
          f"{rss / len(joined) / max(solo_rss, 1):.2f}x alone)")
    print(f"  idle over {IDLE_SECONDS} s after joining: CPU total {idle_cpu * 100:.1f}% of a core "
          f"({idle_cpu * 100 / len(joined):.2f}% a learner), sent {idle_bytes / 1024:.1f} KB/s in total")
    print(f"  keystroke to echo ({len(keys)} keys, the others idle): p50 {ms(statistics.median(keys))}, "
          f"p99 {ms(pct(keys, 99))} (goal < 200 ms)")


if __name__ == "__main__":
    asyncio.run(main())
