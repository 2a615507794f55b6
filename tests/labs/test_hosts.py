"""Multi-host labs: lab:host / lab:segment, host = on servers, on = on scripts and actions, the
{{ hosts.h1.ip }} variables — parsed with file:line errors, and a topology built and torn down with the lab."""

from __future__ import annotations

import os

import pytest

from netlab_tui.labs.catalog import find_lab
from netlab_tui.labs.parser import parse_lab
from netlab_tui.labs.runner import LabRunner
from netlab_tui.labs.validate import check_lab
from netlab_tui.labs.workspace import Workspace
from tests.engine.topology._host_state import ROOT_REASON, leftovers, machine_state
from tests.labs.test_parser import problems_of, write_lab

HOSTS = '''
Two machines.

```lab:host
name = "h1"
ip = "10.213.20.1/24"
```

```lab:host
name = "h2"
ip = "10.213.20.2/24"
```

```lab:segment
name = "lan"
hosts = ["h1", "h2"]
```

```lab:server
name = "echo"
kind = "tcp-echo"
host = "h1"
```

## Talk {#talk}

From h2 to {{ hosts.h1.ip }}: {{ echo.address }}.

```lab:action
label = "Send from h2"
on = "h2"
command = ["netlab", "send", "tcp", "{{ hosts.h1.ip }}", "{{ echo.port }}", "hi"]
```

```lab:check
title = "h1's echo heard h2"
event = { server = "echo", kind = "data", direction = "in", peer = "{{ hosts.h2.ip }}:*" }
```
'''


def test_hosts_segments_and_on_are_parsed(tmp_path):
    lab = parse_lab(write_lab(tmp_path, HOSTS))
    assert [(h.name, h.ip) for h in lab.hosts] == [("h1", ["10.213.20.1/24"]), ("h2", ["10.213.20.2/24"])]
    assert [(s.name, s.hosts) for s in lab.segments] == [("lan", ["h1", "h2"])]
    assert lab.servers[0].on == "h1"
    assert lab.steps[0].actions[0].on == "h2"
    assert check_lab(lab.path) == []  # {{ hosts.h1.ip }} is a known variable; the send command parses


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ('ip = "10.213.20.2/24"', 'ip = "10.213.20.2"', 20, "host 'h2': invalid address '10.213.20.2'"),
    ('ip = "10.213.20.2/24"', 'ip = "1.2.3.4/24"', 20, "must be a private network address"),
    ('hosts = ["h1", "h2"]', 'hosts = ["h1", "h9"]', 25, "segment 'lan' names an unknown host 'h9'"),
    ('on = "h2"', 'on = "h7"', 38, "on = 'h7' names no host of this lab (hosts: h1, h2)"),
    ('name = "h2"', 'name = "h1"', 18, "host name 'h1' is already used at line 13"),
    ('ip = "10.213.20.2/24"', 'ip = "10.213.20.2/24"\nport = 4', 21, "unknown key 'port' in lab:host"),
])
def test_topology_mistakes_are_reported_at_their_line(tmp_path, old, new, line, message):
    problems = problems_of(write_lab(tmp_path, HOSTS.replace(old, new, 1)))
    assert any(p.startswith(f"{line}: ") and message in p for p in problems), problems


def test_a_host_block_inside_a_step_is_refused(tmp_path):
    body = HOSTS + '\n```lab:host\nname = "h3"\nip = "10.213.20.3/24"\n```\n'
    problems = problems_of(write_lab(tmp_path, body))
    assert any("lab:host belongs before the first step" in p for p in problems), problems


@pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_REASON)
async def test_a_multi_host_lab_builds_its_hosts_and_leaves_nothing(journal, registry, tmp_path):
    before = machine_state()
    lab = find_lab("multi-host-scan")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, tmp_path / "ws"))
    await runner.start(run=False, enter=False)
    prefix = runner.hosts.network.prefix
    try:
        assert runner.variables["hosts.h1.ip"] == "10.213.1.1"
        assert runner.variables["hosts.h1.back.ip"] == "10.213.2.1"
        assert runner.variables["web.host"] == "10.213.1.1" and runner.variables["db.host"] == "10.213.2.1"
        assert runner.servers["web"].host_name == "h1" and runner.servers["db"].host_name == "h1"
        assert runner.env["NETLAB_HOST_H3_IP"] == "10.213.2.3"
        assert len(leftovers(prefix)) == 6  # 3 hosts, 2 segments, the run's record
        assert machine_state() == before
    finally:
        await runner.stop()
    assert leftovers(prefix) == []
    assert machine_state() == before


@pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_REASON)
def test_sigterm_during_a_multi_host_solve_tears_the_hosts_down():
    import signal
    import subprocess
    import time

    from netlab_tui.engine.topology import runs
    from tests.conftest import netlab_cmd

    before = machine_state()
    proc = subprocess.Popen(netlab_cmd("lab", "solve", "multi-host-roles"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while (record := runs.find(f"lab-multi-host-roles-{proc.pid}")) is None or not leftovers(record["prefix"]):
        assert time.monotonic() < deadline and proc.poll() is None, "the lab's hosts never came up"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    proc.stderr.close()
    assert leftovers(record["prefix"]) == []
    assert machine_state() == before
