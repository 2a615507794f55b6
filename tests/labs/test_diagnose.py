"""Each diagnosis kind, from real traffic on loopback: netlab's servers, plain-socket clients, real scripts."""

from __future__ import annotations

import asyncio

from netlab_tui.engine.sockets.tcp import TcpClient
from netlab_tui.labs.catalog import find_lab
from netlab_tui.labs.checks import CheckContext, ScriptResult, parse_condition
from netlab_tui.labs.runner import LabRunner
from netlab_tui.labs.templating import Variables
from netlab_tui.labs.workspace import Workspace

from .test_checks import exchange, settle, start


def ctx_for(journal, echo, **extra) -> CheckContext:
    variables = Variables({"echo.port": echo.port, "echo.address": f"127.0.0.1:{echo.port}"})
    return CheckContext(events=journal.events(), variables=variables, servers={"echo": echo.name}, **extra)


def diagnose(table, ctx):
    outcome = parse_condition(table).evaluate(ctx)
    assert not outcome.passed
    return outcome.diagnosis, outcome.detail


HELLO = {"event": {"server": "echo", "kind": "data", "direction": "in", "text": "Hello"}}


async def test_hello_instead_of_Hello_in_tcp_first_exchange_names_what_was_seen(journal, registry, tmp_path):
    lab = find_lab("tcp-first-exchange")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, tmp_path / "ws"))
    await runner.start(step=0, run=False)
    try:
        port = runner.servers["echo"].port
        client = await registry.start(TcpClient(journal, "127.0.0.1", port))  # netlab's TCP client, as the pane
        await client.send(b"hello")
        await settle(journal, lambda e: e.direction == "out" and e.source == runner.servers["echo"].name)
        await asyncio.sleep(0.1)
        first = runner.evaluate().checks[0]
        assert not first.passed
        assert first.diagnosis.kind == "wrong-bytes" and "case" in first.diagnosis.tags
        assert "'hello'" in first.detail and "'Hello' expected" in first.detail and "case differs" in first.detail
        await client.send(b"Hello")
        assert await runner.wait_passed(3.0)
    finally:
        await runner.stop()


async def test_partial_match_says_how_many_bytes_agree(journal, registry):
    echo = await start(registry, journal, "tcp-echo")
    await asyncio.to_thread(exchange, echo.port, b"Help")
    await settle(journal, lambda e: e.kind == "data" and e.direction == "out")
    diagnosis, detail = diagnose(HELLO, ctx_for(journal, echo))
    assert diagnosis.kind == "wrong-bytes" and diagnosis.fits("partial")
    assert "first 3 bytes agree ('Hel'), then 'p' where 'l' was expected" in detail


async def test_traffic_to_another_port_names_both_addresses(journal, registry):
    echo = await start(registry, journal, "tcp-echo")
    other = await start(registry, journal, "tcp-echo")
    client = await registry.start(TcpClient(journal, "127.0.0.1", other.port))
    await client.send(b"Hello")
    await settle(journal, lambda e: e.kind == "data" and e.direction == "in" and e.source == other.name)
    diagnosis, detail = diagnose(HELLO, ctx_for(journal, echo))
    assert diagnosis.kind == "wrong-port"
    assert f"127.0.0.1:{other.port}" in detail and f"the echo server is on 127.0.0.1:{echo.port}" in detail


async def test_right_bytes_in_the_wrong_direction(journal, registry):
    echo = await start(registry, journal, "tcp-echo")
    await asyncio.to_thread(exchange, echo.port, b"Hello")
    await settle(journal, lambda e: e.kind == "data" and e.direction == "out")
    wanted = {"event": {"server": "echo", "kind": "data", "direction": "out", "text": "Hello"}, }
    # The echo did send Hello back: ask for it going "none" to get a pure direction miss.
    wanted["event"]["direction"] = "none"
    diagnosis, detail = diagnose(wanted, ctx_for(journal, echo))
    assert diagnosis.kind == "wrong-direction" and "'Hello'" in detail


