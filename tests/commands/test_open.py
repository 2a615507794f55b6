"""``netlab open FILE``: journals and captures, printed for scripts (the TUI form is in tests/ui)."""

import json
import shutil

import pytest

from netlab_tui.commands.open import load_events
from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.inspect import capture
from tests.conftest import run_netlab

EVENTS = [
    TrafficEvent("tcp-echo@127.0.0.1:9999", "tcp", "listen", local="127.0.0.1:9999", message="listening", ts=100.0),
    TrafficEvent("tcp-echo@127.0.0.1:9999", "tcp", "accept", None, "127.0.0.1:9999", "127.0.0.1:50000", "tcp-1",
                 message="connection from 127.0.0.1:50000", ts=101.0),
    TrafficEvent("tcp-echo@127.0.0.1:9999", "tcp", "data", "in", "127.0.0.1:9999", "127.0.0.1:50000", "tcp-1",
                 b'{"cmd": "list"}\n', ts=101.5),
    TrafficEvent("tcp-echo@127.0.0.1:9999", "tcp", "data", "out", "127.0.0.1:9999", "127.0.0.1:50000", "tcp-1",
                 b'{"cmd": "list"}\n', ts=101.6),
    TrafficEvent("tcp-echo@127.0.0.1:9999", "tcp", "close", None, "127.0.0.1:9999", "127.0.0.1:50000", "tcp-1",
                 message="127.0.0.1:50000 closed the connection", meta={"by": "peer"}, ts=102.0),
]


@pytest.fixture
def journal_file(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in EVENTS))
    return path


def out(*args) -> str:
    result = run_netlab("open", *map(str, args))
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def test_print_and_json_round_trip(journal_file):
    lines = out(journal_file, "--print").splitlines()
    assert len(lines) == 5 and lines[2].split()[0] == "3" and '{"cmd": "list"}␊' in lines[2]
    events = [json.loads(line) for line in out(journal_file, "--json").splitlines()]
    assert events == [e.to_dict() for e in EVENTS]


def test_filter_narrows_and_errors_point_at_the_column(journal_file):
    lines = out(journal_file, "--print", "--filter", "data and dir in").splitlines()
    assert [line.split()[0] for line in lines] == ["3"]
    bad = run_netlab("open", str(journal_file), "--print", "--filter", "data and port x")
    assert bad.returncode == 1
    assert bad.stderr.decode().splitlines() == [
        "netlab: --filter: column 15: port wants a port number, not 'x'",
        "  data and port x",
        "                ^",
    ]
    assert "Fields (FIELD [OP] VALUE):" in out(journal_file, "--filter", "help")


def test_conversations_follow_flow_and_inspect(journal_file):
    table = out(journal_file, "--conversations").splitlines()
    assert table[1].split()[:7] == ["tcp-1", "tcp", "127.0.0.1:50000", "→", "127.0.0.1:9999", "4", "16"]
    assert out(journal_file, "--follow", "tcp-1").splitlines()[1:] == ['{"cmd": "list"}'] * 2
    assert "7b22636d64223a20226c697374227d0a" in out(journal_file, "--follow", "tcp-1", "--as", "raw")
    flow = out(journal_file, "--flow", "tcp-1", "--width", "80")
    assert "127.0.0.1:50000 (client)" in flow and "connect" in flow and "close" in flow
    inspected = out(journal_file, "--inspect", "3")
    assert "── JSON ──" in inspected and '"cmd": "list"' in inspected
    assert "Hex dump" in out(journal_file, "--inspect", "3", "--view", "hex")


def test_unknown_conversation_event_or_decoder(journal_file):
    result = run_netlab("open", str(journal_file), "--follow", "tcp-9")
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"netlab: no conversation 'tcp-9' in {journal_file}; conversations: tcp-1"
    result = run_netlab("open", str(journal_file), "--inspect", "42")
    assert result.stderr.decode().strip() == "netlab: no event number 42 (the file has 5 events)"
    result = run_netlab("open", str(journal_file), "--inspect", "3", "--view", "klingon")
    assert result.stderr.decode().startswith("netlab: no decoder 'klingon'; choose from auto, form, hex")


def test_bad_files_are_one_line(tmp_path):
    missing = run_netlab("open", str(tmp_path / "none.jsonl"), "--print")
    assert missing.returncode == 1 and missing.stderr.decode().strip().endswith("none.jsonl: no such file")
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"source": "x", "proto": "tcp", "kind": "data"}\nnot json\n')
    result = run_netlab("open", str(junk), "--print")
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"netlab: {junk}:2: not a netlab event (Expecting value: line 1 " \
                                             "column 1 (char 0))"
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = run_netlab("open", str(binary), "--print")
    assert result.returncode == 1 and "neither a JSONL journal nor a pcap" in result.stderr.decode()


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_journal_to_pcap_and_pcap_back_to_events(journal_file, tmp_path):
    pcap = tmp_path / "out.pcap"
    result = run_netlab("open", str(journal_file), "--pcap", str(pcap))
    assert result.returncode == 0 and b"wrote 11 packets" in result.stderr
    events = load_events(pcap)
    assert [e.kind for e in events] == ["connect", "accept", "ack", "data", "ack", "data", "ack", "close", "ack",
                                        "close", "ack"]
    assert events[3].payload == b'{"cmd": "list"}\n' and events[3].direction == "in"
    assert events == capture.read_pcap(pcap)
    lines = out(pcap, "--print", "--filter", "data").splitlines()
    assert len(lines) == 2
