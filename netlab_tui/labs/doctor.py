"""``netlab doctor``: is everything netlab and its labs use here? One line per tool, with the fix.

Each check is a ``Finding``: its name, ok or not, what was found, the exact command that installs or
enables it (Debian/Ubuntu), and which shipped labs need it. ``netlab doctor`` exits 0 when everything
the shipped labs need is there (loopback included), 1 otherwise; what only some tools use (wire
captures, SYN scans, IPv6) is reported without failing. The labs browser and ``netlab lab list`` use
``lab_tools`` / ``finding_for`` to mark a lab whose tools are missing, with the doctor's line.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .model import Lab

# tool -> (programs, any of which satisfies it; Debian package; what it is for)
TOOLS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "nmap": (("nmap",), "nmap", "port scans (netlab scan, the port-scan lab)"),
    "ssh": (("ssh",), "openssh-client", "the OpenSSH client"),
    "ssh-keyscan": (("ssh-keyscan",), "openssh-client", "fetching a host key (the ssh-remote lab)"),
    "sshd": (("sshd",), "openssh-server", "the OpenSSH server (tests, ssh against a real sshd)"),
    "php": (("php",), "php-cli", "PHP scripts (the php-python lab)"),
    "tshark": (("tshark",), "tshark", "reading captures the way Wireshark does"),
    "bc": (("bc",), "bc", "the calculator subprocess-pipes talks to"),
    "socat": (("socat",), "socat", "a second TCP/UDP client or server to talk to netlab's"),
    "nc": (("nc", "ncat", "netcat"), "netcat-openbsd", "netcat, the course's quick client"),
    "curl": (("curl",), "curl", "HTTP requests from the shell"),
    "sqlite3": (("sqlite3",), "sqlite3", "looking into the php-python lab's database"),
}
SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
INOTIFY_MIN = 8192
INOTIFY_FILE = Path("/proc/sys/fs/inotify/max_user_watches")


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed_by: list[str] = field(default_factory=list)  # shipped labs that need it
    required: bool = False  # a missing one makes `netlab doctor` fail

    def line(self) -> str:
        mark = "ok     " if self.ok else ("MISSING" if self.required else "missing")
        text = f"{mark} {self.name:<16} {self.detail}"
        if not self.ok and self.fix:
            text += f" — fix: {self.fix}"
        if self.needed_by:
            text += f" (labs: {', '.join(self.needed_by)})"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


def which(program: str) -> str | None:
    found = shutil.which(program)
    if found is None and program == "sshd":  # sshd lives in sbin, often not on a user's PATH
        found = next((str(Path(d) / program) for d in SBIN if (Path(d) / program).is_file()), None)
    return found


def lab_tools(lab: Lab) -> list[str]:
    """The tools of ``TOOLS`` a lab needs: its ``requires``, the programs its commands and scripts run."""
    needed = list(lab.requires)
    for step in lab.steps:
        commands = [a.command for a in step.actions if a.command] + [s.command for s in step.solves]
        for command in commands:
            if command[:2] == ["netlab", "scan"]:
                needed.append("nmap")
            elif command and command[0] in TOOLS:
                needed.append(command[0])
        for script in step.scripts:
            if script.file.endswith(".php") or (script.interpreter or "").startswith("php"):
                needed.append("php")
    return list(dict.fromkeys(t for t in needed if t in TOOLS))


def _tool(name: str, labs: list[Lab]) -> Finding:
    programs, package, purpose = TOOLS[name]
    needed_by = [lab.id for lab in labs if name in lab_tools(lab)]
    path = next((p for p in (which(program) for program in programs) if p), None)
    if path:
        return Finding(name, True, f"{path} ({purpose})", needed_by=needed_by, required=bool(needed_by))
    return Finding(name, False, f"not found ({purpose})", f"sudo apt-get install {package}", needed_by,
                   required=bool(needed_by))


def _loopback() -> Finding:
    try:
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
        return Finding("loopback", True, "127.0.0.1 accepts connections", required=True)
    except OSError as exc:
        return Finding("loopback", False, f"127.0.0.1 does not work: {exc.strerror or exc}",
                       "sudo ip link set lo up", required=True)


def _ipv6() -> Finding:
    if not socket.has_ipv6:
        return Finding("ipv6-loopback", False, "this Python has no IPv6", "a Python built with IPv6")
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6) as server:
            port = server.getsockname()[1]
            with socket.create_connection(("::1", port), timeout=2):
                pass
        return Finding("ipv6-loopback", True, "[::1] accepts connections")
    except OSError as exc:
        return Finding("ipv6-loopback", False, f"[::1] does not work: {exc.strerror or exc}",
                       "sudo sysctl -w net.ipv6.conf.lo.disable_ipv6=0")


def _raw_sockets() -> Finding:
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    except PermissionError:
        import sys

        return Finding("raw-sockets", False, "no raw sockets: SYN scans and wire captures need them",
                       f"run netlab as root, or: sudo setcap cap_net_raw,cap_net_admin+eip "
                       f"{os.path.realpath(sys.executable)}")
    except OSError as exc:
        return Finding("raw-sockets", False, f"raw sockets fail: {exc.strerror or exc}")
    sock.close()
    return Finding("raw-sockets", True, "available (SYN scans, wire captures)")


def _inotify() -> Finding:
    try:
        limit = int(INOTIFY_FILE.read_text().strip())
    except (OSError, ValueError):
        return Finding("inotify-watches", False, f"cannot read {INOTIFY_FILE} (watching falls back to polling)")
    if limit < INOTIFY_MIN:
        return Finding("inotify-watches", False, f"limit {limit} is low (watching big folders fails)",
                       "sudo sysctl -w fs.inotify.max_user_watches=524288")
    return Finding("inotify-watches", True, f"limit {limit}")


def _default_ports() -> list[Finding]:
    from netlab_tui.engine.core.catalog import server_kinds

    findings = []
    for name, kind in sorted(server_kinds().items()):
        if not kind.default_port:
            continue
        try:
            with socket.create_server(("127.0.0.1", kind.default_port)):
                pass
            findings.append(Finding(f"port {kind.default_port}", True,
                                    f"free (the {name} server's default)"))
        except OSError:
            findings.append(Finding(f"port {kind.default_port}", False,
                                    f"in use (the {name} server's default)",
                                    f"stop what listens there (ss -ltnp 'sport = :{kind.default_port}') "
                                    f"or start the server with --port"))
    return findings


def diagnose_environment(labs: list[Lab] | None = None) -> list[Finding]:
    """Every check, in a stable order."""
    if labs is None:
        from .catalog import load_labs

        labs, _broken = load_labs("en")
    findings = [_tool(name, labs) for name in TOOLS]
    findings += [_loopback(), _ipv6(), _raw_sockets(), _inotify(), *_default_ports()]
    return findings


def finding_for(tool: str) -> Finding:
    """The doctor's line for one tool (the labs browser shows it beside a lab that needs it)."""
    finding = _tool(tool, [])
    finding.required = True  # shown for a lab that needs it
    return finding


def missing_tools(lab: Lab) -> list[str]:
    return [tool for tool in lab_tools(lab) if not any(which(p) for p in TOOLS[tool][0])]
