"""``netlab ssh`` and ``netlab serve ssh`` as a user runs them: real OpenSSH sshd, real netlab server."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import paramiko
import pytest

from netlab_tui.engine.ssh.client import fingerprint
from tests.conftest import netlab_cmd, reap, run_netlab
from tests.sshd import sshd  # noqa: F401 - the fixture


@pytest.fixture
def env(tmp_path):
    """An isolated HOME and data directory for the netlab child, and no ssh-agent."""
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "data"), "SSH_AUTH_SOCK": ""}


@pytest.fixture
def known(tmp_path):
    return tmp_path / "known_hosts"


def ssh(sshd, known, *args, env, input=None):  # noqa: F811
    return run_netlab("ssh", "127.0.0.1", "-p", str(sshd.port), "-i", str(sshd.client_key),
                      "--known-hosts", str(known), *args, env=env, input=input)


def test_unknown_host_is_refused_with_fingerprint_then_trusted(sshd, known, env):  # noqa: F811
    result = ssh(sshd, known, "--", "echo", "hi", env=env)
    assert result.returncode == 255
    line = result.stderr.decode()
    assert line.count("\n") == 1 and line.startswith(f"netlab: unknown host key for [127.0.0.1]:{sshd.port}")
    assert sshd.fingerprint in line and "--trust" in line
    assert result.stdout == b"" and not known.exists()

    result = ssh(sshd, known, "--trust", "--", "echo", "hi", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hi\n"
    assert known.read_text() == sshd.known_hosts_line()

    result = ssh(sshd, known, "--", "echo", "again", env=env)
    assert result.returncode == 0 and result.stdout == b"again\n"


def test_remote_exit_status_and_separate_streams(sshd, known, env):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    result = ssh(sshd, known, "--", "echo out; echo err >&2; exit 9", env=env)
    assert result.returncode == 9
    assert result.stdout == b"out\n" and result.stderr == b"err\n"


def test_changed_host_key_is_refused_loudly(sshd, known, env):  # noqa: F811
    impostor = " ".join(Path(f"{sshd.bad_key}.pub").read_text().split()[:2])
    known.write_text(f"[127.0.0.1]:{sshd.port} {impostor}\n")
    result = ssh(sshd, known, "--trust", "--", "true", env=env)
    assert result.returncode == 255
    text = result.stderr.decode()
    assert text.startswith(f"netlab: HOST KEY CHANGED for [127.0.0.1]:{sshd.port}") and text.count("\n") == 1
    assert sshd.fingerprint in text and "ssh-keygen -R" in text
    assert known.read_text() == f"[127.0.0.1]:{sshd.port} {impostor}\n"


def test_bad_key_and_refused_port_are_one_line(sshd, known, env, tmp_path):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    result = run_netlab("ssh", f"127.0.0.1:{sshd.port}", "-i", str(sshd.bad_key), "--known-hosts", str(known),
                        "--", "true", env=env)
    assert result.returncode == 255
    assert result.stderr.decode() == (f"netlab: authentication failed for {sshd.user} on 127.0.0.1:{sshd.port} "
                                      f"(tried key {sshd.bad_key}, ~/.ssh keys)\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_netlab("ssh", "127.0.0.1", "-p", str(port), "--", "true", env=env)
    assert result.returncode == 255
    assert result.stderr.decode() == f"netlab: connection refused by 127.0.0.1:{port} (nothing is listening there)\n"
    result = run_netlab("ssh", "127.0.0.1", "-i", str(tmp_path / "missing"), "--", "true", env=env)
    assert result.returncode == 255 and result.stderr.decode() == f"netlab: key file not found: {tmp_path / 'missing'}\n"


def test_option_orders_and_the_form_without_dashes(sshd, known, env):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    result = run_netlab("ssh", "-p", str(sshd.port), f"{sshd.user}@127.0.0.1", "-i", str(sshd.client_key),
                        "--known-hosts", str(known), "--", "echo", "-p", "x", env=env)
    assert result.returncode == 0 and result.stdout == b"-p x\n"
    result = run_netlab("ssh", "-p", str(sshd.port), "-i", str(sshd.client_key), "--known-hosts", str(known),
                        "127.0.0.1", "echo", "bare", env=env)
    assert result.returncode == 0 and result.stdout == b"bare\n"
    result = run_netlab("ssh", "127.0.0.1", env=env)
    assert result.returncode == 2 and b"no command given" in result.stderr


def test_stdin_is_forwarded(sshd, known, env):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    result = ssh(sshd, known, "--", "tr", "a-z", "A-Z", env=env, input=b"abc\n")
    assert result.returncode == 0 and result.stdout == b"ABC\n"


def test_json_events(sshd, known, env):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    result = ssh(sshd, known, "--json", "--", "echo hi; exit 2", env=env)
    assert result.returncode == 2
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "connect" and "request" in kinds and kinds[-1] == "exit"
    assert all(e["proto"] == "ssh" for e in events)
    stdout = next(e for e in events if e["kind"] == "stdout")
    assert stdout["text"] == "hi\n" and stdout["direction"] == "in" and stdout["peer"] == f"127.0.0.1:{sshd.port}"
    assert events[-1]["meta"]["code"] == 2
    assert events[0]["meta"]["fingerprint"] == sshd.fingerprint


@pytest.fixture
def lab_server(serve, sshd, tmp_path):  # noqa: F811
    """``netlab serve ssh`` accepting sshd's client key and the password below."""
    return serve("ssh", "--port", "0", "--password", "Zq9-lab-secret", "--host-key", str(tmp_path / "lab_key"),
                 "--authorized-keys", f"{sshd.client_key}.pub")


