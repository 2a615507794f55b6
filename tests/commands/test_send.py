"""The real ``netlab`` command: serve and send, as users and scripts run them."""

import json
import signal
import socket

from tests.conftest import run_netlab


def test_version_and_help():
    result = run_netlab("--version")
    assert result.returncode == 0 and result.stdout.decode().startswith("netlab ")
    result = run_netlab("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout.decode() and "send" in result.stdout.decode()


def test_serve_json_listen_first_then_exact_bytes_from_any_client(serve):
    server = serve("tcp-echo", "--port", "0")
    assert server.listen["kind"] == "listen" and server.listen["proto"] == "tcp"
    assert server.port > 0 and server.listen["local"] == f"127.0.0.1:{server.port}"
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(b"Hello\x00\xff")
        assert s.recv(1024) == b"Hello\x00\xff"
    events = server.events(until=lambda e: e["kind"] == "close")
    kinds = [e["kind"] for e in events]
    assert kinds == ["accept", "data", "data", "close"]
    for event in events:
        assert set(event) == {"ts", "source", "proto", "kind", "direction", "local", "peer", "conn", "size",
                              "text", "hex", "meta", "host"}
    assert events[1]["hex"] == "48656c6c6f00ff" and events[1]["direction"] == "in"
    assert events[2]["hex"] == "48656c6c6f00ff" and events[2]["direction"] == "out"
    assert server.stop(signal.SIGINT) == 0


def test_serve_stops_cleanly_on_sigterm(serve):
    server = serve("tcp-echo", "--port", "0")
    assert server.stop(signal.SIGTERM) == 0
    assert b"Traceback" not in server.proc.stderr.read()


def test_send_prints_the_reply(serve):
    server = serve("tcp-echo", "--port", "0")
    result = run_netlab("send", "tcp", "127.0.0.1", str(server.port), "Hello netlab", "--wait", "0.3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Hello netlab"


def test_send_hex_and_json_events(serve):
    server = serve("tcp-echo", "--port", "0")
    result = run_netlab("send", "tcp", "127.0.0.1", str(server.port), "de ad be ef", "--hex", "--json",
                        "--wait", "0.3")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [e["kind"] for e in events] == ["connect", "data", "data", "close"]
    assert events[1]["direction"] == "out" and events[1]["hex"] == "deadbeef"
    assert events[2]["direction"] == "in" and events[2]["hex"] == "deadbeef"


def test_send_stdin_with_shutdown_until_eof(serve):
    server = serve("tcp-echo", "--port", "0")
    # The echo server closes once we half-close and it has echoed everything: the read-until-EOF loop.
    result = run_netlab("send", "tcp", "127.0.0.1", str(server.port), "--shutdown", "--until-eof",
                        input=b"line one\nline two\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"line one\nline two\n"


def test_errors_are_one_line_and_nonzero(serve):
    server = serve("tcp-echo", "--port", "0")
    cases = [
        (("serve", "tcp-echo", "--port", str(server.port)), "address already in use"),
        (("send", "tcp", "no-such-host.invalid", "80", "x"), "cannot resolve host"),
        (("send", "tcp", "127.0.0.1", str(server.port), "zz", "--hex"), "not valid hex"),
    ]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        cases.append((("send", "tcp", "127.0.0.1", str(s.getsockname()[1]), "x"), "connection refused"))
    for args, message in cases:
        result = run_netlab(*args)
        err = result.stderr.decode()
        assert result.returncode != 0, args
        assert message in err, (args, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_bad_arguments_are_usage_errors():
    result = run_netlab("serve", "no-such-kind")
    assert result.returncode == 2 and b"invalid choice" in result.stderr
    result = run_netlab("send", "tcp", "127.0.0.1", "99999", "x")
    assert result.returncode == 2 and b"port out of range" in result.stderr
