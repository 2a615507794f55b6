"""Two learners: different network namespaces and uids; the same fixed port on each; neither reaches the other."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys

import pytest

from ._class import client_session, free_port, learner_pids, login, open_terminal

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a learner's namespace (nsenter) needs root")


def in_learner_namespace(pid: int, *command: str, **kwargs) -> subprocess.Popen:
    """Run as the learner would from their Shell pane: their network and mount namespaces, their uid."""
    uid = os.stat(f"/proc/{pid}").st_uid
    return subprocess.Popen(["nsenter", f"--net=/proc/{pid}/ns/net", f"--mount=/proc/{pid}/ns/mnt", f"--setuid={uid}", f"--setgid={uid}",
                             *command], **kwargs)


CLIENT = """
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as sock:
        sock.sendall(sys.argv[2].encode())
        print(sock.recv(1024).decode())
except OSError as exc:
    sys.exit(f"{exc.strerror or exc}")
"""


def send(pid: int, port: int, message: str) -> subprocess.CompletedProcess:
    """A plain socket client (a learner's own script) run in the learner's namespace."""
    process = in_learner_namespace(pid, sys.executable, "-I", "-c", CLIENT, str(port), message,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=30)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


async def test_learners_get_private_loopbacks(classroom):
    fixed, only_ann = free_port(), free_port()
    async with client_session() as ann_http, client_session() as ben_http:
        await login(ann_http, classroom.url, "ann", classroom.code)
        await login(ben_http, classroom.url, "ben", classroom.code)
        ann_term, ben_term = await asyncio.gather(open_terminal(ann_http, classroom.url),
                                                  open_terminal(ben_http, classroom.url))
        await asyncio.gather(ann_term.wait_for("Tools", 40), ben_term.wait_for("Tools", 40))
        [ann], [ben] = learner_pids(classroom.directory, "ann"), learner_pids(classroom.directory, "ben")

        namespaces = {os.readlink(f"/proc/{pid}/ns/net") for pid in (ann, ben, os.getpid())}
        assert len(namespaces) == 3, namespaces
        uids = {os.stat(f"/proc/{pid}").st_uid for pid in (ann, ben)}
        assert len(uids) == 2 and 0 not in uids

        servers = []
        try:
            # Both start tcp-echo on the same fixed port: no clash.
            for pid in (ann, ben):
                servers.append(in_learner_namespace(
                    pid, sys.executable, "-m", "netlab_tui", "serve", "tcp-echo", "--port", str(fixed), "--json",
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for server in servers:
                listen = json.loads(server.stdout.readline())
                assert listen["kind"] == "listen" and listen["local"] == f"127.0.0.1:{fixed}"
            # Ann alone has a second server; Ben's 127.0.0.1 does not have it.
            servers.append(in_learner_namespace(
                ann, sys.executable, "-m", "netlab_tui", "serve", "tcp-echo", "--port", str(only_ann), "--json",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            assert json.loads(servers[-1].stdout.readline())["kind"] == "listen"

            echoed = send(ann, fixed, "from-ann")
            assert echoed.returncode == 0 and "from-ann" in echoed.stdout
            assert send(ann, only_ann, "still-ann").returncode == 0
            refused = send(ben, only_ann, "ben-knocks")
            assert refused.returncode != 0 and "refused" in refused.stderr.lower()

            # Ben's echo server saw only Ben; the machine's own 127.0.0.1 has neither server.
            assert send(ben, fixed, "from-ben").returncode == 0
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", only_ann), timeout=2).close()
        finally:
            for server in servers:
                server.terminate()
            outputs = [server.communicate(timeout=20)[0] for server in servers]
        ann_events, ben_events = outputs[0], outputs[1]
        assert "from-ann" in ann_events and "from-ben" not in ann_events
        assert "from-ben" in ben_events and "from-ann" not in ben_events
        await ann_term.close()
        await ben_term.close()