def test_serve_ssh_prints_listen_first_and_stops_cleanly(lab_server):
    listen = lab_server.listen
    assert listen["kind"] == "listen" and listen["proto"] == "ssh"
    assert listen["meta"]["fingerprint"].startswith("SHA256:") and listen["meta"]["authorized_keys"] == 1
    assert "Zq9-lab-secret" not in json.dumps(listen)
    assert lab_server.stop() == 0


def test_serve_ssh_human_output_shows_the_whole_fingerprint_and_password(tmp_path):
    """Without --json the listen line is what the user reads to log in: never cut to the terminal width."""
    proc = subprocess.Popen(netlab_cmd("serve", "ssh", "--port", "0", "--host-key", str(tmp_path / "lab_key")),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "serve ssh printed nothing"
        line = proc.stdout.readline().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()
        proc.stderr.close()
    key = paramiko.Ed25519Key.from_private_key_file(str(tmp_path / "lab_key"))
    assert f"ssh-ed25519 {fingerprint(key)};" in line
    password = line.rsplit("password ", 1)[1].rstrip(")\n")
    assert len(password) >= 12


def test_password_prompt_is_not_echoed_or_logged(lab_server, env, known):
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        netlab_cmd("ssh", f"127.0.0.1:{lab_server.port}", "--known-hosts", str(known), "--trust",
                   "--password-prompt", "--no-keys", "--json", "--", "echo", "logged-in"),
        stdin=slave, stdout=slave, stderr=slave, env={**os.environ, **env}, start_new_session=True)
    os.close(slave)
    seen = b""

    def read_until(predicate, timeout=20.0):
        nonlocal seen
        deadline = time.monotonic() + timeout
        while not predicate(seen) and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk

    try:
        read_until(lambda s: b"password: " in s)
        assert b"password: " in seen
        os.write(master, b"Zq9-lab-secret\n")
        read_until(lambda s: b'"kind": "exit"' in s)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"logged-in" in seen
    assert b"Zq9-lab-secret" not in seen  # neither echoed by the terminal nor in any event
    server_events = lab_server.events(timeout=5, until=lambda e: e["kind"] == "close")
    auth = [e for e in server_events if e["kind"] == "auth"]
    assert auth and auth[-1]["meta"]["method"] == "password" and auth[-1]["meta"]["ok"] is True
    assert all("Zq9-lab-secret" not in json.dumps(e) for e in server_events)


def test_several_hosts_side_by_side_and_diff(lab_server, sshd, env, known):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    hosts = f"127.0.0.1:{sshd.port},127.0.0.1:{lab_server.port}"
    result = run_netlab("ssh", "--host", hosts, "-i", str(sshd.client_key), "--known-hosts", str(known), "--trust",
                        "--width", "100", "--", "echo same; echo $SSH_CONNECTION | cut -d' ' -f4", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    a, b = f"{sshd.user}@127.0.0.1:{sshd.port}", f"{sshd.user}@127.0.0.1:{lab_server.port}"
    assert a in lines[0] and b in lines[0] and "exit 0" in lines[0]
    assert lines[2].startswith("  same") and lines[3].startswith("* ")
    assert f"diff {a} → {b}: " in result.stdout.decode()
    assert f"-{sshd.port}" in lines and f"+{lab_server.port}" in lines

    result = run_netlab("ssh", "--host", f"127.0.0.1:{sshd.port}", "--host", f"127.0.0.1:{lab_server.port}",
                        "-i", str(sshd.client_key), "--known-hosts", str(known), "--json", "--", "echo", "same",
                        env=env)
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    compare = events[-1]
    assert compare["kind"] == "compare" and compare["meta"]["identical"] is True
    assert compare["meta"]["codes"] == [0, 0] and compare["meta"]["hosts"] == [a, b]


def test_several_hosts_with_one_unreachable_is_255(sshd, env, known):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    result = run_netlab("ssh", "--host", f"127.0.0.1:{sshd.port}", "--host", f"127.0.0.1:{closed}",
                        "-i", str(sshd.client_key), "--known-hosts", str(known), "--", "echo", "up", env=env)
    assert result.returncode == 255
    assert f"netlab: {sshd.user}@127.0.0.1:{closed}: connection refused" in result.stderr.decode()
    assert "up" in result.stdout.decode().splitlines()[2]


def test_ctrl_c_cancels_the_remote_command(sshd, known, env):  # noqa: F811
    known.write_text(sshd.known_hosts_line())
    proc = subprocess.Popen(
        netlab_cmd("ssh", "127.0.0.1", "-p", str(sshd.port), "-i", str(sshd.client_key), "--known-hosts", str(known),
                   "-n", "--", "echo started; sleep 30"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env})
    try:
        assert proc.stdout.readline() == b"started\n"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        assert b"Traceback" not in proc.stderr.read()
    finally:
        reap(proc)
