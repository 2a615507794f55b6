"""Port scans of loopback ports the tests open themselves, checked against nmap run directly."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from netlab_tui.engine.core.journal import by_kind
from netlab_tui.engine.core.sessions import NetlabError, SessionStatus
from netlab_tui.engine.scan.scanner import (
    ScanPolicyError,
    ScanSession,
    ScanTarget,
    _classify,
    format_ports,
    is_loopback,
    parse_nmap_xml,
    parse_ports,
    resolve_targets,
    service_name,
    top_ports,
)

needs_nmap = pytest.mark.skipif(shutil.which("nmap") is None, reason="nmap is not installed")


class Ports:
    """Listening sockets the test owns, and ports known to be closed (bound, then released)."""

    def __init__(self, opened: int = 3, closed: int = 5, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listeners = []
        for _ in range(opened):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sock.listen(16)
            self.listeners.append(sock)
        self.open = sorted(s.getsockname()[1] for s in self.listeners)
        self.closed = []
        for _ in range(closed):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.bind((host, 0))
            self.closed.append(sock.getsockname()[1])
            sock.close()
        self.all = sorted(set(self.open) | set(self.closed))
        self.spec = ",".join(map(str, self.all))

    def close(self) -> None:
        for sock in self.listeners:
            sock.close()


@pytest.fixture
def ports():
    p = Ports()
    yield p
    p.close()


def nmap_direct(ports: str, host: str = "127.0.0.1") -> set[int]:
    """The open ports according to nmap itself (a plain subprocess, no netlab code)."""
    args = ["nmap", "-sT", "-Pn", "-n", "-p", ports, "-oX", "-", host]
    if ":" in host:
        args.insert(1, "-6")
    xml = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    root = ET.fromstring(xml)
    return {int(p.get("portid")) for p in root.iter("port") if p.find("state").get("state") == "open"}


async def run_scan(journal, registry, target: str, ports: str, **options) -> ScanSession:
    session = ScanSession(journal, target, ports, **options)
    await registry.start(session)
    async with asyncio.timeout(60):
        await session.wait_closed()
    return session


# -- ports and targets ---------------------------------------------------------------------------------
def test_port_lists_and_ranges():
    assert parse_ports("22,80,8000-8003") == [22, 80, 8000, 8001, 8002, 8003]
    assert parse_ports("80, 22 ,80") == [22, 80]
    assert parse_ports("65530-") == [65530, 65531, 65532, 65533, 65534, 65535]
    assert parse_ports("-3") == [1, 2, 3]
    assert parse_ports("-") == list(range(1, 65536)) == parse_ports("all")
    assert len(parse_ports(None)) == 1000 == len(parse_ports(""))
    assert parse_ports("top:10") == sorted(top_ports(10)) and len(parse_ports("top10")) == 10
    assert format_ports([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"
    assert parse_ports(format_ports(range(1, 2000, 3))) == list(range(1, 2000, 3))


@pytest.mark.parametrize(("spec", "message"), [
    ("0", "port 0 is out of range"),
    ("70000", "port 70000 is out of range"),
    ("80-70000", "port 70000 is out of range"),
    ("http", "invalid port 'http'"),
    ("90-80", "90 is above 80"),
    ("1,,x", "invalid port 'x'"),
    ("top:0", "top:N"),
])
def test_bad_port_lists_are_one_clear_line(spec, message):
    with pytest.raises(NetlabError, match=message) as info:
        parse_ports(spec)
    assert "\n" not in str(info.value)


def test_service_names_follow_nmap():
    assert service_name(22) == "ssh"
    assert service_name(80) == "http"
    if shutil.which("nmap"):
        assert 22 in top_ports(20) and 80 in top_ports(20)


async def test_targets_are_resolved_first():
    targets = await resolve_targets("127.0.0.1, localhost 127.0.0.0/30")
    assert [t.address for t in targets][:1] == ["127.0.0.1"]
    assert {"127.0.0.1", "127.0.0.2"} <= {t.address for t in targets}
    assert all(t.loopback for t in targets)
    with pytest.raises(NetlabError, match="cannot resolve host 'no-such-host.invalid'"):
        await resolve_targets("no-such-host.invalid")
    with pytest.raises(NetlabError, match="at most 256 hosts"):
        await resolve_targets("10.0.0.0/16")
    with pytest.raises(NetlabError, match="invalid network"):
        await resolve_targets("127.0.0.1/40")
    with pytest.raises(NetlabError, match="no target"):
        await resolve_targets(" , ")


def test_loopback_policy():
    assert is_loopback("127.0.0.1") and is_loopback("127.9.8.7") and is_loopback("::1")
    assert is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("10.0.0.1") and not is_loopback("192.0.2.7") and not is_loopback("::2")


async def test_targets_outside_loopback_need_confirmation(journal, registry):
    session = ScanSession(journal, "127.0.0.1,192.0.2.7", "80")
    with pytest.raises(ScanPolicyError) as info:
        await registry.start(session)
    assert info.value.addresses == ["192.0.2.7"]
    assert "outside the loopback range" in str(info.value)
    assert not journal.events(by_kind("port"))  # nothing was probed
    assert session not in list(registry)


def test_bad_arguments_fail_before_anything_runs(journal):
    with pytest.raises(NetlabError, match="unknown scan engine"):
        ScanSession(journal, "127.0.0.1", "80", engine="masscan")
    with pytest.raises(NetlabError, match="out of range"):
        ScanSession(journal, "127.0.0.1", "65536")
    with pytest.raises(NetlabError, match="timeout"):
        ScanSession(journal, "127.0.0.1", "80", timeout=0)


# -- scanning ------------------------------------------------------------------------------------------
@needs_nmap
@pytest.mark.parametrize("engine", ["nmap", "connect"])
async def test_both_engines_agree_with_nmap(journal, registry, ports, engine):
    session = await run_scan(journal, registry, "127.0.0.1", ports.spec, engine=engine)
    assert session.engine == engine and session.error is None
    assert session.status == SessionStatus.STOPPED
    expected = nmap_direct(ports.spec)
    assert expected == set(ports.open)
    assert set(session.open_ports()) == expected
    # One port event per port, with the contract's meta.
    events = journal.events(by_kind("port"))
    assert sorted(e.meta["port"] for e in events) == ports.all
    for event in events:
        assert event.proto == "scan" and event.source == session.name
        assert {"host", "port", "state", "service"} <= event.meta.keys()
        assert event.meta["host"] == "127.0.0.1"
        assert event.meta["state"] == ("open" if event.meta["port"] in ports.open else "closed")
        assert event.peer == f"127.0.0.1:{event.meta['port']}"
        assert event.meta["service"] == service_name(event.meta["port"])
    assert session.progress.done == session.progress.total == len(ports.all)
    assert session.progress.fraction == 1.0 and session.progress.eta == 0.0
    summary = journal.events(lambda e: e.kind == "info" and (e.meta or {}).get("summary"))
    assert len(summary) == 1 and summary[0].meta["open"] == {"127.0.0.1": ports.open}


@needs_nmap
async def test_nmap_engine_over_a_range_with_extraports(journal, registry, ports):
    """nmap folds closed ports into <extraports>; every port still gets its event."""
    low, high = ports.open[0] - 40, ports.open[0] + 40
    spec = f"{max(1, low)}-{min(65535, high)}"
    session = await run_scan(journal, registry, "127.0.0.1", spec, engine="nmap")
    assert len(journal.events(by_kind("port"))) == len(parse_ports(spec))
    assert ports.open[0] in session.open_ports()
    assert set(session.open_ports()) == nmap_direct(spec)


async def test_connect_engine_on_ipv6_loopback(journal, registry):
    try:
        p = Ports(opened=2, closed=2, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        session = await run_scan(journal, registry, "::1", p.spec, engine="connect")
        assert session.open_ports("::1") == p.open
        port_event = journal.events(by_kind("port"))[0]
        assert port_event.peer.startswith("[::1]:")
        if shutil.which("nmap"):
            assert set(p.open) == nmap_direct(p.spec, host="::1")
    finally:
        p.close()


@needs_nmap
async def test_nmap_engine_on_ipv6_loopback(journal, registry):
    try:
        p = Ports(opened=1, closed=2, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        session = await run_scan(journal, registry, "::1", p.spec, engine="nmap")
        assert session.error is None and session.open_ports() == p.open
    finally:
        p.close()


async def test_fallback_to_connect_when_nmap_is_missing(journal, registry, ports, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no nmap on the PATH
    session = await run_scan(journal, registry, "127.0.0.1", ports.spec, engine="nmap")
    assert session.requested_engine == "nmap" and session.engine == "connect"
    assert session.notes and "nmap is not installed" in session.notes[0]
    notes = [e for e in journal.events(by_kind("info")) if (e.meta or {}).get("note")]
    assert notes and "connect scanner" in notes[0].text
    assert session.open_ports() == ports.open


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("nmap") is None,
                    reason="SYN scans need root and nmap")
async def test_syn_scan_as_root(journal, registry, ports):
    session = await run_scan(journal, registry, "127.0.0.1", ports.spec, engine="nmap", syn=True)
    assert session.error is None and session.open_ports() == ports.open
    assert "nmap -sS" in journal.events(by_kind("info"))[0].text


async def test_syn_scan_needs_nmap(journal, registry):
    session = ScanSession(journal, "127.0.0.1", "80", engine="connect", syn=True)
    with pytest.raises(NetlabError, match="SYN scan needs nmap"):
        await registry.start(session)


@needs_nmap
@pytest.mark.parametrize("engine", ["nmap", "connect"])
async def test_stop_ends_a_long_scan_at_once(journal, registry, engine):
    session = ScanSession(journal, "127.0.0.1,127.0.0.2,127.0.0.3", "-", engine=engine)
    await registry.start(session)
    await asyncio.sleep(0.3)
    async with asyncio.timeout(5):
        await session.stop()
    assert session.status == SessionStatus.STOPPED
    assert session.progress.done < session.progress.total
    summary = journal.events(lambda e: (e.meta or {}).get("summary"))
    assert summary and summary[-1].meta["stopped"] is True
    if engine == "nmap":
        assert session._proc is None or session._proc.poll() is not None  # nmap itself was ended


async def test_progress_and_eta_while_running(journal, registry):
    session = ScanSession(journal, "127.0.0.1", "1-30000", engine="connect")
    seen = []

    def sample(event):
        if event.kind == "port" and len(seen) < 3 and event.meta["port"] % 5000 == 0:
            seen.append((session.progress.done, session.progress.eta))

    journal.subscribe(sample)
    await registry.start(session)
    await session.wait_closed()
    assert seen and all(done > 0 and eta is not None and eta >= 0 for done, eta in seen)
    assert session.progress.done == 30000


def test_a_connection_to_itself_is_not_an_open_port():
    """TCP simultaneous open: a connect can land on its own source port and seem to succeed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.connect(sock.getsockname())
        assert sock.getsockname() == sock.getpeername()
        assert _classify(sock, 0) == ("closed", "self-connect")
    finally:
        sock.close()


