"""How learners are kept apart: the network mode, their unprivileged identity, and ending their processes.

``choose_network`` probes the kernel once at start-up by running the launcher (:mod:`._launch`) on a no-op:
as root a plain network namespace plus an unprivileged uid per learner; otherwise a rootless user+network
namespace. When neither works, the class refuses to start unless ``--shared-network`` was given, and says
why in one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from netlab_tui.engine.core.sessions import NetlabError

LAUNCHER = Path(__file__).with_name("_launch.py")


@dataclass(frozen=True)
class Isolation:
    net: str  # "root" (namespace made as root), "user" (rootless user+net namespace) or "shared"
    drop_uid: bool  # learners run as their own unprivileged uid (the server is root)

    @property
    def private_network(self) -> bool:
        return self.net != "shared"

    def describe(self) -> str:
        if self.net == "root":
            return "each learner in their own network namespace, as their own unprivileged uid"
        if self.net == "user":
            return "each learner in their own (rootless) user and network namespace"
        who = "as their own unprivileged uid" if self.drop_uid else "as this user"
        return f"learners SHARE this machine's network (--shared-network), {who}"

    def launch_command(self, command: list[str], uid: int | None = None, gid: int | None = None,
                       home: Path | None = None) -> list[str]:
        head = [sys.executable, "-I", str(LAUNCHER), "--net", self.net]
        if self.drop_uid and uid is not None:
            head += ["--uid", str(uid), "--gid", str(gid if gid is not None else uid)]
            for path in needed_paths(home):
                head += ["--reach", str(path)]
        return [*head, "--", *command]


def needed_paths(home: Path | None = None) -> list[Path]:
    """What a learner's unprivileged uid must reach: Python, the venv, netlab and its labs, their home."""
    import netlab_tui
    from netlab_tui.labs.catalog import content_dir

    paths = {Path(sys.executable).resolve().parent, Path(sys.base_prefix).resolve(), Path(sys.prefix),
             Path(netlab_tui.__file__).resolve().parent, content_dir().resolve()}
    if home is not None:
        paths.add(home)
    return sorted(paths)


def _userns_blocker() -> str:
    """The kernel setting that forbids rootless namespaces here, in words, or a generic reason."""
    checks = [
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
         "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1, "
         "the Ubuntu 24.04 default)"),
        ("/proc/sys/kernel/unprivileged_userns_clone", "0",
         "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)"),
        ("/proc/sys/user/max_user_namespaces", "0", "user namespaces are disabled (user.max_user_namespaces=0)"),
    ]
    for path, bad, reason in checks:
        try:
            if Path(path).read_text().strip() == bad:
                return reason
        except OSError:
            continue
    return ""


def probe(isolation: Isolation) -> str | None:
    """None when the launcher can enter this isolation here, else the one-line reason it cannot."""
    uid = 65534 if isolation.drop_uid else None
    try:
        done = subprocess.run(isolation.launch_command([sys.executable, "-I", "-c", "pass"], uid, uid),
                              capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]


def choose_network(shared_network: bool) -> Isolation:
    root = os.geteuid() == 0
    if shared_network:
        return Isolation("shared", drop_uid=root)
    isolation = Isolation("root" if root else "user", drop_uid=root)
    problem = probe(isolation)
    if problem is None:
        return isolation
    reason = (_userns_blocker() if not root else "") or problem.removeprefix("netlab class launcher: ")
    raise NetlabError(f"cannot give each learner a network namespace: {reason}; "
                      "run as root, allow user namespaces, or pass --shared-network (learners then share "
                      "127.0.0.1 and its ports)")


def process_group_kill(pgid: int, uid: int | None = None, grace: float = 2.0) -> None:
    """End a learner's process group (TERM, then KILL after ``grace``) and, as root, every process of their uid.

    The uid sweep catches what left the group (a ``setsid`` in the learner's shell): the uid is theirs alone.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        targets = _alive(pgid, uid)
        if not targets:
            return
        for pid in targets:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if sig == signal.SIGTERM:
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _alive(pgid, uid):
                time.sleep(0.05)


def _alive(pgid: int, uid: int | None) -> list[int]:
    """Live (not zombie) processes in the group ``pgid``, or owned by ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            state, group = fields[0], int(fields[2])
            if state in (b"Z", b"X"):
                continue
            if group == pgid or (uid is not None and os.stat(entry.path).st_uid == uid):
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return [pid for pid in found if pid != os.getpid()]
