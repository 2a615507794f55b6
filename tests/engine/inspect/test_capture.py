"""Captures: packets rebuilt from the journal and captured on lo, read back by tshark and by netlab."""

import asyncio
import shutil
import subprocess

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.inspect import capture
from netlab_tui.engine.inspect.conversations import follow_stream
from netlab_tui.engine.sockets.behaviours import EchoBehaviour
from netlab_tui.engine.sockets.tcp import TcpClient, TcpServer
from tests._capture import needs_capture, needs_root, needs_tshark, tshark

pytestmark = needs_tshark


async def echo(journal, registry, host="127.0.0.1", messages=(b"Hello\n", b"second line\n")):
    server = await registry.start(TcpServer(journal, EchoBehaviour(), host=host, port=0))
    client = await registry.start(TcpClient(journal, host, server.port))
    for message in messages:
        got = asyncio.Event()
        remove = client.on_receive(lambda chunk: got.set())
        await client.send(message)
        await asyncio.wait_for(got.wait(), 5)
        remove()
    await registry.stop(client)
    for _ in range(100):
        if any(e.kind == "close" and e.source == server.name for e in journal.events()):
            break
        await asyncio.sleep(0.02)
    return server, client


async def test_rebuilt_capture_follows_in_tshark_once_per_byte(journal, registry, tmp_path):
    # netlab is both ends here: the client's and the server's events describe one TCP connection
    await echo(journal, registry)
    path = tmp_path / "echo.pcap"
    assert capture.write_pcap(journal.events(), path) == 15  # 3 handshake + 4×(data, ack) + 4 closing
    follow = tshark("-r", str(path), "-q", "-z", "follow,tcp,ascii,0")
    assert follow.count("Hello") == 2 and follow.count("second line") == 2
    assert "Node 0: 127.0.0.1:" in follow
    flags = tshark("-r", str(path), "-T", "fields", "-e", "tcp.flags.str")
    assert flags.splitlines()[:3] == ["··········S·", "·······A··S·", "·······A····"]
    assert sum("F" in line for line in flags.splitlines()) == 2
    # consistent seq/ack: tshark finds no retransmission, lost segment or unseen ACK
    assert tshark("-r", str(path), "-Y", "tcp.analysis.flags") == ""


async def test_ipv6_rebuilt_capture(journal, registry, tmp_path):
    await echo(journal, registry, host="::1", messages=(b"over six\n",))
    path = tmp_path / "v6.pcap"
    capture.write_pcap(journal.events(), path)
    assert "over six" in tshark("-r", str(path), "-q", "-z", "follow,tcp,ascii,0")
    assert set(tshark("-r", str(path), "-T", "fields", "-e", "ipv6.src").split()) == {"::1"}


def test_udp_datagrams_are_rebuilt(tmp_path):
    events = [
        TrafficEvent("udp-echo@127.0.0.1:7000", "udp", "data", "in", "127.0.0.1:7000", "127.0.0.1:40000",
                     "udp-1", b"ping"),
        TrafficEvent("udp-echo@127.0.0.1:7000", "udp", "data", "out", "127.0.0.1:7000", "127.0.0.1:40000",
                     "udp-1", b"Recu: ping"),
    ]
    path = tmp_path / "udp.pcap"
    assert capture.write_pcap(events, path) == 2
    fields = tshark("-r", str(path), "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "data.data")
    assert fields.splitlines() == ["40000\t7000\t70696e67", "7000\t40000\t526563753a2070696e67"]
    back = capture.read_pcap(path)  # the first sender is the client, whatever the port numbers
    assert [(e.direction, e.local, e.peer, e.payload) for e in back] == [
        ("in", "127.0.0.1:7000", "127.0.0.1:40000", b"ping"), ("out", "127.0.0.1:7000", "127.0.0.1:40000",
                                                              b"Recu: ping")]


async def test_http_exchanges_on_one_keep_alive_connection_decode_in_tshark(journal, registry, tmp_path):
    server = await registry.start(server_kinds()["http"].create(journal, host="127.0.0.1", port=0))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for path in ("/get?a=1", "/status/404"):
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        await reader.readexactly(length)
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.2)
    path = tmp_path / "http.pcap"
    capture.write_pcap(journal.events(), path)
    http = tshark("-r", str(path), "-Y", "http", "-T", "fields", "-e", "tcp.stream", "-e", "http.request.uri",
                  "-e", "http.response.code")
    assert http.splitlines() == ["0\t/get?a=1\t", "0\t\t200", "0\t/status/404\t", "0\t\t404"]


