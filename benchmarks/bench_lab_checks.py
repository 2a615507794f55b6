"""How much a lab's live checks cost while traffic flows.

A lab re-judges its step as events arrive: every check looks at the events of the step. This measures,
for a step holding N events (echo traffic: accept, data in/out, close), the time of one evaluation of the
checks of the first TCP lab's steps, against the baseline of publishing those N events to the journal
(what netlab does anyway), and the share of the loop's time the runner's adaptive delay leaves to
judging under a continuous flood.

    .venv/bin/python benchmarks/bench_lab_checks.py [--events 50000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from netlab_tui.engine.core.events import TrafficEvent  # noqa: E402
from netlab_tui.engine.core.journal import Journal  # noqa: E402
from netlab_tui.labs.catalog import find_lab  # noqa: E402
from netlab_tui.labs.checks import CheckContext, MatchIndex  # noqa: E402
from netlab_tui.labs.runner import EVALUATE_DELAY  # noqa: E402
from netlab_tui.labs.templating import Variables  # noqa: E402

SERVER = "tcp-echo@127.0.0.1:40000"


def traffic(count: int) -> list[TrafficEvent]:
    events = []
    for n in range(count // 4):
        conn, peer = f"tcp-{n}", f"127.0.0.1:{50000 + n % 10000}"
        payload = b"x" * 64
        events += [
            TrafficEvent(SERVER, "tcp", "accept", local="127.0.0.1:40000", peer=peer, conn=conn),
            TrafficEvent(SERVER, "tcp", "data", "in", "127.0.0.1:40000", peer, conn, payload),
            TrafficEvent(SERVER, "tcp", "data", "out", "127.0.0.1:40000", peer, conn, payload),
            TrafficEvent(SERVER, "tcp", "close", local="127.0.0.1:40000", peer=peer, conn=conn, meta={"by": "peer"}),
        ]
    return events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    events = traffic(args.events)

    journal = Journal()
    started = time.perf_counter()
    for event in events:
        journal.publish(event)
    publish = time.perf_counter() - started

    lab = find_lab("tcp-first-exchange")
    checks = [check for step in lab.steps for check in step.checks if "script" not in repr(check.condition)]
    context = CheckContext(events=events, variables=Variables({"echo.port": "40000"}), servers={"echo": SERVER})
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        verdicts = [check.condition.evaluate(context) for check in checks]
    evaluate = (time.perf_counter() - started) / rounds
    delay = max(EVALUATE_DELAY, 4 * evaluate)

    # The runner keeps a MatchIndex: each evaluation matches only the events since the previous one.
    index = MatchIndex()
    step = 1_000
    warm = events[: len(events) - 5 * step]
    for check in checks:
        check.condition.evaluate(CheckContext(events=warm, variables=context.variables, servers=context.servers,
                                              index=index))
    started = time.perf_counter()
    for end in range(len(warm) + step, len(events) + 1, step):
        window = events[:end]
        indexed = [check.condition.evaluate(CheckContext(events=window, variables=context.variables,
                                                         servers=context.servers, index=index)) for check in checks]
    incremental = (time.perf_counter() - started) / 5
    assert [v.passed for v in indexed] == [v.passed for v in verdicts]

    # The same incremental evaluations without the diagnosis of the failing checks (the nearest miss):
    # what saying *why* a check fails costs, measured in this run.
    from netlab_tui.labs.checks import EventCondition, SequenceCondition

    saved = EventCondition._diagnose, SequenceCondition.diagnose
    EventCondition._diagnose = lambda self, ctx, n: None
    SequenceCondition.diagnose = lambda self, ctx: None
    try:
        bare_index = MatchIndex()
        for check in checks:
            check.condition.evaluate(CheckContext(events=warm, variables=context.variables,
                                                  servers=context.servers, index=bare_index))
        started = time.perf_counter()
        for end in range(len(warm) + step, len(events) + 1, step):
            for check in checks:
                check.condition.evaluate(CheckContext(events=events[:end], variables=context.variables,
                                                      servers=context.servers, index=bare_index))
        bare = (time.perf_counter() - started) / 5
    finally:
        EventCondition._diagnose, SequenceCondition.diagnose = saved

    print(f"{len(events):,} events in the step, {len(checks)} event checks "
          f"({sum(v.passed for v in verdicts)} passing)")
    print(f"publish {len(events):,} events to the journal (baseline): {publish * 1000:8.1f} ms")
    print(f"one evaluation of the checks:                     {evaluate * 1000:8.1f} ms "
          f"({evaluate / publish:.2f}x the baseline, {evaluate / len(events) * 1e6:.2f} µs/event)")
    print(f"under a flood: re-judged every {delay * 1000:.0f} ms, "
          f"judging takes {evaluate / (evaluate + delay):.0%} of the loop's time (full rescans)")
    print(f"with the runner's MatchIndex, one evaluation after {step:,} new events: {incremental * 1000:8.1f} ms "
          f"({evaluate / incremental:.1f}x faster than a full rescan)")
    print(f"  of which the diagnoses of the {sum(not v.passed for v in verdicts)} failing checks: "
          f"{(incremental - bare) * 1000:8.1f} ms (without them: {bare * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
