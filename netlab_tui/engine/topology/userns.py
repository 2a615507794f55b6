"""Topologies without root: ``netlab topo up`` re-runs itself inside new user, network and mount
namespaces (``unshare --user --map-root-user``) when the kernel allows it. There it is root of its own
namespaces only: it mounts a private ``/run`` (so /run/netns and the run records are its own) and builds
the topology as usual. A pointer file in ``/tmp/netlab-topo-UID/`` lets ``netlab topo exec`` and
``netlab topo list``, run by the same user, join those namespaces with ``nsenter``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sys

ENV = "NETLAB_TOPO_USERNS"  # set inside the private namespaces
MS_NOSUID, MS_NODEV = 2, 4


def pointer_dir(uid: int | None = None) -> str:
    return f"/tmp/netlab-topo-{os.getuid() if uid is None else uid}"


def inside() -> bool:
    return os.environ.get(ENV) == "1" and os.geteuid() == 0


def unavailable() -> str | None:
    """Why unprivileged topologies cannot run here, or None when they can."""
    if shutil.which("unshare") is None:
        return "the unshare program (util-linux) is not installed"
    try:
        with open("/proc/sys/user/max_user_namespaces", encoding="ascii") as fh:
            if int(fh.read().strip() or 0) == 0:
                return "user namespaces are disabled (user.max_user_namespaces = 0)"
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/sys/kernel/unprivileged_userns_clone", encoding="ascii") as fh:
            if fh.read().strip() == "0":
                return "this kernel forbids unprivileged user namespaces (kernel.unprivileged_userns_clone = 0)"
    except OSError:
        pass
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--mount", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["unshare failed"])[-1]
        return f"unprivileged namespaces are not allowed here ({reason})"
    return None


def reexec(argv: list[str]) -> None:
    """Replace this process with itself inside new user, network and mount namespaces."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe("unshare", ["unshare", "--user", "--map-root-user", "--net", "--mount", "--propagation",
                           "private", "--", sys.executable, "-m", "netlab_tui", *argv],
               {**os.environ, ENV: "1", "NETLAB_TOPO_UID": str(os.getuid())})


def private_run(name: str) -> None:
    """Inside: a tmpfs of our own on /run, and the pointer that lets the same user find this run."""
    owner = os.environ.get("NETLAB_TOPO_UID", "")
    directory = pointer_dir(int(owner)) if owner.isdigit() else None
    if directory is not None:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(os.path.join(directory, f"{name}.json"), "w", encoding="utf-8") as fh:
            json.dump({"name": name, "pid": os.getpid()}, fh)
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.mount(b"netlab", b"/run", b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755") != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"cannot mount a private /run: {os.strerror(errno)}")
    os.makedirs("/run/netns", exist_ok=True)


def forget(name: str) -> None:
    owner = os.environ.get("NETLAB_TOPO_UID", "")
    if owner.isdigit():
        try:
            os.unlink(os.path.join(pointer_dir(int(owner)), f"{name}.json"))
        except FileNotFoundError:
            pass


def pointers() -> list[dict]:
    """The unprivileged runs of this user whose process is alive."""
    found = []
    try:
        entries = os.listdir(pointer_dir())
    except FileNotFoundError:
        return []
    for entry in sorted(entries):
        try:
            with open(os.path.join(pointer_dir(), entry), encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        if isinstance(data.get("pid"), int) and os.path.exists(f"/proc/{data['pid']}"):
            found.append(data)
    return found


def join(pid: int, argv: list[str]) -> None:
    """Run ``netlab ARGV`` inside the namespaces of the unprivileged run ``pid`` (replaces this process)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe("nsenter", ["nsenter", "-t", str(pid), "--user", "--mount", "--net", "--preserve-credentials",
                           "--", sys.executable, "-m", "netlab_tui", *argv], {**os.environ, ENV: "1"})
