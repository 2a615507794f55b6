"""``netlab topo``: up (ready line, --json), exec (a server on h1, a client on h2, exit statuses), list,
Ctrl+C and SIGTERM leave nothing behind, and SIGKILL followed by ``topo clean`` neither."""

import json
import os
import signal
import subprocess
import time

import pytest

from netlab_tui.engine.topology import netns, runs

from ..conftest import netlab_cmd, run_netlab
from ..engine.topology._host_state import ROOT_REASON, hosts_toml, leftovers, machine_state

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_REASON)

THREE = hosts_toml("8", 3, "lan")


@pytest.fixture
def topo_file(tmp_path):
    path = tmp_path / "three.toml"
    path.write_text(THREE)
    return path


class TopoUp:
    def __init__(self, path, name: str, *extra: str) -> None:
        self.name = name
        self.proc = subprocess.Popen(netlab_cmd("topo", "up", str(path), "--name", name, *extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.ready = self.proc.stdout.readline()
        assert self.ready, self.proc.stderr.read()
        self.prefix = runs.find(name)["prefix"]

    def stop(self, sig=signal.SIGINT) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=15)


@pytest.fixture
def up(topo_file):
    started = []

    def start(*extra: str) -> TopoUp:
        process = TopoUp(topo_file, f"c{os.getpid()}-{len(started)}", *extra)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()
        process.proc.stdout.close()
        process.proc.stderr.close()


def test_up_exec_a_server_on_h1_and_a_client_on_h2_then_ctrl_c_leaves_nothing(up):
    before = machine_state()
    topo = up()
    assert topo.ready.startswith(f"topology {topo.name} up: h1 10.213.8.1/24, h2 10.213.8.2/24")
    listing = run_netlab("topo", "list").stdout.decode()
    assert topo.name in listing and "up" in listing and "10.213.8.3" in listing
    server = subprocess.Popen(netlab_cmd("topo", "exec", topo.name, "h1", "--", *netlab_cmd(
        "serve", "tcp-echo", "--host", "10.213.8.1", "--port", "0", "--json")), stdout=subprocess.PIPE, text=True)
    try:
        listen = json.loads(server.stdout.readline())
        assert listen["kind"] == "listen" and listen["host"] == "h1"
        port = listen["local"].rsplit(":", 1)[1]
        sent = run_netlab("topo", "exec", topo.name, "h2", "--", *netlab_cmd(
            "send", "tcp", "10.213.8.1", port, "hello h1", "--json"))
        assert sent.returncode == 0, sent.stderr
        events = [json.loads(line) for line in sent.stdout.decode().splitlines()]
        assert any(e["kind"] == "data" and e["direction"] == "in" and e["text"] == "hello h1" for e in events)
        assert {e["host"] for e in events} == {"h2"}
        accept = json.loads(server.stdout.readline())
        assert accept["kind"] == "accept" and accept["peer"].startswith("10.213.8.2:")
        assert machine_state() == before
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
        server.stdout.close()
    assert topo.stop(signal.SIGINT) == 0
    assert leftovers(topo.prefix) == []
    assert machine_state() == before


def test_exec_exit_status_is_the_commands(up):
    topo = up("--json")
    ready = json.loads(topo.ready)
    assert ready["status"] == "up"
    assert [(h["name"], h["interfaces"][0]["address"]) for h in ready["hosts"]] == [
        ("h1", "10.213.8.1/24"), ("h2", "10.213.8.2/24"), ("h3", "10.213.8.3/24")]
    assert run_netlab("topo", "exec", topo.name, "h3", "--", "sh", "-c", "exit 7").returncode == 7
    missing = run_netlab("topo", "exec", topo.name, "h3", "--", "no-such-command-here")
    assert missing.returncode == 127 and missing.stderr.decode().strip() == \
        "netlab: command not found: no-such-command-here"
    bad_host = run_netlab("topo", "exec", topo.name, "h9", "--", "true")
    assert bad_host.returncode == 1
    assert bad_host.stderr.decode().strip() == f"netlab: no host 'h9' in topology {topo.name} (hosts: h1, h2, h3)"
    out = run_netlab("topo", "exec", topo.name, "h3", "--", "ip", "-o", "-4", "addr").stdout.decode()
    assert "10.213.8.3/24" in out and "10.213.8.1" not in out
    assert topo.stop(signal.SIGTERM) == 0
    assert json.loads(topo.proc.stdout.readline()) == {"status": "down", "name": topo.name, "frames": None}
    assert leftovers(topo.prefix) == []


def test_sigkill_then_clean_leaves_nothing(up):
    before = machine_state()
    topo = up()
    orphan = subprocess.Popen(netlab_cmd("topo", "exec", topo.name, "h2", "--", "sleep", "300"),
                              start_new_session=True)
    deadline = time.monotonic() + 10
    path = netns.path_of(f"{topo.prefix}-h2")
    while not netns.pids_in(path):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    topo.proc.kill()
    topo.proc.wait()
    assert leftovers(topo.prefix)  # what SIGKILL leaves, until clean
    listing = run_netlab("topo", "list").stdout.decode()
    assert "dead" in listing and "netlab topo clean" in listing
    cleaned = run_netlab("topo", "clean")
    assert cleaned.returncode == 0
    assert f"({topo.name})" in cleaned.stdout.decode() and "4 namespace(s), 1 process(es)" in cleaned.stdout.decode()
    orphan.wait(timeout=5)
    assert leftovers(topo.prefix) == []
    assert machine_state() == before


def test_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[hosts.h1]\nip = "8.8.8.8/24"\n')
    result = run_netlab("topo", "up", str(bad))
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"netlab: {bad}:2: host 'h1': 8.8.8.8/24 must be a private")
    assert result.stderr.decode().count("\n") == 1
    missing = run_netlab("topo", "exec", "no-such-topology", "h1", "--", "true")
    assert missing.returncode == 1 and "no running topology named 'no-such-topology'" in missing.stderr.decode()
    assert run_netlab("topo", "up", str(tmp_path / "nope.toml")).stderr.decode().startswith("netlab: cannot read")


