"""``netlab send udp`` and the JSON payload options of ``netlab send``, against real servers."""

import json
import socket

import pytest

from tests.conftest import run_netlab


def test_send_udp_prints_the_reply(serve):
    server = serve("udp-echo", "--port", "0")
    result = run_netlab("send", "udp", "127.0.0.1", str(server.port), "Bonjour")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Recu: Bonjour"
    events = server.events(until=lambda e: e["direction"] == "out")
    assert [(e["direction"], e["text"]) for e in events] == [("in", "Bonjour"), ("out", "Recu: Bonjour")]


def test_send_udp_hex_after_the_message_and_json_events(serve):
    server = serve("udp-echo", "--port", "0")
    result = run_netlab("send", "udp", "127.0.0.1", str(server.port), "--hex", "00 ff 10", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(e["kind"], e["direction"]) for e in events] == [("info", None), ("data", "out"), ("data", "in")]
    assert events[1]["hex"] == "00ff10" and events[1]["proto"] == "udp"
    assert events[2]["hex"] == b"Recu: ".hex() + "00ff10"


def test_send_udp_without_reply_times_out_with_one_line(serve):
    sink = serve("udp-sink", "--port", "0")
    result = run_netlab("send", "udp", "127.0.0.1", str(sink.port), "hello", "--timeout", "0.3")
    assert result.returncode == 1
    assert result.stderr.decode() == f"netlab: no reply from udp 127.0.0.1:{sink.port} within 0.3s\n"
    result = run_netlab("send", "udp", "127.0.0.1", str(sink.port), "FIN", "--no-reply")
    assert result.returncode == 0 and result.stdout == b""
    assert sink.proc.wait(timeout=10) == 0


def test_send_udp_to_a_closed_port():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = run_netlab("send", "udp", "127.0.0.1", str(port), "anyone?")
    assert result.returncode == 1
    assert result.stderr.decode() == f"netlab: port unreachable: nothing is listening on udp 127.0.0.1:{port}\n"


def test_send_udp_stdin_is_one_datagram(serve):
    server = serve("udp-echo", "--port", "0")
    result = run_netlab("send", "udp", "127.0.0.1", str(server.port), input=b"line 1\nline 2\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Recu: line 1\nline 2\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--hex", "xyz"), "netlab: not valid hex"),
    (("--json-doc", "{nope"), "netlab: not valid JSON"),
    (("--field", "novalue"), "netlab: field 'novalue' has no value"),
])
def test_send_udp_bad_payloads_are_one_line(args, message):
    result = run_netlab("send", "udp", "127.0.0.1", "9", *args)
    assert result.returncode == 1
    assert result.stderr.decode().startswith(message) and result.stderr.count(b"\n") == 1


def test_send_udp_oversized_datagram():
    result = run_netlab("send", "udp", "127.0.0.1", "9", input=b"x" * 70000)
    assert result.returncode == 1
    assert b"datagram too large: 70000 bytes" in result.stderr


def test_send_tcp_json_doc_and_fields_to_the_contact_server(serve, tmp_path):
    server = serve("contact", "--port", "0", "--db", str(tmp_path / "c.db"))
    result = run_netlab("send", "tcp", "127.0.0.1", str(server.port), "--until-eof",
                        "--field", "cmd=add", "--field", "args.name=Jean Dupont", "--field", "args.mail=jd@x.fr")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["msg"] == "contact 'Jean Dupont' added"
    result = run_netlab("send", "tcp", "127.0.0.1", str(server.port), "--json-doc", '{"cmd": "list"}', "--until-eof")
    assert json.loads(result.stdout)["data"] == [{"name": "Jean Dupont", "mail": "jd@x.fr"}]
    events = server.events(until=lambda e: e["kind"] == "close" and e["meta"]["bytes_in"] == 15)
    sent = [e for e in events if e["kind"] == "data" and e["direction"] == "in"]
    assert sent[-1]["text"] == '{"cmd": "list"}'


def test_send_refuses_message_and_json_together():
    result = run_netlab("send", "tcp", "127.0.0.1", "9", "hello", "--json-doc", "{}")
    assert result.returncode == 2
    assert b"give either MESSAGE or --json-doc/--field, not both" in result.stderr
