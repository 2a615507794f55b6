"""Network namespace primitives: create and remove a named namespace under /run/netns, run a function in
one (on a short-lived thread: a thread's network namespace is its own), and find or kill the processes
living in one."""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar


def _netns():
    """pyroute2's netns module, imported on first use: pyroute2 takes a quarter of a second to import,
    and every `netlab` command and the TUI's panes import this module."""
    from pyroute2 import netns

    return netns

NETNS_DIR = "/run/netns"
T = TypeVar("T")


def path_of(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def create(name: str) -> str:
    """Create the namespace ``name`` (bind-mounted at /run/netns/NAME) with ``lo`` up; its path."""
    path = path_of(name)
    _netns().create(path)
    from pyroute2 import IPRoute  # imported late: pyroute2's IPRoute is heavy

    def lo_up() -> None:
        with IPRoute() as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")

    run_in(path, lo_up)
    return path


def remove(name_or_path: str) -> None:
    path = name_or_path if "/" in name_or_path else path_of(name_or_path)
    try:
        _netns().remove(path)
    except FileNotFoundError:
        pass


def listed() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def run_in(path: str, fn: Callable[[], T]) -> T:
    """``fn()`` on a thread that entered the namespace at ``path``: sockets and netlink handles it opens
    belong to that namespace, whatever thread uses them afterwards."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                _netns().setns(fd, flags=0)
            finally:
                os.close(fd)
            result["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="netns", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]


def inode(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def pids_in(path: str) -> list[int]:
    """Every process whose network namespace is the one at ``path`` (not this process)."""
    wanted = inode(path)
    if wanted is None:
        return []
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == wanted:
            found.append(int(entry))
    return found


def kill_all_in(path: str, grace: float = 1.0) -> int:
    """Stop the processes in a namespace: their process groups get SIGTERM, then SIGKILL after ``grace``
    seconds for whatever is left. The number of processes found."""
    pids = pids_in(path)
    found = len(pids)
    if not pids:
        return 0
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                pgid = os.getpgid(pid)
                if pgid != os.getpgid(0):
                    os.killpg(pgid, sig)
                os.kill(pid, sig)
            except OSError as exc:
                if exc.errno != errno.ESRCH:
                    raise
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            if not pids:
                return found
            time.sleep(0.02)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