def test_the_segment_capture_records_each_frame_crossing_a_link_once(up, tmp_path):
    from netlab_tui.engine.inspect.capture import read_pcap

    pcap = tmp_path / "lan.pcap"
    topo = up("--pcap", str(pcap))
    server = subprocess.Popen(netlab_cmd("topo", "exec", topo.name, "h1", "--", *netlab_cmd(
        "serve", "tcp-echo", "--host", "10.213.8.1", "--port", "0", "--json")), stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(server.stdout.readline())["local"].rsplit(":", 1)[1]
        sent = run_netlab("topo", "exec", topo.name, "h2", "--", *netlab_cmd("send", "tcp", "10.213.8.1", port,
                                                                            "across the link"))
        assert sent.returncode == 0, sent.stderr
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
        server.stdout.close()
    assert topo.stop() == 0
    assert "frames crossing links written to" in topo.proc.stderr.read()
    events = read_pcap(pcap)
    data = [e for e in events if e.kind == "data" and e.payload and b"across the link" in e.payload]
    # Sent by h2, echoed by h1: each crossed the link once, and is recorded once.
    assert len(data) == 2, [(e.local, e.peer, e.payload) for e in data]
    ends = {(e.local.rsplit(":", 1)[0], e.peer.rsplit(":", 1)[0]) for e in data}
    assert ends <= {("10.213.8.2", "10.213.8.1"), ("10.213.8.1", "10.213.8.2")} and len(data) == 2
    syns = [e for e in events if e.kind in ("connect", "accept") and "10.213.8.2" in (e.local or "") + (e.peer or "")]
    assert syns, [(e.kind, e.local, e.peer) for e in events][:10]


def test_inside_private_user_namespaces_a_topology_needs_no_root_of_the_machine(topo_file):
    """What `netlab topo up` does without root: it re-runs itself under `unshare --user --map-root-user
    --net --mount`, mounts a private /run, and `topo exec` joins it with nsenter. (Run here by root, with
    the same namespaces an unprivileged user gets.)"""
    import shutil

    from netlab_tui.engine.topology import userns

    if userns.unavailable() is not None or shutil.which("nsenter") is None:
        pytest.skip(f"unprivileged namespaces unavailable: {userns.unavailable()}")
    before = machine_state()
    name = f"u{os.getpid()}"
    env = {**os.environ, userns.ENV: "1", "NETLAB_TOPO_UID": str(os.getuid())}
    proc = subprocess.Popen(["unshare", "--user", "--map-root-user", "--net", "--mount", "--propagation", "private",
                             "--", *netlab_cmd("topo", "up", str(topo_file), "--name", name)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().startswith(f"topology {name} up: h1 10.213.8.1/24")
        pointer = os.path.join(userns.pointer_dir(), f"{name}.json")
        pid = json.load(open(pointer))["pid"]
        assert runs.find(name) is None  # its record and namespaces live in its private /run, not the machine's
        joined = subprocess.run(["nsenter", "-t", str(pid), "--user", "--mount", "--net", "--preserve-credentials",
                                 "--", *netlab_cmd("topo", "exec", name, "h3", "--", "sh", "-c",
                                                   "ip -o -4 addr; exit 6")],
                                capture_output=True, text=True, env=env, timeout=30)
        assert joined.returncode == 6 and "10.213.8.3/24" in joined.stdout, joined.stderr
        assert machine_state() == before
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        proc.stdout.close()
        proc.stderr.close()
    assert not os.path.exists(pointer)
    assert machine_state() == before
