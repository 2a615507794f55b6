"""Port scans: nmap through python-nmap, or netlab's own asyncio connect scanner.

``ScanSession`` resolves its targets first, refuses hosts outside the loopback range unless told the
user confirmed (``allow_remote``), then publishes one ``port`` event per scanned port with
``meta = {host, port, state, service, reason, target}`` and keeps ``progress`` (done/total, ETA) up to
date for progress bars. With ``log_closed=False`` (the TUI's default) closed ports are not one event
each — a 30000-50000 scan would flood the log with 20,001 of them — but summed up, one ``info`` event per
host per nmap chunk (or per ``CLOSED_BATCH`` ports of the connect engine) with
``meta = {host, closed: count, ports: "30000-30999,31001-…"}``; ``results`` keeps every port.

Two engines:

- ``nmap`` runs the nmap binary (TCP connect scan ``-sT``, or SYN ``-sS`` as root) in a worker thread,
  one invocation per chunk of ports so results stream in and ``stop()`` can end it; each chunk's XML
  is read by python-nmap's parser. nmap folds the ports it finds uninteresting into ``<extraports>``;
  those are expanded again so that every port gets its event, as with the connect engine.
- ``connect`` is an asyncio TCP connect scanner with bounded concurrency. It is used automatically,
  with a visible note, when the nmap binary is not on the PATH.
"""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import errno
import ipaddress
import os
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from netlab_tui.engine.core.events import format_addr, new_conn_id
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.place import place_command
from netlab_tui.engine.core.sessions import NetlabError, Session

ENGINES = ("nmap", "connect")
STATES = ("open", "closed", "filtered")
CLOSED_BATCH = 5_000  # closed ports per summary event (connect engine; nmap summarises per chunk)
MAX_HOSTS = 256
MAX_PROBES = 1 << 20  # every port keeps a result: 16 hosts × all ports is about 250 MB
DEFAULT_TIMEOUT = 1.0
DEFAULT_CONCURRENCY = 512
DEFAULT_TOP_PORTS = 1000
_SLICE = 0.004  # seconds the connect scanner runs before letting the event loop do other work

# nmap-services lives beside the binary's share directory; these are where Debian and Homebrew put it.
_SERVICES_FILES = (
    "/usr/share/nmap/nmap-services",
    "/usr/local/share/nmap/nmap-services",
    "/opt/homebrew/share/nmap/nmap-services",
)