def test_parse_nmap_xml_expands_extraports():
    xml = """<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap -sT -p 1-10 127.0.0.1" start="1" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="10" services="1-10"/>
<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="127.0.0.1" addrtype="ipv4"/>
<ports><extraports state="closed" count="8">
<extrareasons reason="conn-refused" count="8" proto="tcp" ports="1-2,4-8,10"/>
</extraports>
<extraports state="filtered" count="1"><extrareasons reason="no-response" count="1" proto="tcp" ports="9"/></extraports>
<port protocol="tcp" portid="3"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="compressnet" method="table" conf="3"/></port>
</ports></host>
<runstats><finished time="2" timestr="x" elapsed="0.1" summary="x" exit="success"/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>"""
    result = parse_nmap_xml(xml, range(1, 11))["127.0.0.1"]
    assert sorted(result) == list(range(1, 11))
    assert result[3][0] == "open" and result[3][1] == "compressnet"
    assert result[9][:1] == ("filtered",) and result[9][2] == "no-response"
    assert {result[p][0] for p in (1, 2, 4, 5, 6, 7, 8, 10)} == {"closed"}


def test_scan_target_loopback_property():
    assert ScanTarget("localhost", "127.0.0.1", socket.AF_INET).loopback
    assert not ScanTarget("x", "192.0.2.1", socket.AF_INET).loopback


def test_engine_never_imports_textual():
    code = "import sys, netlab_tui.engine.scan.scanner, netlab_tui.engine.watch.watcher; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "False"


async def test_too_many_probes_is_refused(journal, registry):
    with pytest.raises(NetlabError, match="probes: at most"):
        await registry.start(ScanSession(journal, "127.0.0.0/24", "all", engine="connect"))
