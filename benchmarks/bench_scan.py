"""A full 1-65535 TCP scan of 127.0.0.1: netlab's two engines against ``nmap -sT -T4 -p-`` in the same run.

Each netlab scan runs as ``ScanSession`` does in the app: every port journaled as one ``port`` event.
A few ports are opened first so there is something to find; the figures check that every run found
exactly those (plus whatever else listens on this machine, the same for all). Figures: median seconds
over ``--runs`` for each, and each engine's ratio to nmap (the goal: connect within 2x).

    .venv/bin/python benchmarks/bench_scan.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from netlab_tui.engine.core.journal import Journal  # noqa: E402
from netlab_tui.engine.scan.scanner import ScanSession  # noqa: E402

NMAP = ["nmap", "-sT", "-T4", "-p-"]
# What netlab's nmap engine adds: no host discovery, no reverse DNS (nmap spends time on both).
NMAP_LEAN = ["nmap", "-sT", "-T4", "-Pn", "-n", "-p-"]


def nmap_direct(args: list[str]) -> tuple[float, set[int]]:
    started = time.perf_counter()
    xml = subprocess.run([*args, "-oX", "-", "127.0.0.1"], capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - started
    found = {int(p.get("portid")) for p in ET.fromstring(xml).iter("port") if p.find("state").get("state") == "open"}
    return elapsed, found


def netlab_scan(engine: str) -> tuple[float, set[int], int]:
    async def go() -> tuple[float, set[int], int]:
        journal = Journal(max_events=100_000)
        session = ScanSession(journal, "127.0.0.1", "-", engine=engine)
        started = time.perf_counter()
        await session.start()
        await session.wait_closed()
        elapsed = time.perf_counter() - started
        if session.error:
            raise SystemExit(f"{engine} scan failed: {session.error}")
        return elapsed, set(session.open_ports()), journal.total

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("nmap") is None:
        raise SystemExit("bench_scan: nmap is not installed (it is the baseline)")

    listeners = []
    for _ in range(3):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        listeners.append(sock)
    ours = {s.getsockname()[1] for s in listeners}

    times: dict[str, list[float]] = {
        "nmap -sT -T4 -p-": [], "nmap ... -Pn -n": [], "netlab connect": [], "netlab nmap": []}
    findings: dict[str, list[set[int]]] = {name: [] for name in times}
    events = 0
    for _ in range(args.runs):  # interleaved, so a busy moment on the machine hits all three alike
        for name, command in (("nmap -sT -T4 -p-", NMAP), ("nmap ... -Pn -n", NMAP_LEAN)):
            elapsed, found = nmap_direct(command)
            times[name].append(elapsed)
            findings[name].append(found)
        for engine in ("connect", "nmap"):
            elapsed, found, events = netlab_scan(engine)
            times[f"netlab {engine}"].append(elapsed)
            findings[f"netlab {engine}"].append(found)
    for sock in listeners:
        sock.close()

    baseline = statistics.median(times["nmap -sT -T4 -p-"])
    print(f"full TCP scan of 127.0.0.1, 65,535 ports, median of {args.runs} runs "
          f"({events:,} events journaled per netlab scan)")
    print(f"{'scanner':<20} {'seconds':>8} {'ports/s':>9} {'vs nmap':>8}  found our 3 open ports")
    for name, values in times.items():
        median = statistics.median(values)
        found_all = all(ours <= found for found in findings[name])
        print(f"{name:<20} {median:8.2f} {65535 / median:9,.0f} {median / baseline:7.2f}x  {'yes' if found_all else 'NO'}")
    connect_ratio = statistics.median(times["netlab connect"]) / baseline
    lean_ratio = statistics.median(times["netlab connect"]) / statistics.median(times["nmap ... -Pn -n"])
    print(f"goal: connect engine within 2x of nmap -> {'met' if connect_ratio <= 2 else 'NOT met'} "
          f"({connect_ratio:.2f}x; {lean_ratio:.2f}x against nmap with -Pn -n)")


if __name__ == "__main__":
    main()