class ScanPolicyError(NetlabError):
    """The targets include hosts outside the loopback range and the user has not confirmed."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        shown = ", ".join(addresses[:3]) + (" …" if len(addresses) > 3 else "")
        super().__init__(
            f"{shown} {'is' if len(addresses) == 1 else 'are'} outside the loopback range "
            "(127.0.0.0/8, ::1): scan only hosts you own, and confirm that you do"
        )


# -- ports ---------------------------------------------------------------------------------------------
_RANGE = re.compile(r"^(\d*)\s*-\s*(\d*)$")


def parse_ports(spec: str | None) -> list[int]:
    """``"22,80,8000-8100"`` → sorted unique ports. ``-`` or ``all`` is 1-65535, ``1000-`` and ``-100``
    are open-ended as in nmap; empty or None is the 1,000 most common ports (nmap's default list)."""
    if spec is None or not spec.strip():
        return top_ports(DEFAULT_TOP_PORTS)
    text = spec.strip().lower()
    if text.startswith("top"):
        count = text[3:].lstrip(":= ")
        if not count.isdigit() or not 1 <= int(count) <= 65535:
            raise NetlabError(f"invalid port list {spec!r}: write top:N with N from 1 to 65535")
        return top_ports(int(count))
    if text in ("-", "all", "*"):
        return list(range(1, 65536))
    ports: set[int] = set()
    for item in re.split(r"[,\s]+", text):
        if not item:
            continue
        match = _RANGE.match(item)
        if match:
            low = _port_value(match.group(1) or "1", spec)
            high = _port_value(match.group(2) or "65535", spec)
            if low > high:
                raise NetlabError(f"invalid port range {item!r}: {low} is above {high}")
            ports.update(range(low, high + 1))
        else:
            ports.add(_port_value(item, spec))
    if not ports:
        raise NetlabError(f"invalid port list {spec!r}: no ports in it")
    return sorted(ports)


def _port_value(text: str, spec: str) -> int:
    if not text.isdigit():
        raise NetlabError(f"invalid port {text!r} in {spec!r}: ports are numbers from 1 to 65535")
    value = int(text)
    if not 1 <= value <= 65535:
        raise NetlabError(f"port {value} is out of range: ports are numbers from 1 to 65535")
    return value


def format_ports(ports: Iterable[int]) -> str:
    """The compact form nmap takes: ``1-1024,8080``."""
    parts: list[str] = []
    run_start = prev = None
    for port in sorted(set(ports)):
        if prev is not None and port == prev + 1:
            prev = port
            continue
        if run_start is not None:
            parts.append(str(run_start) if run_start == prev else f"{run_start}-{prev}")
        run_start = prev = port
    if run_start is not None:
        parts.append(str(run_start) if run_start == prev else f"{run_start}-{prev}")
    return ",".join(parts)


# -- service names -------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _services_table() -> tuple[dict[int, str], tuple[int, ...]]:
    """(port → name, ports by frequency) for TCP: nmap's nmap-services when nmap is installed (so both
    engines name ports as nmap does), else the system's /etc/services (without frequencies)."""
    candidates = list(_SERVICES_FILES)
    binary = shutil.which("nmap")
    if binary:
        candidates.insert(0, str(Path(binary).resolve().parent.parent / "share" / "nmap" / "nmap-services"))
    for candidate in [*candidates, "/etc/services"]:
        try:
            text = Path(candidate).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        names: dict[int, str] = {}
        freq: list[tuple[float, int]] = []
        for line in text.splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) < 2 or not fields[1].endswith("/tcp"):
                continue
            try:
                port = int(fields[1][:-4])
            except ValueError:
                continue
            names.setdefault(port, fields[0])
            with contextlib.suppress(IndexError, ValueError):
                freq.append((float(fields[2]), port))
        freq.sort(key=lambda item: (-item[0], item[1]))
        return names, tuple(port for _f, port in freq)
    return {}, ()


def service_name(port: int) -> str:
    """The service usually found on a TCP port, or ``unknown`` (what nmap says for unlisted ports)."""
    return _services_table()[0].get(port, "unknown")


def top_ports(count: int) -> list[int]:
    """The ``count`` most common TCP ports (nmap's ``--top-ports``); 1-``count`` without nmap's table."""
    _, by_frequency = _services_table()
    if by_frequency:
        return sorted(by_frequency[:count])
    return list(range(1, min(count, 65535) + 1))


# -- targets -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScanTarget:
    name: str  # as the user wrote it ("localhost")
    address: str  # what is scanned ("127.0.0.1")
    family: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.address)


def is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def outside_loopback(targets: Iterable[ScanTarget]) -> list[str]:
    """The addresses a face must have the user confirm before scanning (everything not loopback)."""
    return [t.address for t in targets if not t.loopback]


def split_targets(spec: str) -> list[str]:
    items = [item for item in re.split(r"[,\s]+", spec.strip()) if item]
    if not items:
        raise NetlabError("no target given: name a host, an address or a network (127.0.0.1, localhost, 127.0.0.0/29)")
    return items


