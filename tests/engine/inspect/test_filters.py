"""The filter language: what each field matches, how words combine, and errors with their column."""

import pytest

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.inspect import filters
from netlab_tui.engine.inspect.filters import FilterError, compile, help_text


def ev(kind="data", direction="in", payload=b"", proto="tcp", local="127.0.0.1:9999", peer="127.0.0.1:50000",
       conn="tcp-1", source="tcp-echo@127.0.0.1:9999", message=None, meta=None, seq=1):
    event = TrafficEvent(source, proto, kind, direction, local, peer, conn, payload if kind == "data" else None,
                         message, meta)
    event.seq = seq
    return event


EVENTS = [
    ev(payload=b"Hello\n", seq=1),
    ev(direction="out", payload=b"Hello\n", seq=2),
    ev(kind="accept", direction=None, message="connection from 127.0.0.1:50000", seq=3),
    ev(proto="udp", local="[::1]:7000", peer="[::1]:40000", payload=b"\x00\x01ping!", conn="udp-2",
       source="udp-echo@[::1]:7000", seq=4),
    ev(proto="http", kind="response", direction="out", payload=None, conn="http-3", meta={"status": 404,
       "method": "GET"}, source="http@127.0.0.1:8080", local="127.0.0.1:8080", seq=5),
    ev(kind="close", direction=None, message="reset by peer", seq=6),
]


def matching(text: str) -> list[int]:
    predicate = compile(text)
    return [e.seq for e in EVENTS if predicate(e)]


@pytest.mark.parametrize("text, seqs", [
    ("", [1, 2, 3, 4, 5, 6]),
    ("tcp", [1, 2, 3, 6]),
    ("proto udp,http", [4, 5]),
    ("proto != tcp", [4, 5]),
    ("in", [1, 4]),
    ("dir out", [2, 5]),
    ("dir none", [3, 6]),
    ("data", [1, 2, 4]),
    ("kind accept,close", [3, 6]),
    ("port 9999", [1, 2, 3, 6]),
    ("port 7000-8080", [4, 5]),
    ("port != 9999", [4, 5]),
    ("port > 45000", [1, 2, 3, 5, 6]),
    ("lport 7000", [4]),
    ("pport 40000", [4]),
    ("host ::1", [4]),
    ("host ~ ^127", [1, 2, 3, 5, 6]),
    ("peer 127.0.0.1:50000", [1, 2, 3, 5, 6]),
    ("local ~ :8080$", [5]),
    ("session ~ echo", [1, 2, 3, 4, 6]),
    ("source == http@127.0.0.1:8080", [5]),
    ("conn udp-2", [4]),
    ('"Hello"', [1, 2]),
    ('text "hello"', []),
    ("text ~ /hel+o/i", [1, 2]),
    ('text ~ "^Hel"', [1, 2]),
    ('"reset"', [6]),  # messages are searched too
    ("/ping!$/", [4]),
    ("bytes 0001", [4]),
    ("bytes 48:65", [1, 2]),
    ("size > 6", [4]),
    ("size == 6", [1, 2]),
    ("seq >= 5", [5, 6]),
    ("meta.status >= 400", [5]),
    ("meta.method GET", [5]),
    ("meta.method == get", [5]),
    ("meta.status ~ ^4", [5]),
])
def test_fields(text, seqs):
    assert matching(text) == seqs


@pytest.mark.parametrize("text, seqs", [
    ("tcp and in", [1]),
    ("tcp in", [1]),  # side by side means and
    ("tcp && in", [1]),
    ("udp or http", [4, 5]),
    ("udp || http", [4, 5]),
    ("not tcp", [4, 5]),
    ("!tcp", [4, 5]),
    ("tcp and not (in or out)", [3, 6]),
    ("(udp or http) and out", [5]),
    ("udp or http and out", [4, 5]),  # and binds tighter than or
    ("not not udp", [4]),
    ("NOT udp AND data", [1, 2]),
])
def test_combinations(text, seqs):
    assert matching(text) == seqs


@pytest.mark.parametrize("text, pos, fragment", [
    ("tcp and", 4, "needs something after it"),
    ("port", 0, "port needs a value, e.g. port 8000-8100"),
    ("port abc", 5, "port wants a port number, not 'abc'"),
    ("port 70000", 5, "out of range"),
    ("port 90-80", 5, "empty range"),
    ("(tcp or udp", 0, "missing ) for this ("),
    ("tcp)", 3, "unmatched )"),
    ("tcpp", 0, "did you mean 'tcp'?"),
    ("frobnicate", 0, "to search the payload, quote it"),
    ('text "abc', 5, "unterminated string"),
    ("text ~ /[a/", 8, "bad regex"),
    ("proto tcpx", 6, "proto is one of"),
    ("dir sideways", 4, "dir is one of in, out, none"),
    ("== 3", 0, "needs a field before it"),
    ("size ~ 3", 5, "size does not take ~"),
    ("bytes zz", 6, "hex digits"),
    ("size > many", 7, "wants one number"),
    ("()", 0, "empty parentheses"),
    ("tcp /x/ ==", 8, "unexpected '=='"),
    ("#", 0, "unknown word '#'"),
])
def test_errors_name_the_column(text, pos, fragment):
    with pytest.raises(FilterError) as info:
        compile(text)
    assert info.value.pos == pos, str(info.value)
    assert fragment in info.value.message
    assert str(info.value).startswith(f"column {pos + 1}: ")
    assert filters.check(text) is not None


def test_check_accepts_valid_filters():
    assert filters.check("tcp and port 80") is None
    assert filters.check("   ") is None


def test_help_is_generated_from_the_fields():
    text = help_text()
    for field in filters.FIELDS:
        assert field.name in text
        assert field.example in text
    for example, _meaning in filters.EXAMPLES:
        compile(example)  # every documented example is valid


def test_every_example_in_the_field_table_compiles():
    for field in filters.FIELDS:
        compile(field.example)


def test_apply_as_filter_terms_compile_and_select_the_event():
    from netlab_tui.engine.core.events import TrafficEvent
    from netlab_tui.engine.inspect.filters import compile as compile_filter
    from netlab_tui.engine.inspect.filters import terms_for

    event = TrafficEvent(source="tcp-client 127.0.0.1:1→127.0.0.1:2", proto="tcp", kind="data", direction="out",
                         local="127.0.0.1:40000", peer="[::1]:9999", conn="tcp-8", payload=b'say "hi"\r\nbye')
    other = TrafficEvent(source="udp-echo", proto="udp", kind="data", direction="in", local="127.0.0.1:5",
                         peer="127.0.0.1:6", conn="udp-1", payload=b"zzz")
    terms = dict(terms_for(event))
    assert {"conn tcp-8", "peer == [::1]:9999", "port 40000", "proto tcp", "kind data", "dir out",
            'text "say \\"hi\\""', "size == 13", "host ::1"} <= terms.keys()
    for term in terms:
        predicate = compile_filter(term)
        assert predicate(event), term
    assert not compile_filter("conn tcp-8")(other) and not compile_filter('text "say \\"hi\\""')(other)
