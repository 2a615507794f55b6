"""``--pcap`` and ``--journal`` on ``netlab serve`` and ``netlab send``, read back with tshark."""

import json
import subprocess

from tests._capture import needs_capture, needs_root, needs_tshark, tshark
from tests.conftest import netlab_cmd, run_netlab

pytestmark = needs_tshark


@needs_capture
def test_serve_and_send_pcaps_from_the_wire(serve, tmp_path):
    server_pcap, client_pcap = tmp_path / "server.pcap", tmp_path / "client.pcap"
    server = serve("tcp-echo", "--port", "0", "--pcap", str(server_pcap))
    sent = run_netlab("send", "tcp", server.host, str(server.port), "Hello pcap", "--newline",
                      "--pcap", str(client_pcap))
    assert sent.returncode == 0 and sent.stdout == b"Hello pcap\n"
    assert b"captured on lo" in sent.stderr
    assert server.stop() == 0
    assert "captured on lo" in server.proc.stderr.read().decode()
    for path in (server_pcap, client_pcap):
        follow = tshark("-r", str(path), "-q", "-z", "follow,tcp,ascii,0")
        assert follow.count("Hello pcap") == 2, follow
        flags = tshark("-r", str(path), "-T", "fields", "-e", "tcp.flags.str").splitlines()
        assert flags[0].endswith("S·") and "A··S" in flags[1]  # SYN, SYN-ACK
        assert sum("F" in f for f in flags) == 2  # a FIN each way


@needs_root
def test_send_without_capture_rights_rebuilds_from_events(serve, tmp_path):
    server = serve("tcp-echo", "--port", "0")
    path = tmp_path / "rebuilt.pcap"
    result = subprocess.run(["setpriv", "--bounding-set", "-net_raw",
                             *netlab_cmd("send", "tcp", server.host, str(server.port), "no raw sockets",
                                         "--pcap", str(path))],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert b"rebuilt from netlab's events (capturing packets needs root or CAP_NET_RAW)" in result.stderr
    assert "no raw sockets" in tshark("-r", str(path), "-q", "-z", "follow,tcp,ascii,0")
    assert tshark("-r", str(path), "-Y", "tcp.analysis.flags") == ""


@needs_root
def test_pcap_from_wire_without_rights_is_one_clear_error(serve, tmp_path):
    server = serve("tcp-echo", "--port", "0")
    result = subprocess.run(["setpriv", "--bounding-set", "-net_raw",
                             *netlab_cmd("send", "tcp", server.host, str(server.port), "x",
                                         "--pcap", str(tmp_path / "x.pcap"), "--pcap-from", "wire")],
                            capture_output=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.decode().strip().splitlines() == [
        "netlab: capturing packets needs root or CAP_NET_RAW"]


def test_http_server_capture_decodes_as_http(serve, tmp_path):
    path = tmp_path / "http.pcap"
    server = serve("http", "--port", "0", "--pcap", str(path), "--pcap-from", "journal")
    request = b"POST /post HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n" \
              b"Connection: close\r\n\r\n{\"a\": 1}\n"
    sent = run_netlab("send", "tcp", server.host, str(server.port), "--until-eof", input=request)
    assert sent.returncode == 0 and sent.stdout.startswith(b"HTTP/1.1 200")
    assert server.stop() == 0
    fields = tshark("-r", str(path), "-Y", "http", "-T", "fields", "-e", "http.request.method",
                    "-e", "http.response.code", "-e", "http.content_type")
    assert fields.splitlines()[0].startswith("POST\t\tapplication/json")
    assert fields.splitlines()[1].startswith("\t200\t")


def test_journal_file_is_the_event_contract(serve, tmp_path):
    server = serve("tcp-echo", "--port", "0")
    path = tmp_path / "events.jsonl"
    sent = run_netlab("send", "tcp", server.host, str(server.port), "hi", "--journal", str(path))
    assert sent.returncode == 0
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["kind"] for e in events] == ["connect", "data", "data", "close"]
    assert all(set(e) == {"ts", "source", "proto", "kind", "direction", "local", "peer", "conn", "size", "text",
                          "hex", "meta", "host"} for e in events)
    assert events[1]["hex"] == "6869"


def test_bad_pcap_path_is_one_line(serve, tmp_path):
    server = serve("tcp-echo", "--port", "0")
    result = run_netlab("send", "tcp", server.host, str(server.port), "x", "--pcap", str(tmp_path / "no" / "x.pcap"))
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"netlab: --pcap {tmp_path / 'no' / 'x.pcap'}: directory " \
                                             f"{tmp_path / 'no'} does not exist"
