"""Checks judged against real events: netlab's own servers on loopback, clients written as the course does."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.labs.checks import CheckContext, CheckSyntaxError, ScriptResult, json_path, parse_condition
from netlab_tui.labs.probe import run_probe
from netlab_tui.labs.templating import Variables


async def start(registry, journal, kind: str):
    return await registry.start(server_kinds()[kind].create(journal, host="127.0.0.1", port=0))


def exchange(port: int, *messages: bytes, shutdown: bool = False) -> bytes:
    """A plain-socket client, as in the course: send, optionally half-close, read until EOF or quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        for message in messages:
            sock.sendall(message)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.5)
        data = b""
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except TimeoutError:
            pass
        return data


async def settle(journal, predicate, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(predicate(e) for e in journal.events()) and loop.time() < deadline:
        await asyncio.sleep(0.02)


def context(journal, servers, **extra) -> CheckContext:
    variables = Variables({"echo.port": servers.get("echo").port if "echo" in servers else 0})
    return CheckContext(events=journal.events(), variables=variables,
                        servers={name: s.name for name, s in servers.items()}, **extra)


def judge(table, ctx):
    return parse_condition(table).evaluate(ctx)


async def test_event_checks_on_a_real_echo_exchange(registry, journal):
    echo = await start(registry, journal, "tcp-echo")
    greet = await start(registry, journal, "tcp-greet")
    await asyncio.to_thread(exchange, echo.port, b"Hello", b" again")
    await asyncio.to_thread(exchange, echo.port, '{"cmd": "add", "args": {"name": "Ada"}}'.encode())
    await asyncio.to_thread(exchange, greet.port, b"Hi")
    await settle(journal, lambda e: e.kind == "close" and e.source == greet.name)
    ctx = context(journal, {"echo": echo, "greet": greet})

    assert judge({"event": {"server": "echo", "kind": "data", "direction": "in", "text": "Hello"}}, ctx)
    # Counted by conversation: two clients sent data (other programs' port scans may connect, silently).
    assert judge({"event": {"server": "echo", "kind": "data", "direction": "in", "distinct": "conn", "count": 2}}, ctx)
    assert judge({"event": {"server": "echo", "kind": "accept", "min": 2}}, ctx)
    assert judge({"event": {"server": "echo", "kind": "data", "regex": r"^\{\"cmd\""}}, ctx)
    assert judge({"event": {"server": "echo", "json": {"cmd": "add", "args.name": "Ada"}}}, ctx)
    assert judge({"event": {"server": "echo", "hex": "48 65 6c 6c 6f"}}, ctx)
    assert judge({"event": {"server": "echo", "kind": "close", "meta": {"by": "peer"}, "min": 2}}, ctx)
    assert judge({"event": {"proto": "tcp", "kind": "listen", "local": "127.0.0.1:{{ echo.port }}"}}, ctx)
    assert not judge({"event": {"server": "greet", "text": "Hello"}}, ctx)
    assert judge({"event": {"server": "greet", "direction": "out", "text": "Hi"}}, ctx)

    missing = judge({"event": {"server": "echo", "direction": "in", "text": "Goodbye"}}, ctx)
    assert not missing
    assert "seen 0" in missing.detail and missing.diagnosis.kind == "wrong-bytes"  # the nearest miss is shown
    too_many = judge({"event": {"server": "echo", "direction": "in", "distinct": "conn", "max": 1}}, ctx)
    assert not too_many and "seen 2" in too_many.detail

    order = {"sequence": [{"server": "echo", "direction": "in", "text": "Hello"},
                          {"server": "echo", "direction": "out", "text": "Hello"}], "same_conn": True}
    assert judge(order, ctx)
    backwards = judge({"sequence": list(reversed(order["sequence"])), "same_conn": True}, ctx)
    assert not backwards and "1 of 2 events seen in order" in backwards.detail

    assert judge({"all": [{"event": {"server": "echo", "text": "Hello"}}, {"event": {"server": "greet"}}]}, ctx)
    assert not judge({"all": [{"event": {"server": "echo", "text": "Hello"}}, {"event": {"text": "nope"}}]}, ctx)
    assert judge({"any": [{"event": {"text": "nope"}}, {"event": {"server": "greet", "text": "Hi"}}]}, ctx)
    assert judge({"not": {"event": {"server": "echo", "kind": "error"}}}, ctx)
    assert not judge({"not": {"event": {"server": "echo", "kind": "accept"}}}, ctx)


def test_event_checks_on_events_from_a_netlab_serve_child(serve):
    """The same matchers over the contract's JSON lines (a `netlab serve --json` child)."""
    server = serve("tcp-echo", "--port", "0")
    exchange(server.port, b"ping", shutdown=True)
    lines = []
    while not lines or lines[-1]["kind"] != "close":  # blocking reads: the child prints close last
        lines.append(json.loads(server.proc.stdout.readline()))
    events = [TrafficEvent.from_dict(line) for line in [server.listen, *lines]]
    ctx = CheckContext(events=events, servers={"echo": server.listen["source"]})
    assert judge({"sequence": [{"server": "echo", "kind": "accept"}, {"server": "echo", "direction": "in",
                                "text": "ping"}, {"server": "echo", "kind": "close"}]}, ctx)
    assert judge({"event": {"server": "echo", "kind": "data", "direction": "out", "hex": "70696e67"}}, ctx)


def test_script_checks():
    ok = ScriptResult("client", ["python", "client.py"], file="client.py", exit_code=0, stdout="echo: Hello\n")
    crashed = ScriptResult("client", ["python", "client.py"], file="client.py", exit_code=1,
                           stderr="Traceback …\nTypeError: a bytes-like object is required, not 'str'\n")
    ctx = CheckContext(events=[], scripts={"client": ok}, default_script="client")
    assert judge({"script": {"exit": 0, "stdout": "echo: Hello", "stdout_not": "b'"}}, ctx)
    assert judge({"script": {"stdout_re": r"^echo: \w+$"}}, ctx)
    assert not judge({"script": {"stdout": "Goodbye"}}, ctx)
    ctx = CheckContext(events=[], scripts={"client": crashed}, default_script="client")
    outcome = judge({"script": {"exit": 0}}, ctx)
    assert not outcome
    assert outcome.detail == "client.py exited with 1, expected 0: TypeError: a bytes-like object is required, not 'str'"
    assert "has not run yet" in judge({"script": {"exit": 0}}, CheckContext(events=[], default_script="client")).detail
    running = ScriptResult("server", [], file="server.py", running=True)
    ctx = CheckContext(events=[], scripts={"server": running}, default_script="server")
    assert judge({"script": {"running": True}}, ctx)
    assert not judge({"script": {"exit": 0}}, ctx)


def test_json_paths():
    doc = {"status": True, "data": [{"name": "Ada", "mail": "ada@example.org"}], "n": 3}
    assert json_path(doc, "data[0].name") == (True, "Ada")
    assert json_path(doc, "data.0.mail") == (True, "ada@example.org")
    assert json_path(doc, "data[1].name") == (False, None)
    assert json_path(doc, "status") == (True, True)


@pytest.mark.parametrize("table", [
    {"event": {"min": -1}}, {"event": {"count": 1, "min": 1}}, {"event": {"distinct": "colour"}},
    {"event": {"json": []}}, {"event": {"hex": "xyz"}}, {"script": {"exit": "zero"}}, {"script": {"colour": 1}},
    {"sequence": [{"kind": "data"}]}, {"not": []}, {"any": {"event": {}}}, {"event": {}, "script": {}},
    {"probe": [{"connect": "a"}, {"expect": "a"}]}, {"probe": [{"connect": "a"}, {"sleep": 99}]},
    {"probe": [{"http": "BREW"}]}, {"probe": [{"connect": "u", "udp": True}, {"expect": "u", "eof": True}]},
])
def test_malformed_checks_are_rejected(table):
    with pytest.raises(CheckSyntaxError):
        parse_condition(table)


ROLES_PROBE = [
    {"connect": "a"}, {"expect": "a", "text": "primary"},
    {"connect": "b"}, {"expect": "b", "text": "secondary"},
    {"connect": "c"}, {"expect": "c", "text": "secondary"},
    {"close": "a"}, {"expect": "b", "text": "primary", "timeout": 2},
]


async def test_a_probe_verifies_a_roles_server_and_its_promotion(registry, journal):
    roles = await start(registry, journal, "roles")
    ctx = CheckContext(events=[], variables=Variables({"host": "127.0.0.1", "ports.mine": roles.port}))
    outcome = await run_probe(ROLES_PROBE, "{{ host }}:{{ ports.mine }}", ctx, journal)
    assert outcome.passed, outcome.detail
    # The probe's clients are in the journal like any client's: three connections seen by the server.
    promoted = [e for e in journal.events() if e.source == roles.name and e.kind == "data" and e.direction == "out"]
    # (then the probe closes b and c, and c may be promoted in turn)
    assert [e.payload for e in promoted][:4] == [b"primary\n", b"secondary\n", b"secondary\n", b"primary\n"]
    assert any(e.source.startswith("probe a ") and e.kind == "connect" for e in journal.events())


async def test_a_probe_explains_what_a_wrong_server_did(registry, journal):
    echo = await start(registry, journal, "tcp-echo")  # says nothing on connect
    ctx = CheckContext(events=[], variables=Variables({"host": "127.0.0.1"}))
    impatient = [{**action, "timeout": 0.5} if "expect" in action else action for action in ROLES_PROBE]
    outcome = await run_probe(impatient, f"127.0.0.1:{echo.port}", ctx, journal)
    assert not outcome.passed
    assert outcome.detail == "probe step 2 (a receives 'primary'): not seen within 0.5s; a received 'nothing'"
    refused = await run_probe([{"connect": "a"}], "127.0.0.1:1", ctx, journal)
    assert not refused and "connection refused" in refused.detail


async def test_probe_send_expect_json_and_eof_against_the_contact_server(registry, journal, tmp_path):
    contact = await registry.start(server_kinds()["contact"].create(journal, host="127.0.0.1", port=0,
                                                                     db=str(tmp_path / "c.db")))
    actions = [
        {"connect": "a"}, {"send": "a", "json": {"cmd": "add", "args": {"name": "Ada", "mail": "ada@example.org"}}},
        {"expect": "a", "json": {"status": True}}, {"expect": "a", "eof": True},
        {"connect": "b"}, {"send": "b", "json": {"cmd": "list", "args": {}}},
        {"expect": "b", "json": {"status": True, "data[0].name": "Ada"}},
    ]
    outcome = await run_probe(actions, f"127.0.0.1:{contact.port}", CheckContext(events=[]), journal)
    assert outcome.passed, outcome.detail
    sent = [json.loads(e.payload) for e in journal.events() if e.source == contact.name and e.direction == "in"]
    assert sent[0]["cmd"] == "add" and sent[-1]["cmd"] == "list"


async def test_udp_and_http_probes(registry, journal, tmp_path):
    udp = await start(registry, journal, "udp-echo")
    outcome = await run_probe([{"connect": "u", "udp": True}, {"send": "u", "text": "ping"},
                               {"expect": "u", "text": "ping"}], f"127.0.0.1:{udp.port}", CheckContext(events=[]),
                              journal)
    assert outcome.passed, outcome.detail
    http = await registry.start(server_kinds()["http"].create(journal, host="127.0.0.1", port=0,
                                                               db=str(tmp_path / "h.db")))
    target = f"127.0.0.1:{http.port}"
    ok = await run_probe([{"http": "POST", "path": "/post", "body_json": {"a": 1}, "status": 200,
                           "json": {"json.a": 1}}], target, CheckContext(events=[]), journal)
    assert ok.passed, ok.detail
    wrong = await run_probe([{"http": "GET", "path": "/status/404", "status": 200}], target,
                            CheckContext(events=[]), journal)
    assert not wrong and "status 404, expected 200" in wrong.detail
    assert any(e.proto == "http" and e.kind == "response" and (e.meta or {}).get("status") == 404
               for e in journal.events())
