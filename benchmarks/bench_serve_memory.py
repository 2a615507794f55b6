"""Memory of a real ``netlab serve tcp-echo --json`` under a long flood: it stays within the journal's bound
plus a constant, and stops growing once the journal is full.

The server is the real command in a child process (its ``--json`` lines are read and thrown away, as a
pipe to a slow consumer would); this process floods it from ``--connections`` connections, each writing
messages of 16 to 2,048 bytes and reading the echo, for ``--seconds``. Figures: the child's resident
memory (``VmRSS``) when listening, then every few seconds; the journal's bound (``max_bytes``, which
counts payloads plus a per-event overhead) for comparison; and the growth over the second half of the
flood, when the journal has long been full and drops the oldest events.

    .venv/bin/python benchmarks/bench_serve_memory.py [--seconds 45] [--connections 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time

ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, ROOT)

from netlab_tui.engine.core.journal import Journal  # noqa: E402  (after the path set-up)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def drain(stream, counter: list[int]) -> None:
    """Read the child's event lines as fast as they come, counting them."""
    for line in stream:
        counter[0] += 1
    stream.close()


async def flood(port: int, connections: int, seconds: float, exchanged: list[int]) -> None:
    deadline = time.monotonic() + seconds
    sizes = [random.Random(i).randint(16, 2048) for i in range(1024)]

    async def one(seed: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = seed
        while time.monotonic() < deadline:
            message = os.urandom(sizes[i % len(sizes)])
            i += 1
            writer.write(message)
            await reader.readexactly(len(message))
            exchanged[0] += 1
            exchanged[1] += len(message)
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(one(n * 97) for n in range(connections)))


async def sample(pid: int, seconds: float, every: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        await asyncio.sleep(every)
        samples.append((time.monotonic() - start, rss_mb(pid)))


async def run(port: int, pid: int, args, exchanged: list[int], samples: list[tuple[float, float]]) -> None:
    await asyncio.gather(flood(port, args.connections, args.seconds, exchanged),
                         sample(pid, args.seconds, args.every, samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between memory samples")
    args = parser.parse_args()

    child = subprocess.Popen([sys.executable, "-m", "netlab_tui", "serve", "tcp-echo", "--port", "0", "--json"],
                             stdout=subprocess.PIPE, cwd=ROOT)
    try:
        listen = json.loads(child.stdout.readline())
        port = int(listen["local"].rpartition(":")[2])
        lines = [1]
        reader = threading.Thread(target=drain, args=(child.stdout, lines), daemon=True)
        reader.start()
        time.sleep(0.5)
        idle = rss_mb(child.pid)
        exchanged = [0, 0]  # messages, bytes (each way)
        samples: list[tuple[float, float]] = []
        asyncio.run(run(port, child.pid, args, exchanged, samples))
        time.sleep(1.0)
        after = rss_mb(child.pid)
    finally:
        child.terminate()
        child.wait(10)

    bound = Journal().max_bytes / 2**20
    print(f"netlab serve tcp-echo --json, flooded for {args.seconds:.0f}s from {args.connections} connections: "
          f"{exchanged[0]:,} messages echoed ({exchanged[1] * 2 / 2**20:,.0f} MiB through the journal, "
          f"{lines[0]:,} event lines printed)")
    print(f"journal bound: {bound:.0f} MiB of payload + per-event overhead (and at most "
          f"{Journal().max_events:,} events)")
    print(f"RSS listening       {idle:8.1f} MiB")
    for at, mb in samples:
        print(f"RSS at {at:5.1f}s      {mb:8.1f} MiB")
    print(f"RSS after the flood {after:8.1f} MiB")
    peak = max(mb for _, mb in samples)
    half = [mb for at, mb in samples if at >= args.seconds / 2]
    print(f"peak - listening = {peak - idle:.1f} MiB (journal bound {bound:.0f} MiB); growth over the second half "
          f"of the flood: {max(half) - half[0]:+.1f} MiB")


if __name__ == "__main__":
    main()
