"""The same scan from here and over SSH (netlab's own lab SSH server on loopback), side by side."""

from __future__ import annotations

import asyncio
import shutil
import socket

import pytest

from netlab_tui.engine.core.journal import Journal, by_kind
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.scan.compare import (
    LOCAL,
    ScanCompareSession,
    ScanComparison,
    remote_nmap_command,
    vantage_from_scan,
)
from netlab_tui.engine.scan.scanner import ScanPolicyError, ScanSession
from netlab_tui.engine.ssh.client import HostResult, SshTarget
from netlab_tui.engine.ssh.server import SshLabServer

pytestmark = pytest.mark.skipif(shutil.which("nmap") is None, reason="the remote side runs nmap")


@pytest.fixture
async def lab_ssh(registry, tmp_path):
    """A netlab SSH lab server on loopback and a target that logs in to it with a password."""
    server = SshLabServer(Journal(), port=0, password="s3cret", host_key=str(tmp_path / "host_key"))
    await registry.start(server)

    def target(**changes) -> SshTarget:
        values = dict(host="127.0.0.1", port=server.port, password="s3cret", agent=False, look_for_keys=False,
                      known_hosts=str(tmp_path / "known_hosts"), trust=True)
        values.update(changes)
        return SshTarget(**values)

    return target


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


def free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


async def test_compare_from_here_and_over_ssh(registry, journal, lab_ssh, listener):
    port = listener.getsockname()[1]
    closed = free_port()
    spec = f"{port},{closed}"
    session = ScanCompareSession(journal, "127.0.0.1", spec, [lab_ssh()])
    await registry.start(session)
    async with asyncio.timeout(60):
        await session.wait_closed()
    assert session.error is None
    comparison = session.comparison
    assert [v.label for v in comparison.vantages] == [LOCAL, lab_ssh().label]
    assert all(v.error is None for v in comparison.vantages)
    for vantage in comparison.vantages:
        assert vantage.state(port) == "open" and vantage.state(closed) == "closed"
    assert comparison.differences == []
    # The remote results are port events too, saying where they were seen from.
    remote = [e for e in journal.events(by_kind("port")) if (e.meta or {}).get("vantage")]
    assert sorted(e.meta["port"] for e in remote) == sorted([port, closed])
    assert all(e.meta["vantage"] == lab_ssh().label and e.source == session.name for e in remote)
    summary = [e for e in journal.events() if (e.meta or {}).get("comparison")]
    assert summary and summary[0].meta["comparison"]["differences"] == []
    # The SSH session ran nmap there: its request is in the journal.
    assert any(e.proto == "ssh" for e in journal.events())


async def test_a_port_that_differs_is_marked(registry, journal, lab_ssh):
    """A service that stops between two looks: here it was open, from the SSH host it is closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    spec = f"{port},{free_port()}"
    local = ScanSession(journal, "127.0.0.1", spec, engine="connect")
    await registry.start(local)
    await local.wait_closed()
    sock.close()
    remote_only = ScanCompareSession(journal, "127.0.0.1", spec, [lab_ssh()], local=False)
    await registry.start(remote_only)
    await remote_only.wait_closed()
    comparison = ScanComparison("127.0.0.1", local.ports, [vantage_from_scan(local), *remote_only.comparison.vantages])
    assert comparison.differences == [port]
    row = comparison.row(port)
    assert row.states == ("open", "closed") and row.differs
    table = comparison.side_by_side()
    marked = [line for line in table if line.startswith("* ")]
    assert len(marked) == 1 and f"{port}/tcp" in marked[0]
    assert table[-1].startswith("1 difference between")


async def test_unknown_host_key_is_an_error_for_that_host_only(registry, journal, lab_ssh, listener, tmp_path):
    port = listener.getsockname()[1]
    session = ScanCompareSession(journal, "127.0.0.1", str(port),
                                 [lab_ssh(trust=False, known_hosts=str(tmp_path / "empty_known_hosts"))])
    await registry.start(session)
    await session.wait_closed()
    local, remote = session.comparison.vantages
    assert local.state(port) == "open"
    assert remote.error and "SHA256:" in remote.error
    assert remote.state(port) == "error"
    assert session.comparison.differences == []  # a host without a result is not a difference
    assert "host key" in "\n".join(session.comparison.side_by_side())


async def test_compare_policy_and_arguments(registry, journal, lab_ssh):
    with pytest.raises(ScanPolicyError):
        await registry.start(ScanCompareSession(journal, "192.0.2.1", "80", [lab_ssh()]))
    with pytest.raises(NetlabError, match="one host at a time"):
        await registry.start(ScanCompareSession(journal, "127.0.0.0/30", "80", [lab_ssh()]))
    with pytest.raises(NetlabError, match="no SSH host"):
        ScanCompareSession(journal, "127.0.0.1", "80", [])


def test_remote_command_and_missing_nmap_there(journal):
    assert remote_nmap_command("127.0.0.1", [22, 80, 81, 82]) == "nmap -oX - -sT -Pn -n -T4 -p 22,80-82 127.0.0.1"
    assert remote_nmap_command("a b;rm", [1]).endswith("'a b;rm'")  # quoted for the remote shell
    session = ScanCompareSession(journal, "127.0.0.1", "22", [SshTarget("127.0.0.1")])
    result = HostResult(SshTarget("127.0.0.1"), stderr=b"bash: line 1: nmap: command not found\n", code=127)
    vantage = session._remote_vantage(result, 0.1)
    assert vantage.error == "nmap is not installed there"
