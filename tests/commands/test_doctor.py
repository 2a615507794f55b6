"""``netlab doctor``: every tool reported from the real machine; with an empty PATH it names what is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

EXPECTED = ["nmap", "ssh", "ssh-keyscan", "sshd", "php", "tshark", "bc", "socat", "nc", "loopback", "ipv6-loopback",
            "raw-sockets", "inotify-watches"]


def doctor(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "netlab_tui", "doctor", *args], capture_output=True, timeout=60,
                          env=env)


def test_doctor_reports_every_tool_and_passes_here():
    result = doctor()
    out = result.stdout.decode()
    assert result.returncode == 0, out  # CI installs every Debian package the labs need
    names = [line.split()[1] for line in out.splitlines() if line.startswith(("ok", "missing", "MISSING"))]
    for name in EXPECTED:
        assert name in names, f"{name} not reported:\n{out}"
    assert any(name.startswith("port") for name in names)  # the servers' default ports
    assert "everything the labs need is here" in out
    findings = json.loads(doctor("--json").stdout)
    assert {f["name"] for f in findings} >= set(EXPECTED)
    nmap = next(f for f in findings if f["name"] == "nmap")
    assert nmap["ok"] and "port-scan" in nmap["needed_by"] and nmap["required"]


def test_doctor_with_an_empty_path_exits_1_and_names_what_is_missing():
    result = doctor(path="")
    out = result.stdout.decode()
    assert result.returncode == 1
    assert "MISSING nmap" in out and "sudo apt-get install nmap" in out and "port-scan" in out.split("MISSING nmap")[1].split("\n")[0]
    assert "MISSING bc" in out and "sudo apt-get install bc" in out
    assert "MISSING php" in out and "php-cli" in out
    assert "missing tshark" in out and "sudo apt-get install tshark" in out  # reported; no shipped lab needs it
    assert "things the labs need are missing: " in out and "Traceback" not in result.stderr.decode()
