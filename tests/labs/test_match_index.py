"""The runner's incremental judging (MatchIndex) gives the same verdicts as rescanning every event.

Every event and sequence condition of every shipped lab is judged on traffic that grows in chunks (and
on a bounded window that drops its oldest events, as the runner's step window does), once with an index
kept across evaluations and once by a full scan: the outcomes must be identical each time.
"""

from __future__ import annotations

import itertools
import json
from collections import deque

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal
from netlab_tui.labs.catalog import load_labs
from netlab_tui.labs.checks import (
    CheckContext,
    EventCondition,
    MatchIndex,
    SequenceCondition,
    parse_condition,
)
from netlab_tui.labs.templating import Variables, variables_in_value

SOURCES = ("srv-a@127.0.0.1:40001", "srv-b@127.0.0.1:40002")


def lab_conditions():
    conditions = []
    for lab in load_labs("en")[0]:
        servers = {spec.name: SOURCES[n % 2] for n, spec in enumerate(lab.all_servers())}
        for step in lab.steps:
            for check in step.checks:
                for condition in check.condition.walk():
                    if isinstance(condition, (EventCondition, SequenceCondition)):
                        conditions.append((f"{lab.id}/{step.id}: {check.title}", condition, servers))
    return conditions


def payloads(conditions) -> list[bytes]:
    """Payloads that some checks look for (their texts and JSON), and some they do not."""
    found = [b"noise", b"Recu: Hello", b'{"cmd": "list", "args": {}}\n', b"HTTP/1.1 200 OK\r\n\r\n{}"]
    for _, condition, _ in conditions:
        matchers = condition.matchers if isinstance(condition, SequenceCondition) else [condition.matcher]
        for matcher in matchers:
            found += [text.encode() for text in matcher.text if "{{" not in text]
            if matcher.json and not any("{{" in str(v) for v in matcher.json.values()):
                document: dict = {}
                for path, value in matcher.json.items():
                    if "." not in path and "[" not in path:
                        document[path] = value
                if document:
                    found.append(json.dumps(document).encode())
    return found


def traffic(count: int, bodies: list[bytes]) -> list[TrafficEvent]:
    journal = Journal(max_events=count + 10)
    kinds = itertools.cycle([("accept", None), ("data", "in"), ("data", "out"), ("request", "in"),
                             ("response", "out"), ("close", None)])
    body = itertools.cycle(bodies)
    events = []
    for n in range(count):
        kind, direction = next(kinds)
        source = SOURCES[(n // 6) % 2]
        proto = "http" if kind in ("request", "response") else ("udp" if n % 7 == 0 else "tcp")
        payload = next(body) if kind not in ("accept", "close") else None
        event = TrafficEvent(source, proto, kind, direction, "127.0.0.1:40001", f"127.0.0.1:{50000 + n // 6}",
                             f"c{n // 6 if n % 5 else n // 12}", payload, meta={"method": "system.listMethods"})
        journal.publish(event)
        events.append(event)
    return events


def test_incremental_verdicts_equal_full_scans_as_traffic_grows_and_the_window_slides():
    conditions = lab_conditions()
    assert len(conditions) > 20
    events = traffic(600, payloads(conditions))
    assert all(e.seq > 0 for e in events)
    names = {name for _, c, _ in conditions for name in variables_in_value(repr(c))}
    variables = Variables({name: "40001" if "port" in name else "127.0.0.1" for name in names})
    compared = passed = 0
    for window_size in (None, 150):
        for title, condition, servers in conditions:
            index = MatchIndex()
            window: deque[TrafficEvent] = deque(maxlen=window_size)  # the runner's bounded step window
            fed = 0
            for chunk in (1, 5, 40, 100, 454):
                window.extend(events[fed:fed + chunk])
                fed += chunk
                compared += 1
                seen = list(window)
                assert MatchIndex.usable(seen)
                index.use((tuple(servers.items()), tuple(variables.items())))
                fast = condition.evaluate(CheckContext(events=seen, variables=variables, servers=servers, index=index))
                full = condition.evaluate(CheckContext(events=seen, variables=variables, servers=servers))
                assert fast == full, f"{title} after {len(seen)} events"
                passed += full.passed
    assert compared == 2 * 5 * len(conditions)
    assert passed > 20  # many checks did pass on this traffic: their hits were compared too


def test_the_index_forgets_hits_when_the_servers_change_and_only_takes_journal_events():
    condition = parse_condition({"event": {"server": "echo", "kind": "data", "direction": "in", "text": "Hello"}})
    events = traffic(12, [b"Hello"])
    index = MatchIndex()
    index.use("first")
    ctx = CheckContext(events=events, servers={"echo": SOURCES[0]}, index=index)
    assert condition.evaluate(ctx).passed
    index.use("second")  # a server restarted under another name: earlier hits do not count
    ctx = CheckContext(events=events, servers={"echo": "elsewhere@127.0.0.1:1"}, index=index)
    assert not condition.evaluate(ctx).passed
    assert not MatchIndex.usable([TrafficEvent("x", "tcp", "data")])  # never published: seq 0


def test_a_sequence_needs_one_event_per_step_with_or_without_the_index():
    condition = parse_condition({"sequence": [{"kind": "data"}, {"kind": "data"}, {"kind": "close"}],
                                 "same_conn": True})
    events = traffic(6, [b"x"])  # accept, data in, data out, request, response, close in conversations
    for prefix, expected in ((2, "1 of 3"), (3, "2 of 3"), (6, "all 3")):
        seen = events[:prefix]
        full = condition.evaluate(CheckContext(events=seen))
        fast = condition.evaluate(CheckContext(events=seen, index=MatchIndex()))
        assert fast == full and full.detail.startswith(expected), (prefix, full, fast)
