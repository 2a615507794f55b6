"""The learner launcher on its own: a private loopback, an unprivileged identity, rootless where allowed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from netlab_tui.classroom.isolation import LAUNCHER, Isolation, needed_paths

PROBE = """
import json, os, socket
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
client = socket.create_connection(server.getsockname(), timeout=2)
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
                  "net": os.readlink("/proc/self/ns/net"),
                  "links": [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]}))
"""

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def run(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@root_only
def test_as_root_a_new_namespace_with_lo_up_and_an_unprivileged_uid():
    uid = 1_999_999_000 + os.getpid() % 1000
    isolation = Isolation("root", drop_uid=True)
    seen = run(isolation.launch_command([sys.executable, "-I", "-c", PROBE], uid, uid))
    assert seen["uid"] == uid and seen["gid"] == uid and seen["groups"] == []
    assert seen["net"] != os.readlink("/proc/self/ns/net") and seen["links"] == ["lo"]


@root_only
def test_as_root_the_learner_reaches_python_and_netlab_but_nothing_else_of_a_closed_folder():
    uid = 1_999_998_000 + os.getpid() % 1000
    closed = Path(tempfile.mkdtemp(prefix="netlab-closed-"))  # 0700, like /root or pytest's tmp folders
    home = closed / "class" / "learners" / "ann"
    home.mkdir(parents=True)
    (closed / "class").chmod(0o700)  # closed folders inside closed folders
    (closed / "class" / "learners").chmod(0o700)
    (closed / "class" / "learners" / "bob").mkdir()
    os.chown(home, uid, uid)
    (closed / "secret.txt").write_text("the teacher's")
    script = ("import json, os, netlab_tui; print(json.dumps({'home': os.listdir(%r), 'closed': os.listdir(%r), "
              "'learners': os.listdir(%r)}))" % (str(home), str(closed), str(home.parent)))
    command = Isolation("root", drop_uid=True).launch_command([sys.executable, "-I", "-c", script], uid, uid, home)
    seen = run(command)
    assert seen["home"] == [] and "secret.txt" not in seen["closed"] and seen["learners"] == ["ann"]
    assert all(str(p) in command for p in needed_paths(home))
    shutil.rmtree(closed)


@root_only
@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv (util-linux)")
def test_rootless_user_and_network_namespace_keeps_the_callers_uid():
    # A copy of the launcher any user can read, run by a plain user with no capabilities at all.
    folder = Path(tempfile.mkdtemp(prefix="netlab-launch-"))
    folder.chmod(0o755)
    launcher = folder / "_launch.py"
    shutil.copy(LAUNCHER, launcher)
    launcher.chmod(0o644)
    python = shutil.which("python3", path="/usr/bin:/bin")
    user = ["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
    done = subprocess.run([*user, python, "-I", str(launcher), "--net", "user", "--", python, "-I", "-c", PROBE],
                          capture_output=True, text=True, timeout=30)
    shutil.rmtree(folder)
    if done.returncode != 0:
        pytest.skip(f"unprivileged user namespaces are not allowed here: {done.stderr.strip()}")
    seen = json.loads(done.stdout)
    assert seen["uid"] == 4242 and seen["links"] == ["lo"] and seen["net"] != os.readlink("/proc/self/ns/net")


def test_launcher_errors_are_one_line():
    done = subprocess.run([sys.executable, "-I", str(LAUNCHER), "--net", "nowhere", "--", "true"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 126 and done.stderr == "netlab class launcher: unknown --net 'nowhere'\n"