async def resolve_targets(spec: str) -> list[ScanTarget]:
    """Addresses, networks (CIDR) and host names, comma- or space-separated, each resolved now."""
    loop = asyncio.get_running_loop()
    targets: list[ScanTarget] = []
    seen: set[str] = set()

    def add(name: str, address: str, family: int) -> None:
        if address not in seen:
            seen.add(address)
            targets.append(ScanTarget(name, address, family))
        if len(targets) > MAX_HOSTS:
            raise NetlabError(f"{spec!r} is more than {MAX_HOSTS} hosts: scan a smaller network")

    for item in split_targets(spec):
        bare = item[1:-1] if item.startswith("[") and item.endswith("]") else item
        if "/" in bare:
            try:
                network = ipaddress.ip_network(bare, strict=False)
            except ValueError:
                raise NetlabError(f"invalid network {item!r}: write it as 127.0.0.0/29 or ::1/128") from None
            if network.num_addresses > MAX_HOSTS + 2:
                raise NetlabError(f"{item} is {network.num_addresses:,} addresses: at most {MAX_HOSTS} hosts per scan")
            hosts = list(network.hosts()) or [network.network_address]
            family = socket.AF_INET6 if network.version == 6 else socket.AF_INET
            for ip in hosts:
                add(item, str(ip), family)
            continue
        try:
            ip = ipaddress.ip_address(bare)
        except ValueError:
            pass
        else:
            add(item, str(ip), socket.AF_INET6 if ip.version == 6 else socket.AF_INET)
            continue
        try:
            infos = await loop.getaddrinfo(bare, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NetlabError(f"cannot resolve host {item!r}: {exc.strerror}") from None
        except UnicodeError:
            raise NetlabError(f"invalid host name {item!r}") from None
        if not infos:
            raise NetlabError(f"cannot resolve host {item!r}")
        family, _type, _proto, _canon, sockaddr = infos[0]
        add(item, sockaddr[0], family)
    return targets


# -- nmap ----------------------------------------------------------------------------------------------
def nmap_binary() -> str | None:
    """The nmap on the PATH (python-nmap would also try fixed paths; netlab honours the PATH only)."""
    return shutil.which("nmap")


def can_syn_scan() -> bool:
    """SYN scans need raw sockets: root (and nmap)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and nmap_binary() is not None


def parse_nmap_xml(xml: str, ports: Iterable[int] | None = None, err: str = "") -> dict[str, dict[int, tuple[str, str, str]]]:
    """nmap's XML report → {address: {port: (state, service, reason)}} for TCP ports.

    python-nmap reads the ports nmap lists; the ports folded into ``<extraports>`` are expanded here
    (from ``<extrareasons ports=…>``, or for all the requested ports nmap did not list when it gives
    no port list).
    """
    import nmap  # python-nmap

    try:
        # Only the parser is needed: skip PortScanner.__init__, which runs `nmap -V` and fails where
        # nmap is not installed (a comparison parses reports produced on other hosts).
        report = nmap.PortScanner.__new__(nmap.PortScanner).analyse_nmap_xml_scan(
            nmap_xml_output=xml, nmap_err=err, nmap_err_keep_trace=[], nmap_warn_keep_trace=[]
        )
    except nmap.PortScannerError as exc:
        raise NetlabError(f"nmap failed: {_first_line(str(exc)) or 'no report'}") from None
    wanted = set(ports) if ports is not None else None
    results: dict[str, dict[int, tuple[str, str, str]]] = {}
    for address, host in report.get("scan", {}).items():
        found: dict[int, tuple[str, str, str]] = {}
        for port, info in host.get("tcp", {}).items():
            found[int(port)] = (info.get("state", "unknown"), info.get("name") or service_name(int(port)),
                                info.get("reason", ""))
        results[address] = found
    # python-nmap drops <extraports>: read them from the XML itself.
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return results
    for host in root.iter("host"):
        addr = host.find("address")
        if addr is None:
            continue
        found = results.setdefault(addr.get("addr", ""), {})
        unlisted_state = None
        for extra in host.iter("extraports"):
            state = extra.get("state", "unknown")
            reasons = extra.findall("extrareasons")
            with_ports = [r for r in reasons if r.get("ports") and r.get("proto", "tcp") == "tcp"]
            if with_ports:
                for reason in with_ports:
                    for port in parse_ports(reason.get("ports")):
                        found.setdefault(port, (state, service_name(port), reason.get("reason", "")))
            else:
                unlisted_state = state
        if unlisted_state is not None and wanted is not None:
            for port in wanted - found.keys():
                found[port] = (unlisted_state, service_name(port), "")
    if wanted is not None:
        for address, found in results.items():
            results[address] = {p: v for p, v in found.items() if p in wanted}
    return results


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# -- results and progress ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PortResult:
    host: str
    port: int
    state: str
    service: str
    reason: str = ""


@dataclass(slots=True)
class ScanProgress:
    total: int = 0
    done: int = 0
    partial: float = 0.0  # ports estimated done inside a running nmap chunk
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def completed(self) -> float:
        return min(float(self.total), self.done + self.partial)

    @property
    def fraction(self) -> float:
        return self.completed / self.total if self.total else 1.0

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far; None before anything is known."""
        if self.finished is not None:
            return 0.0
        completed = self.completed
        if completed <= 0:
            return None
        return self.elapsed * (self.total - completed) / completed


# -- the session ---------------------------------------------------------------------------------------
class ScanSession(Session):
    kind = "scan"
    proto = "scan"
    role = "scan"

    def __init__(
        self,
        journal: Journal,
        target: str,
        ports: str | None = None,
        *,
        engine: str = "nmap",
        syn: bool = False,
        allow_remote: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
        log_closed: bool = True,
    ) -> None:
        super().__init__(journal, name=f"scan@{target.strip()}")
        if engine not in ENGINES:
            raise NetlabError(f"unknown scan engine {engine!r}: choose {' or '.join(ENGINES)}")
        split_targets(target)
        self.target = target.strip()
        self.port_spec = ports
        self.ports = parse_ports(ports)  # validated now, so a form can show the error at once
        self.requested_engine = engine
        self.engine = engine
        self.syn = syn
        self.allow_remote = allow_remote
        if not 0 < timeout <= 60:
            raise NetlabError("the connect timeout must be more than 0 and at most 60 seconds")
        self.timeout = timeout
        self.concurrency = max(1, min(concurrency, _fd_budget()))
        self.targets: list[ScanTarget] = []
        self.results: dict[tuple[str, int], PortResult] = {}
        self._counts: dict[str, int] = {}
        self.progress = ScanProgress()
        self.notes: list[str] = []
        self.command: list[str] | None = None  # the nmap command line, for display
        self.conn = new_conn_id("scan")
        self._task: asyncio.Task | None = None
        self._cancel = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._proc_lock = threading.Lock()
        self.log_closed = log_closed  # one event per closed port, or summaries (may change mid-scan)
        self._closed_pending: dict[str, list[int]] = {}  # host → closed ports not yet summarised

    @property
    def description(self) -> str:
        p = self.progress
        return f"{self.engine} {p.done}/{p.total} ports"

    def open_ports(self, host: str | None = None) -> list[int]:
        return sorted(r.port for r in self.results.values() if r.state == "open" and host in (None, r.host))

    def counts(self) -> dict[str, int]:
        """Ports per state so far (kept as results arrive: progress displays ask often)."""
        return dict(self._counts)

    # -- lifecycle -----------------------------------------------------------------------------------
    async def _start(self) -> None:
        self.targets = await resolve_targets(self.target)
        outside = outside_loopback(self.targets)
        if outside and not self.allow_remote:
            raise ScanPolicyError(outside)
        if self.engine == "nmap" and nmap_binary() is None:
            self.engine = "connect"
            self._note("nmap is not installed (not on the PATH): using netlab's built-in connect scanner")
        if self.syn:
            if self.engine != "nmap":
                raise NetlabError("a SYN scan needs nmap; the connect engine only does TCP connect scans")
            if not can_syn_scan():
                raise NetlabError("a SYN scan needs root privileges (raw sockets): run as root, or use a connect scan")
        total = len(self.targets) * len(self.ports)
        if total > MAX_PROBES:
            raise NetlabError(f"{len(self.targets)} hosts × {len(self.ports):,} ports is {total:,} probes: at most "
                              f"{MAX_PROBES:,} per scan (fewer hosts or fewer ports)")
        self.progress = ScanProgress(total=total)
        method = ("nmap -sS" if self.syn else "nmap -sT") if self.engine == "nmap" else "connect scan"
        in_all = f", {total:,} in all" if len(self.targets) > 1 else ""
        self.emit(
            "info",
            conn=self.conn,
            message=f"scanning {len(self.ports):,} port{'s' if len(self.ports) != 1 else ''} on "
                    f"{_describe_targets(self.targets)}{in_all} ({method})",
            meta={"engine": self.engine, "hosts": [t.address for t in self.targets],
                  "ports": format_ports(self.ports), "total": self.progress.total, "syn": self.syn},
        )
        runner = self._run_nmap if self.engine == "nmap" else self._run_connect
        self._task = asyncio.get_running_loop().create_task(self._run(runner))

    async def _stop(self) -> None:
        self._cancel.set()
        self._kill_nmap()
        task = self._task
        if task is None or task.done():
            return
        if self.engine == "nmap":
            # The worker thread notices the cancel as soon as nmap is gone: let it end and reap nmap.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                async with asyncio.timeout(3.0):
                    await asyncio.shield(task)
            self._kill_nmap(force=True)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, runner) -> None:
        error: str | None = None
        try:
            await runner()
        except asyncio.CancelledError:
            self.progress.finished = time.monotonic()
            self._summary(stopped=True)
            raise
        except NetlabError as exc:
            error = str(exc)
        except Exception as exc:  # an engine bug ends this scan, never the app
            error = f"scan failed: {exc!r}"
        self.progress.finished = time.monotonic()
        if error:
            self.emit("error", conn=self.conn, message=error)
        self._summary(stopped=self._cancel.is_set())
        self.finished(error)

    def _flush_closed(self) -> None:
        """One event per host for the closed ports recorded since the last one."""
        pending, self._closed_pending = self._closed_pending, {}
        for host, ports in pending.items():
            spec = format_ports(sorted(ports))
            shown = spec if len(spec) <= 60 else spec[:59] + "…"
            self.emit(
                "info",
                conn=self.conn,
                peer=format_addr(host, ports[0]) if len(ports) == 1 else None,
                message=f"{len(ports):,} closed port{'s' if len(ports) != 1 else ''} on {host}: {shown}",
                meta={"host": host, "state": "closed", "closed": len(ports), "ports": spec},
            )

    def _summary(self, stopped: bool) -> None:
        self._flush_closed()
        counts = self.counts()
        elapsed = self.progress.elapsed
        parts = [f"{counts.get(s, 0):,} {s}" for s in STATES if counts.get(s, 0) or s == "open"]
        parts += [f"{n:,} {s}" for s, n in counts.items() if s not in STATES]
        verb = "stopped" if stopped else "done"
        self.emit(
            "info",
            conn=self.conn,
            message=f"scan {verb}: {', '.join(parts)} ({self.progress.done:,}/{self.progress.total:,} ports in {elapsed:.2f}s)",
            meta={"summary": True, "stopped": stopped, "engine": self.engine, "counts": counts,
                  "open": {t.address: self.open_ports(t.address) for t in self.targets},
                  "done": self.progress.done, "total": self.progress.total, "elapsed": round(elapsed, 3)},
        )

    def _note(self, text: str) -> None:
        self.notes.append(text)
        self.emit("info", conn=self.conn, message=text, meta={"note": True})

    def _record(self, target: ScanTarget, port: int, state: str, reason: str, service: str | None = None) -> None:
        key = (target.address, port)
        if key in self.results:
            return
        service = service or service_name(port)
        self.results[key] = PortResult(target.address, port, state, service, reason)
        self._counts[state] = self._counts.get(state, 0) + 1
        self.progress.done += 1
        if state == "closed" and not self.log_closed:
            pending = self._closed_pending.setdefault(target.address, [])
            pending.append(port)
            if len(pending) >= CLOSED_BATCH:
                self._flush_closed()
            return
        self.emit(
            "port",
            conn=self.conn,
            peer=format_addr(target.address, port),
            message=f"{port}/tcp {state} {service}",
            meta={"host": target.address, "port": port, "state": state, "service": service,
                  "reason": reason, "target": target.name},
        )

    # -- connect engine ------------------------------------------------------------------------------
    async def _run_connect(self) -> None:
        """One coroutine starts every connect; only those still in progress get a task of their own.

        On loopback nearly every port is decided inside ``connect`` itself, so the loop is yielded by
        time (every few milliseconds) rather than by port: the app stays responsive, and the scan
        costs no task, future or timer per port. At most ``concurrency`` connects wait at once.
        """
        loop = asyncio.get_running_loop()
        record = self._record
        waiting: set[asyncio.Task] = set()
        limit = self.concurrency
        clock = time.monotonic
        slice_end = clock() + _SLICE
        new_socket = _socket.socket if self.place is None else self.place.socket  # a topology host's sockets
        try:
            for target, port in ((t, p) for t in self.targets for p in self.ports):
                while True:
                    if len(waiting) >= limit:
                        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    outcome = _open_probe(target, port, new_socket)
                    if outcome is not None:
                        break
                    if not waiting:  # out of file descriptors with none of ours to free: give the app a moment
                        await asyncio.sleep(0.05)
                    else:
                        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if isinstance(outcome, tuple):
                    record(target, port, *outcome)
                else:
                    task = loop.create_task(self._await_probe(outcome, target, port))
                    waiting.add(task)
                    task.add_done_callback(waiting.discard)
                if clock() >= slice_end:
                    await asyncio.sleep(0)
                    slice_end = clock() + _SLICE
            if waiting:
                await asyncio.gather(*waiting)
        finally:
            for task in list(waiting):  # stopped: abandon the connects still in flight (closing their sockets)
                task.cancel()

    async def _await_probe(self, sock: _socket.socket, target: ScanTarget, port: int) -> None:
        """The slow path: a connect still in progress, awaited up to the timeout."""
        loop = asyncio.get_running_loop()
        try:
            waiter = loop.create_future()
            fd = sock.fileno()
            loop.add_writer(fd, _settle, waiter)
            timer = loop.call_later(self.timeout, _settle, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                loop.remove_writer(fd)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0 and not _connected(sock):
                state, reason = "filtered", "no-response"
            else:
                state, reason = _classify(sock, err)
        finally:
            sock.close()
        self._record(target, port, state, reason)

    # -- nmap engine ---------------------------------------------------------------------------------
    async def _run_nmap(self) -> None:
        await asyncio.to_thread(self._nmap_thread)

    def _nmap_thread(self) -> None:
        binary = nmap_binary()
        if binary is None:
            raise NetlabError("nmap disappeared from the PATH during the scan")
        by_family: dict[int, list[ScanTarget]] = {}
        for target in self.targets:
            by_family.setdefault(target.family, []).append(target)
        for chunk in _chunks(self.ports, _chunk_size(len(self.ports))):
            for family, targets in by_family.items():
                if self._cancel.is_set():
                    return
                args = [binary, "-oX", "-", "-sS" if self.syn else "-sT", "-Pn", "-T4", "-n",
                        "--stats-every", "1s", "-p", format_ports(chunk)]
                if family == socket.AF_INET6:
                    args.append("-6")
                args += [t.address for t in targets]
                if self.command is None:
                    self.command = args
                share = len(chunk) * len(targets)
                xml, err = self._run_nmap_process(args, share)
                if self._cancel.is_set():
                    return
                results = parse_nmap_xml(xml, chunk, err)
                batch: list[tuple[ScanTarget, int, str, str, str]] = []
                for target in targets:
                    found = results.get(target.address, {})
                    for port in chunk:
                        state, service, reason = found.get(port, ("unknown", service_name(port), "no-report"))
                        batch.append((target, port, state, reason, service))
                # One hand-over per chunk; the loop records it while nmap already scans the next one.
                self.call_threadsafe(self._record_batch, batch)

    def _record_batch(self, batch: list[tuple[ScanTarget, int, str, str, str]]) -> None:
        if self._cancel.is_set():
            return
        self.progress.partial = 0.0
        record = self._record
        for target, port, state, reason, service in batch:
            record(target, port, state, reason, service)
        self._flush_closed()  # one summary per chunk

    def _run_nmap_process(self, args: list[str], share: int) -> tuple[str, str]:
        """Run one nmap, feeding its ``--stats-every`` progress to ``progress.partial``; (xml, stderr)."""
        with tempfile.TemporaryFile() as errfile:
            with self._proc_lock:
                if self._cancel.is_set():
                    return "", ""
                try:
                    proc = subprocess.Popen(place_command(self.place, args), stdout=subprocess.PIPE, stderr=errfile, stdin=subprocess.DEVNULL,
                                            text=True, encoding="utf-8", errors="replace")
                except OSError as exc:
                    raise NetlabError(f"cannot run nmap: {exc.strerror or exc}") from None
                self._proc = proc
            lines: list[str] = []
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if "<taskprogress" in line:
                    match = re.search(r'percent="([\d.]+)"', line)
                    if match:
                        estimate = share * float(match.group(1)) / 100.0
                        self.call_threadsafe(setattr, self.progress, "partial", estimate)
            status = proc.wait()
            with self._proc_lock:
                self._proc = None
            errfile.seek(0)
            err = errfile.read().decode("utf-8", errors="replace")
        if self._cancel.is_set():
            return "", ""
        if status != 0:
            raise NetlabError(f"nmap failed (exit status {status}): {_nmap_error(err) or 'no message'}")
        return "".join(lines), err

    def _kill_nmap(self, force: bool = False) -> None:
        with self._proc_lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.kill() if force else proc.terminate()


def _describe_targets(targets: list[ScanTarget]) -> str:
    """``127.0.0.1`` · ``localhost (127.0.0.1)`` · ``127.0.0.0/29 (6 hosts)``, joined by commas."""
    by_name: dict[str, list[str]] = {}
    for target in targets:
        by_name.setdefault(target.name, []).append(target.address)
    parts = []
    for name, addresses in by_name.items():
        if len(addresses) > 1:
            parts.append(f"{name} ({len(addresses)} hosts)")
        elif addresses[0] == name:
            parts.append(name)
        else:
            parts.append(f"{name} ({addresses[0]})")
    return ", ".join(parts)


def _nmap_error(err: str) -> str:
    lines = [line.strip() for line in err.splitlines() if line.strip() and not line.startswith("Warning")]
    return lines[0] if lines else _first_line(err)


def _chunk_size(count: int) -> int:
    """Ports per nmap run: large enough that nmap's start-up (~30 ms) stays small against the scan,
    small enough that results stream in about eight steps."""
    return max(1024, -(-count // 8))


def _chunks(ports: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ports), size):
        yield ports[start:start + size]


def _fd_budget() -> int:
    """How many sockets may be open at once without starving the rest of the process."""
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return 256
    if soft == resource.RLIM_INFINITY:
        return DEFAULT_CONCURRENCY
    return max(16, (soft - 64) // 2)


def _sockaddr(target: ScanTarget, port: int) -> tuple:
    if target.family == socket.AF_INET6:
        return (target.address, port, 0, 0)
    return (target.address, port)


def _settle(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _connected(sock: _socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


def _self_connected(sock: _socket.socket) -> bool:
    """A connect to a local port in the ephemeral range can land on its own source port (TCP
    simultaneous open) and look open; nothing is listening there."""
    try:
        return sock.getsockname()[:2] == sock.getpeername()[:2]
    except OSError:
        return False


def _open_probe(target: ScanTarget, port: int, new_socket=_socket.socket) -> tuple[str, str] | _socket.socket | None:
    """Start a non-blocking connect. On loopback the kernel answers before ``connect`` returns, so
    most ports are decided here: (state, reason). Otherwise the socket, still connecting, for the
    caller to await; None when the process is out of file descriptors."""
    try:
        # The C-level socket: socket.socket's Python __init__/close cost a third of a loopback scan.
        sock = new_socket(target.family, socket.SOCK_STREAM)
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            return None
        raise NetlabError(f"cannot create a socket: {exc.strerror or exc}") from None
    pending = False
    try:
        sock.setblocking(False)
        err = sock.connect_ex(_sockaddr(target, port))
        if err == errno.EINPROGRESS:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0 and not _connected(sock):
                pending = True
                return sock
        return _classify(sock, err)
    finally:
        if not pending:
            sock.close()


_FILTERED_REASONS = {
    errno.ETIMEDOUT: "no-response",
    errno.EHOSTUNREACH: "host-unreach",
    errno.ENETUNREACH: "net-unreach",
    errno.EACCES: "admin-prohibited",
    errno.EPERM: "admin-prohibited",
}


def _classify(sock: _socket.socket, err: int) -> tuple[str, str]:
    if err == 0:
        if _self_connected(sock):
            return "closed", "self-connect"
        return "open", "syn-ack"
    if err == errno.ECONNREFUSED:
        return "closed", "conn-refused"
    return "filtered", _FILTERED_REASONS.get(err, errno.errorcode.get(err, str(err)).lower())


__all__ = [
    "ENGINES", "STATES", "PortResult", "ScanPolicyError", "ScanProgress", "ScanSession", "ScanTarget",
    "can_syn_scan", "format_ports", "is_loopback", "nmap_binary", "outside_loopback", "parse_nmap_xml",
    "parse_ports", "resolve_targets", "service_name", "top_ports",
]
