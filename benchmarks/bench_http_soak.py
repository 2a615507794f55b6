"""Soak: ``netlab serve http`` (the real command, its event printer to a pipe) under keep-alive clients.

50 clients (default) each keep one HTTP/1.1 connection open and send ``GET /api/random/int`` back to
back for ``--minutes`` (default 10). Every ``--every`` seconds the server's resident size (from
/proc/PID/status) and the latency percentiles of that interval are printed; at the end, the figures
after the first minute: RSS growth from the first post-warm-up sample to the last, and p50/p99 overall.
A second run with ``--minutes 2`` suits this 2-core machine's budget; the issue's figure is 10 minutes.

    .venv/bin/python benchmarks/bench_http_soak.py [--clients 50] [--minutes 10] [--every 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

REQUEST = b"GET /api/random/int HTTP/1.1\r\nHost: soak\r\n\r\n"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def client(port: int, latencies: list[float], stop: asyncio.Event, errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    clock = time.perf_counter
    try:
        while not stop.is_set():
            t0 = clock()
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(head.split(b"\r\n", 1)[0].decode())
            latencies.append(clock() - t0)
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        errors.append(repr(exc))
    finally:
        writer.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    db = f"/tmp/netlab-soak-{os.getpid()}.sqlite3"
    proc = subprocess.Popen([sys.executable, "-m", "netlab_tui", "serve", "http", "--port", "0", "--json",
                             "--db", db], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    listen = json.loads(proc.stdout.readline())
    port = int(listen["local"].rsplit(":", 1)[1])
    drain = asyncio.get_running_loop().run_in_executor(None, lambda: sum(len(b) for b in iter(
        lambda: proc.stdout.read(65536), b"")))
    stop = asyncio.Event()
    latencies: list[float] = []
    errors: list[str] = []
    tasks = [asyncio.create_task(client(port, latencies, stop, errors)) for _ in range(args.clients)]
    started = time.perf_counter()
    samples: list[tuple[float, int, int, float, float]] = []  # (t, rss, requests, p50, p99)
    all_after_warmup: list[float] = []
    print(f"netlab serve http, {args.clients} keep-alive clients, {args.minutes:g} min; pid {proc.pid}")
    print(f"{'t (s)':>7} {'RSS (MiB)':>10} {'req/s':>8} {'p50 (ms)':>9} {'p99 (ms)':>9}")
    try:
        while (elapsed := time.perf_counter() - started) < args.minutes * 60:
            await asyncio.sleep(args.every)
            window, latencies[:] = list(latencies), []
            t = time.perf_counter() - started
            if t > 60:
                all_after_warmup.extend(window)
            rss = rss_kib(proc.pid)
            samples.append((t, rss, len(window), pct(window, 0.5), pct(window, 0.99)))
            print(f"{t:7.0f} {rss / 1024:10.1f} {len(window) / args.every:8.0f} {pct(window, 0.5) * 1000:9.2f} "
                  f"{pct(window, 0.99) * 1000:9.2f}", flush=True)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        proc.send_signal(2)
        proc.wait(10)
        await drain
        os.unlink(db) if os.path.exists(db) else None
    warm = [s for s in samples if s[0] > 60] or samples
    growth = (warm[-1][1] - warm[0][1]) / 1024
    print(f"after the first minute: RSS {warm[0][1] / 1024:.1f} -> {warm[-1][1] / 1024:.1f} MiB "
          f"({growth:+.1f} MiB, max {max(s[1] for s in warm) / 1024:.1f}); latency p50 "
          f"{pct(all_after_warmup, 0.5) * 1000:.2f} ms, p99 {pct(all_after_warmup, 0.99) * 1000:.2f} ms; "
          f"{sum(s[2] for s in samples):,} requests, {len(errors)} errors{': ' + errors[0] if errors else ''}")
    if statistics.mean(s[2] for s in samples) == 0:
        raise SystemExit("no request was answered")


if __name__ == "__main__":
    asyncio.run(main())