@needs_capture
async def test_live_capture_on_lo_records_the_real_handshake(journal, registry, tmp_path):
    path = tmp_path / "live.pcap"
    recorder = capture.PcapRecorder(path, journal, mode="wire")
    recorder.watch_listen()
    await echo(journal, registry, messages=(b"on the wire\n",))
    summary = await asyncio.to_thread(recorder.close)
    assert "captured on lo" in summary
    assert recorder.source == "wire" and recorder.packets >= 9
    # options the kernel sets and netlab never writes: the packets are the real ones
    assert "65495" in tshark("-r", str(path), "-T", "fields", "-e", "tcp.options.mss_val")
    assert tshark("-r", str(path), "-q", "-z", "follow,tcp,ascii,0").count("on the wire") == 2
    events = capture.read_pcap(path)
    assert [e.kind for e in events[:3]] == ["connect", "accept", "ack"]
    assert len({e.meta["frame"] for e in events}) == recorder.packets  # each packet once, not twice on lo


async def test_journal_mode_records_what_came_before_it_started(journal, registry, tmp_path):
    server, client = await echo(journal, registry, messages=(b"early\n",))
    recorder = capture.PcapRecorder(tmp_path / "j.pcap", journal, mode="journal")
    recorder.watch_listen()
    assert "rebuilt from netlab's events" in recorder.close()
    assert b"early" in b"".join(e.payload or b"" for e in capture.read_pcap(tmp_path / "j.pcap"))


@needs_root
def test_wire_mode_refuses_without_permission(tmp_path):
    code = ("from netlab_tui.engine.inspect.capture import LoopbackCapture, CaptureUnavailable\n"
            f"c = LoopbackCapture({str(tmp_path / 'x.pcap')!r}, 'inbound and port 1')\n"
            "try:\n    c.start()\nexcept CaptureUnavailable as e:\n    print('refused:', e)\n")
    import sys

    result = subprocess.run(["setpriv", "--bounding-set", "-net_raw", sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "refused: capturing packets needs root or CAP_NET_RAW", result.stderr


def test_read_pcapng_retransmissions_and_non_ip(tmp_path):
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import ARP, Ether
    from scapy.utils import wrpcap

    def seg(src, dst, sport, dport, flags, seq, ack=0, load=b""):
        p = Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack)
        return p / load if load else p

    a, b = "127.0.0.1", "127.0.0.2"
    packets = [
        seg(a, b, 5000, 80, "S", 100), seg(b, a, 80, 5000, "SA", 900, 101), seg(a, b, 5000, 80, "A", 101, 901),
        seg(a, b, 5000, 80, "PA", 101, 901, b"abc"), seg(a, b, 5000, 80, "PA", 101, 901, b"abc"),  # resent
        seg(b, a, 80, 5000, "PA", 901, 104, b"xyz"), seg(a, b, 5000, 80, "RA", 104, 904),
        Ether() / ARP(),
    ]
    for i, p in enumerate(packets):
        p.time = 1000 + i / 10
    wrpcap(str(tmp_path / "x.pcap"), packets)
    if shutil.which("editcap"):
        subprocess.run(["editcap", "-F", "pcapng", str(tmp_path / "x.pcap"), str(tmp_path / "x.pcapng")],
                       check=True, timeout=60)
        path = tmp_path / "x.pcapng"
    else:
        path = tmp_path / "x.pcap"
    events = capture.read_pcap(path)
    assert [e.kind for e in events] == ["connect", "accept", "ack", "data", "data", "data", "close", "info"]
    assert events[0].local == "127.0.0.2:80" and events[0].peer == "127.0.0.1:5000"  # the server is "local"
    assert [e.direction for e in events[:7]] == ["in", "out", "in", "in", "in", "out", "in"]
    assert events[3].meta["seq"] == 1 and events[1].meta["ack"] == 1
    assert events[4].meta.get("retransmission") is True
    assert "1 packets that are not TCP/UDP" in events[-1].message
    stream = follow_stream(events, "tcp-1")
    assert stream.data() == b"abcxyz"  # the retransmitted copy is not shown twice
    assert [e.seq for e in events] == list(range(1, 9))


def test_reading_garbage_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 3)
    with pytest.raises(capture.NetlabError):
        capture.read_pcap(bad)
    with pytest.raises(capture.NetlabError, match="no such file"):
        capture.read_pcap(tmp_path / "missing.pcap")


def test_recorder_checks_the_path_first(journal, tmp_path):
    with pytest.raises(capture.NetlabError, match="does not exist"):
        capture.PcapRecorder(tmp_path / "nope" / "x.pcap", journal)
    with pytest.raises(capture.NetlabError, match="is a directory"):
        capture.PcapRecorder(tmp_path, journal)


def test_bpf_filters_are_inbound_only():
    assert capture.bpf_for(9999) == "inbound and port 9999"
    assert capture.bpf_for(53, "127.0.0.1", "udp") == "inbound and udp port 53 and host 127.0.0.1"
