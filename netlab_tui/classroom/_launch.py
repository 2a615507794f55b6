"""Start one learner's netlab in its own network namespace, then exec it.

Run as ``python _launch.py --net root|user|shared [--uid U --gid G] [--reach PATH]... -- COMMAND...`` by the class server.
Standard library only and no netlab import, so it costs a bare interpreter start before the exec:

- ``root``: the server runs as root: a new network namespace, ``lo`` up, then the learner's unprivileged
  uid/gid (no supplementary groups), so no learner gets a root shell; ``--reach`` paths (Python, netlab,
  the learner's home) are made reachable to that uid in a private mount namespace (``make_reachable``).
- ``user``: rootless: a new user namespace mapping the caller's own uid and gid (not root inside) plus a new
  network namespace owned by it, ``lo`` up while the namespace's capabilities last (they go at the exec).
- ``shared``: no namespace (``--shared-network``); as root, still the learner's unprivileged uid.

The process dies with the class server (parent-death signal). Failure: one line on stderr, exit status 126.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import struct
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
PR_SET_PDEATHSIG = 1
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
_IFREQ = "16sh14x"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def loopback_up() -> None:
    """``ip link set lo up`` without ``ip``: the flags ioctl on a socket of this namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        current = fcntl.ioctl(sock, SIOCGIFFLAGS, struct.pack(_IFREQ, b"lo", 0))
        flags = struct.unpack(_IFREQ, current)[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | IFF_UP))


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    enc = (lambda v: v.encode() if v is not None else None)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def make_reachable(paths: list[str], uid: int) -> None:
    """In a private mount namespace, let ``uid`` reach ``paths`` below folders it may not search.

    A Python under ``/root/.pyenv`` or a class folder under a 0700 folder: the topmost closed folder is
    covered (for this learner only) by an empty tmpfs in which each needed path is bind-mounted at its own
    place, so the learner reaches what netlab needs and sees nothing else of the closed folder.
    """
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    plan: dict[str, list[str]] = {}
    for path in sorted({os.path.realpath(p) for p in paths}, key=len):
        if any(path.startswith(done + "/") for done in sum(plan.values(), [])):
            continue  # inside a path already bound
        parts = path.split("/")[1:]
        for depth in range(len(parts)):
            folder = "/" + "/".join(parts[:depth])
            st = os.stat(folder)
            if not st.st_mode & 0o001 and st.st_uid != uid:
                plan.setdefault(folder, []).append(path)
                break
    handles = {path: os.open(path, os.O_PATH) for bound in plan.values() for path in bound}
    for folder in sorted(plan, key=len):
        _mount("tmpfs", folder, "tmpfs", 0, "mode=0755,size=64k")
        for path in plan[folder]:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC, None)
    for fd in handles.values():
        os.close(fd)


def enter(net: str, uid: int | None = None, gid: int | None = None, reach: list[str] | None = None) -> None:
    """Move this process into the learner's namespace and identity (see the module docstring)."""
    if uid is not None and os.geteuid() == 0 and reach:
        make_reachable(reach, uid)
    if net == "root":
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        loopback_up()
    elif net == "user":
        outer_uid, outer_gid = os.getuid(), os.getgid()
        _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNET), "unshare(CLONE_NEWUSER|CLONE_NEWNET)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{outer_uid} {outer_uid} 1")
        _write("/proc/self/gid_map", f"{outer_gid} {outer_gid} 1")
        loopback_up()
    elif net != "shared":
        raise ValueError(f"unknown --net {net!r}")
    if uid is not None and gid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    # After the credentials change (which clears it): die with the class server.
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


def main(argv: list[str]) -> int:
    net, uid, gid, command, reach = "shared", None, None, [], []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            command = args
            break
        if arg in ("--net", "--uid", "--gid", "--reach") and args:
            value = args.pop(0)
            if arg == "--reach":
                reach.append(value)
            elif arg == "--net":
                net = value
            elif arg == "--uid":
                uid = int(value)
            else:
                gid = int(value)
        else:
            print(f"netlab class launcher: unexpected argument {arg!r}", file=sys.stderr)
            return 126
    if not command:
        print("netlab class launcher: no command after --", file=sys.stderr)
        return 126
    try:
        enter(net, uid, gid, reach)
        if "NETLAB_LEARNER_HOME" in os.environ:
            os.chdir(os.environ["NETLAB_LEARNER_HOME"])
        os.execvpe(command[0], command, os.environ)
    except (OSError, ValueError) as exc:
        print(f"netlab class launcher: {exc}", file=sys.stderr)
        return 126
    return 126  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
