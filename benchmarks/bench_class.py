"""``netlab class`` under a class: 30 learners joining at once over websockets, sized for 2 cores.

Prints time to first screen (p50/p99), the learners' RSS total, their idle CPU total measured over 20 s
starting a minute after they joined (and the bytes the idle sessions send), and keystroke-to-echo latency
p99 (goal < 200 ms; typing in the traffic log's filter input) with one learner typing while the others idle. Baseline in the same run: one learner
joining alone on the same server. Figures are printed as each phase ends.
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
IDLE_AFTER = 60  # the idle window starts this long after the class began joining
IDLE_SECONDS = 20
TYPISTS = 10  # learners whose keystrokes are timed, one after another
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
    """Keystroke to echo in the traffic log's filter input (Ctrl+F): each key's time until the screen shows it."""
    for _ in range(3):  # a Ctrl+F typed while the app is still mounting its panes may be lost: retry
        await terminal.type("\x06")
        await asyncio.sleep(0.3)
        await terminal.type("~")
        try:
            await terminal.wait_for("│ ~", timeout=10)
            break
        except TimeoutError:
            await terminal.type("\x7f")
    else:
        raise TimeoutError("the filter input did not take the focus")
    typed, latencies = "~", []
    for ch in tag[:KEYS_PER_LEARNER]:
        typed += ch
        began = time.perf_counter()
        await terminal.type(ch)
        await terminal.wait_for(typed, timeout=30)
        latencies.append(time.perf_counter() - began)
        await asyncio.sleep(0.1)
    await terminal.type("\x7f" * len(typed))  # leave the filter empty
    return latencies


async def main() -> None:
    run_began = time.perf_counter()
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    print(f"netlab class, {LEARNERS} learners joining at once ({psutil.cpu_count()} CPUs, shared machine)", flush=True)
    server = start_class("--max-learners", str(LEARNERS + 1))
    joined = []
    try:
        # Baseline: one learner alone.
        http, terminal, alone = await join(server, "solo")
        solo_rss = rss_total(processes(server.directory, ["solo"]))
        solo_keys = await echo_latencies(terminal, "qzxw")
        await terminal.close()
        await http.close()
        print(f"  baseline, one learner alone: first screen {alone:.2f} s, RSS {solo_rss / 2**20:.0f} MB, "
              f"echo p99 {ms(pct(solo_keys, 99))}", flush=True)
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
        print(f"  {len(joined)} of {LEARNERS} got a screen" + (f"; failures: {failures}" if failures else ""))
        print(f"  first screen: p50 {statistics.median(firsts):.2f} s, p99 {pct(firsts, 99):.2f} s, "
              f"all in {all_in:.1f} s (p50 = {statistics.median(firsts) / alone:.1f}x alone)")
        print(f"  RSS total: {rss / 2**20:.0f} MB ({rss / len(joined) / 2**20:.0f} MB a learner, "
              f"{rss / len(joined) / max(solo_rss, 1):.2f}x alone)", flush=True)

        await asyncio.sleep(max(0.0, began + IDLE_AFTER - time.perf_counter()))
        received_before = sum(len(t.received) for _, t, _ in joined)
        cpu_before, wall_before = cpu_seconds(procs), time.perf_counter()
        await asyncio.sleep(IDLE_SECONDS)
        idle_cpu = (cpu_seconds(procs) - cpu_before) / (time.perf_counter() - wall_before)
        idle_bytes = (sum(len(t.received) for _, t, _ in joined) - received_before) / IDLE_SECONDS
        print(f"  idle, {IDLE_SECONDS} s from {IDLE_AFTER} s after joining: CPU total {idle_cpu * 100:.1f}% of a "
              f"core ({idle_cpu * 100 / len(joined):.2f}% a learner), sent {idle_bytes / 1024:.1f} KB/s in total "
              f"({idle_bytes / len(joined) / 1024:.2f} KB/s a learner)", flush=True)

        keys: list[float] = []
        stuck = 0
        for _, terminal, _ in joined[:TYPISTS]:  # one learner typing at a time while the others sit idle
            try:
                keys += await echo_latencies(terminal, "asdf")
            except TimeoutError:
                stuck += 1
        print(f"  keystroke to echo ({len(keys)} keys from {TYPISTS - stuck} learners, the others idle): "
              f"p50 {ms(statistics.median(keys))}, p99 {ms(pct(keys, 99))} (goal < 200 ms)"
              + (f"; {stuck} filter inputs did not take the focus" if stuck else ""))
    finally:
        for http, terminal, _ in joined:
            await terminal.close()
            await http.close()
        server.stop()
    print(f"  (benchmark ran {time.perf_counter() - run_began:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
