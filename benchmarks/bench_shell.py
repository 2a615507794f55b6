"""What watching a process costs: netlab's ``ProcessSession``/``Pipeline`` (every chunk an event in the
journal) against plain ``subprocess`` doing the same work, in the same run.

Figures:
- stdout throughput: ``head -c 64M /dev/zero`` read by netlab vs ``subprocess.run(capture_output=True)``;
- pipeline relay: ``head -c 32M /dev/zero | wc -c`` as a netlab Pipeline (every byte passes through netlab
  and is recorded) vs the same through a kernel pipe (``sh -c``);
- interactive round trip: ``bc -q`` asked ``1+1`` 300 times through netlab's stdin/stdout events vs a
  Popen with blocking write/readline.

    .venv/bin/python benchmarks/bench_shell.py
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from netlab_tui.engine.core.journal import Journal  # noqa: E402
from netlab_tui.engine.shell.process import Pipeline, ProcessSession  # noqa: E402

MB = 1 << 20


async def netlab_stdout(size: int) -> float:
    journal = Journal()
    session = ProcessSession(journal, ["head", "-c", str(size), "/dev/zero"])
    started = time.perf_counter()
    await session.start()
    await session.wait()
    elapsed = time.perf_counter() - started
    received = session.stats["bytes_in"]  # counted on emit, before the journal evicts anything
    assert session.exit_code == 0 and received == size, received
    return elapsed


def baseline_stdout(size: int) -> float:
    started = time.perf_counter()
    out = subprocess.run(["head", "-c", str(size), "/dev/zero"], capture_output=True, check=True).stdout
    assert len(out) == size
    return time.perf_counter() - started


async def netlab_pipeline(size: int) -> float:
    journal = Journal()
    pipeline = Pipeline(journal, [["head", "-c", str(size), "/dev/zero"], ["wc", "-c"]])
    started = time.perf_counter()
    await pipeline.start()
    await pipeline.wait()
    elapsed = time.perf_counter() - started
    counted = b"".join(e.payload for e in journal.events() if e.kind == "stdout" and e.meta.get("stage") == 1)
    assert int(counted) == size, counted
    return elapsed


def baseline_pipeline(size: int) -> float:
    started = time.perf_counter()
    out = subprocess.run(f"head -c {size} /dev/zero | wc -c", shell=True, capture_output=True, check=True).stdout
    assert int(out) == size
    return time.perf_counter() - started


async def netlab_bc(rounds: int) -> float:
    journal = Journal()
    got = asyncio.Event()
    journal.subscribe(lambda e: got.set(), lambda e: e.kind == "stdout")
    session = ProcessSession(journal, ["bc", "-q"])
    await session.start()
    started = time.perf_counter()
    for _ in range(rounds):
        got.clear()
        await session.write_stdin(b"1+1\n")
        await got.wait()
    elapsed = time.perf_counter() - started
    await session.close_stdin()
    await session.wait()
    return elapsed


def baseline_bc(rounds: int) -> float:
    proc = subprocess.Popen(["bc", "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    started = time.perf_counter()
    for _ in range(rounds):
        proc.stdin.write(b"1+1\n")
        assert proc.stdout.readline() == b"2\n"
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.wait()
    return elapsed


def best(fn, *args, runs: int = 3) -> float:
    return min(fn(*args) for _ in range(runs))


def best_async(fn, *args, runs: int = 3) -> float:
    return min(asyncio.run(fn(*args)) for _ in range(runs))


def main() -> None:
    size = 64 * MB
    base, ours = best(baseline_stdout, size), best_async(netlab_stdout, size)
    print(f"stdout {size // MB} MB:   subprocess {size / MB / base:8.0f} MB/s   netlab {size / MB / ours:8.0f} MB/s"
          f"   netlab/baseline throughput {base / ours:.2f}")

    size = 32 * MB
    base, ours = best(baseline_pipeline, size), best_async(netlab_pipeline, size)
    print(f"pipeline {size // MB} MB: kernel pipe {size / MB / base:7.0f} MB/s   netlab relay {size / MB / ours:6.0f} MB/s"
          f"   netlab/baseline throughput {base / ours:.2f}")

    rounds = 300
    base, ours = best(baseline_bc, rounds), best_async(netlab_bc, rounds)
    print(f"bc round trip:  Popen {base / rounds * 1e3:6.3f} ms   netlab {ours / rounds * 1e3:6.3f} ms"
          f"   netlab/baseline time {ours / base:.2f}")


if __name__ == "__main__":
    main()
