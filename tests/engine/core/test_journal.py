import io
import json

import pytest

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import (
    EVENT_OVERHEAD,
    Journal,
    all_of,
    any_of,
    by_conn,
    by_direction,
    by_kind,
    by_proto,
    by_source,
    load_jsonl,
    not_,
    payload_contains,
)


def ev(kind="data", payload=b"x", **kw):
    return TrafficEvent(source=kw.pop("source", "s"), proto=kw.pop("proto", "tcp"), kind=kind, payload=payload, **kw)


def test_count_bound_drops_oldest_and_counts_them():
    journal = Journal(max_events=10)
    for i in range(25):
        journal.publish(ev(payload=str(i).encode()))
    assert len(journal) == 10
    assert journal.dropped == 15
    assert journal.total == 25
    assert [e.payload for e in journal.events()] == [str(i).encode() for i in range(15, 25)]


def test_byte_bound_drops_oldest():
    journal = Journal(max_events=1000, max_bytes=3 * (1000 + EVENT_OVERHEAD))
    for _ in range(10):
        journal.publish(ev(payload=b"a" * 1000))
    assert len(journal) == 3
    assert journal.dropped == 7
    assert journal.bytes_used <= journal.max_bytes


def test_a_single_huge_event_does_not_break_the_bound():
    journal = Journal(max_events=100, max_bytes=1000)
    journal.publish(ev(payload=b"a" * 5000))
    assert len(journal) == 0 and journal.dropped == 1 and journal.bytes_used == 0


def test_sequence_numbers_and_get():
    journal = Journal(max_events=3)
    events = [journal.publish(ev()) for _ in range(5)]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert journal.get(1) is None  # dropped
    assert journal.get(4) is events[3]
    assert journal.get(99) is None


def test_subscribe_with_predicate_and_unsubscribe():
    journal = Journal()
    seen, tcp_only = [], []
    sub = journal.subscribe(seen.append)
    journal.subscribe(tcp_only.append, by_proto("tcp"))
    journal.publish(ev(proto="udp"))
    journal.publish(ev(proto="tcp"))
    sub.unsubscribe()
    journal.publish(ev(proto="tcp"))
    assert len(seen) == 2
    assert len(tcp_only) == 2


def test_a_failing_subscriber_does_not_stop_publishing():
    journal = Journal()
    errors, good = [], []
    journal.on_error = errors.append
    journal.subscribe(lambda e: 1 / 0)
    journal.subscribe(good.append)
    journal.publish(ev())
    assert len(good) == 1 and isinstance(errors[0], ZeroDivisionError)


def test_filters_compose():
    journal = Journal()
    journal.publish(ev(kind="data", direction="in", payload=b"Hello", conn="tcp-1", source="a"))
    journal.publish(ev(kind="data", direction="out", payload=b"Hello", conn="tcp-1", source="a"))
    journal.publish(ev(kind="close", payload=None, conn="tcp-2", source="b"))
    assert len(journal.events(all_of(by_kind("data"), by_direction("in")))) == 1
    assert len(journal.events(any_of(by_conn("tcp-2"), payload_contains("Hell")))) == 3
    assert len(journal.events(not_(by_source("a")))) == 1
    assert len(journal.events(payload_contains(b"nope"))) == 0


def test_export_jsonl_is_the_event_contract_and_loads_back(tmp_path):
    journal = Journal()
    journal.publish(ev(payload=b"\x00\xffhi", direction="in", meta={"a": 1}))
    journal.publish(ev(kind="listen", payload=None, message="listening"))
    path = tmp_path / "j.jsonl"
    assert journal.export_jsonl(path) == 2
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    assert first["hex"] == "00ff6869" and first["size"] == 4
    loaded = load_jsonl(path)
    assert [e.to_dict() for e in loaded] == [e.to_dict() for e in journal.events()]
    buffer = io.StringIO()
    assert journal.export_jsonl(buffer, by_kind("listen")) == 1


def test_load_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"source": "s", "proto": "tcp", "kind": "data"}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        load_jsonl(path)


def test_clear_keeps_counters():
    journal = Journal()
    journal.publish(ev())
    journal.clear()
    assert len(journal) == 0 and journal.total == 1 and journal.dropped == 0


def test_bounds_must_be_positive():
    with pytest.raises(ValueError):
        Journal(max_events=0)
