"""``netlab scan`` as a user runs it: real child processes, real ports, real nmap."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import run_netlab

needs_nmap = pytest.mark.skipif(shutil.which("nmap") is None, reason="nmap is not installed")


@pytest.fixture
def opened():
    """Two listening ports and one closed one, owned by the test."""
    socks = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        socks.append(s)
    gone = socket.socket()
    gone.bind(("127.0.0.1", 0))
    closed = gone.getsockname()[1]
    gone.close()
    yield sorted(s.getsockname()[1] for s in socks), closed
    for s in socks:
        s.close()


def json_lines(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def nmap_open(spec: str) -> set[int]:
    xml = subprocess.run(["nmap", "-sT", "-Pn", "-n", "-p", spec, "-oX", "-", "127.0.0.1"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return {int(p.get("portid")) for p in ET.fromstring(xml).iter("port") if p.find("state").get("state") == "open"}


@needs_nmap
@pytest.mark.parametrize("engine", ["nmap", "connect"])
def test_json_events_match_nmap(opened, engine):
    ports, closed = opened
    spec = ",".join(map(str, [*ports, closed]))
    result = run_netlab("scan", "127.0.0.1", "-p", spec, "--engine", engine, "--json")
    assert result.returncode == 0, result.stderr
    events = json_lines(result.stdout)
    assert all(set(e) >= {"ts", "source", "proto", "kind", "meta"} for e in events)
    port_events = [e for e in events if e["kind"] == "port"]
    assert sorted(e["meta"]["port"] for e in port_events) == sorted([*ports, closed])
    found = {e["meta"]["port"] for e in port_events if e["meta"]["state"] == "open"}
    assert found == set(ports) == nmap_open(spec)
    assert events[-1]["meta"]["summary"] is True


@needs_nmap
def test_human_table(opened):
    ports, closed = opened
    spec = ",".join(map(str, [*ports, closed]))
    result = run_netlab("scan", "localhost", "-p", spec)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "PORT" in out and "STATE" in out and "SERVICE" in out
    for port in ports:
        assert f"{port}/tcp" in out
    assert f"{closed}/tcp" not in out  # closed ports only with --all
    assert "2 open" in out.splitlines()[-1]
    with_all = run_netlab("scan", "127.0.0.1", "-p", spec, "--all", "--engine", "connect")
    rows = [line.split()[:2] for line in with_all.stdout.decode().splitlines()]
    assert [f"{closed}/tcp", "closed"] in rows


def test_fallback_when_nmap_is_hidden_from_path(opened, tmp_path):
    ports, closed = opened
    spec = ",".join(map(str, [*ports, closed]))
    result = run_netlab("scan", "127.0.0.1", "-p", spec, env={"PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "note: nmap is not installed" in out and "connect scan" in out
    assert all(f"{port}/tcp" in out for port in ports)


@pytest.mark.parametrize(("args", "message"), [
    (("127.0.0.1", "-p", "0-10"), "port 0 is out of range"),
    (("127.0.0.1", "-p", "80-x"), "invalid port"),
    (("no-such-host.invalid", "-p", "80"), "cannot resolve host"),
    (("192.0.2.10", "-p", "80"), "outside the loopback range"),
    (("127.0.0.1", "-p", "80", "--engine", "connect", "--syn"), "SYN scan needs nmap"),
])
def test_errors_are_one_line(args, message):
    result = run_netlab("scan", *args)
    assert result.returncode == 1
    err = result.stderr.decode()
    assert err.startswith("netlab: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_outside_loopback_mentions_yes():
    result = run_netlab("scan", "192.0.2.10", "-p", "80")
    assert "--yes" in result.stderr.decode()
    assert result.stdout == b""  # nothing was scanned


@needs_nmap
def test_compare_from_an_ssh_host(opened, tmp_path, serve):
    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "id_ed25519"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    (tmp_path / "authorized_keys").write_bytes(public + b" test\n")
    server = serve("ssh", "--port", "0", "--authorized-keys", str(tmp_path / "authorized_keys"),
                   "--host-key", str(tmp_path / "host_key"))
    ports, closed = opened
    spec = ",".join(map(str, [*ports, closed]))
    common = ("scan", "127.0.0.1", "-p", spec, "--compare-from", f"127.0.0.1:{server.port}",
              "-i", str(key_file), "--known-hosts", str(tmp_path / "known_hosts"))
    refused = run_netlab(*common)
    assert refused.returncode == 1 and "--trust" in refused.stderr.decode()
    result = run_netlab(*common, "--trust")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    header = next(line for line in lines if "PORT" in line)
    assert "local" in header and f"127.0.0.1:{server.port}" in header
    for port in ports:
        row = next(line for line in lines if f"{port}/tcp" in line)
        assert row.split()[-2:] == ["open", "open"]
    assert lines[-1].startswith("the same from local")
    as_json = json_lines(run_netlab(*common, "--json").stdout)
    summary = next(e for e in as_json if (e["meta"] or {}).get("comparison"))
    assert summary["meta"]["comparison"]["differences"] == []
    assert {v["label"] for v in summary["meta"]["comparison"]["vantages"]} >= {"local"}


def test_help_lists_the_options():
    out = run_netlab("scan", "--help").stdout.decode()
    for option in ("--engine", "--yes", "--compare-from", "--json", "-p PORTS"):
        assert option in out


@pytest.mark.parametrize("engine", ["connect", "nmap"])
def test_ctrl_c_stops_a_long_scan_cleanly(engine):
    if engine == "nmap" and shutil.which("nmap") is None:
        pytest.skip("nmap is not installed")
    import signal
    import time

    from tests.conftest import netlab_cmd

    proc = subprocess.Popen(netlab_cmd("scan", "127.0.0.0/29", "-p", "all", "--engine", engine),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = proc.stdout.readline().decode()
        assert first.startswith("scanning 65,535 ports on 127.0.0.0/29 (6 hosts), 393,210 in all"), first
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
    assert out.decode().splitlines()[-1].startswith("scan stopped:")
    if engine == "nmap":
        leftover = subprocess.run(["pgrep", "-f", "nmap -oX - -sT -Pn -T4 -n --stats-every"], capture_output=True)
        assert leftover.stdout == b""  # nmap itself was ended with the scan