async def test_next_step_of_an_exchange_on_another_connection(journal, registry):
    echo = await start(registry, journal, "tcp-echo")
    await asyncio.to_thread(exchange, echo.port, b"first")
    await asyncio.to_thread(exchange, echo.port, b"second")
    await settle(journal, lambda e: e.kind == "data" and e.text == "second" and e.direction == "out")
    table = {"sequence": [{"server": "echo", "direction": "in", "text": "first"},
                          {"server": "echo", "direction": "in", "text": "second"}], "same_conn": True}
    diagnosis, detail = diagnose(table, ctx_for(journal, echo))
    assert diagnosis.kind == "other-connection" and "another connection" in detail


async def test_nothing_since_the_step_began(journal, registry):
    echo = await start(registry, journal, "tcp-echo")
    ctx = ctx_for(journal, echo)
    ctx.events = []
    diagnosis, detail = diagnose(HELLO, ctx)
    assert diagnosis.kind == "no-traffic" and f"127.0.0.1:{echo.port}" in detail


async def test_a_script_that_never_connected_shows_its_exception(journal, registry):
    echo = await start(registry, journal, "tcp-echo")
    crashed = ScriptResult("client", ["python", "client.py"], file="client.py", exit_code=1,
                           stderr="Traceback (most recent call last):\n  File \"client.py\", line 9\n"
                                  "ConnectionRefusedError: [Errno 111] Connection refused\n")
    ctx = ctx_for(journal, echo, scripts={"client": crashed})
    ctx.events = []
    diagnosis, detail = diagnose(HELLO, ctx)
    assert diagnosis.kind == "script-error" and diagnosis.fits("wrong-port")
    assert "client.py never connected: ConnectionRefusedError" in detail and str(echo.port) in detail


async def test_a_real_script_sending_str_gets_its_exception_quoted(journal, registry, tmp_path):
    lab = find_lab("tcp-first-exchange")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, tmp_path / "ws"), max_wait=1.0)
    await runner.start(run=False, enter=False)
    try:
        status = await runner.solve_step(1)  # the starter client.py: sendall("Hello, netlab")
    finally:
        await runner.stop()
    by_title = {c.title: c for c in status.checks}
    bytes_check = by_title["the server received Hello, netlab as UTF-8 bytes"]
    assert bytes_check.diagnosis.kind == "script-error"
    assert "TypeError" in bytes_check.detail and "client.py" in bytes_check.detail


def test_output_near_miss_for_identical_looking_lines():
    from netlab_tui.labs.diagnose import diagnose_output

    diagnosis = diagnose_output("client.py", "stdout", "Echo: Hello, netlab\n", "echo: Hello, netlab")
    assert diagnosis.fits("case") and "'Echo: Hello, netlab'" in diagnosis.sentence


async def test_sequence_ladder_marks_the_first_divergence(journal, registry, tmp_path):
    lab = find_lab("tcp-first-exchange")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, tmp_path / "ws"))
    await runner.start(step=0, run=False)
    try:
        client = await registry.start(TcpClient(journal, "127.0.0.1", runner.servers["echo"].port))
        await client.send(b"hello")
        await settle(journal, lambda e: e.direction == "out" and e.source == runner.servers["echo"].name)
        sequence = runner.evaluate().checks[1]
        lines = runner.ladder(sequence)
    finally:
        await runner.stop()
    text = "\n".join(lines)
    assert lines[0] == "expected (2 events, in order):" and "observed on tcp-" in text
    expected_part, observed_part = text.split("observed on")
    assert any(line.startswith("✗") and '"Hello"' in line for line in expected_part.splitlines())
    assert any(line.startswith("✗") and '"hello"' in line for line in observed_part.splitlines())
    assert runner.ladder(runner.status.checks[0]) == []  # an event check has no ladder
