"""The same port scan from this machine and, over SSH, from other hosts, side by side.

The course's exercise: what a host exposes depends on where you look from (firewalls, services bound
to loopback …). ``ScanCompareSession`` runs a ``ScanSession`` here and ``nmap -oX -`` on each SSH host
at the same time (through ``ssh.run_on_hosts``), reads every report with the same parser, publishes
the remote results as ``port`` events too (``meta.vantage`` says from where), and ends with a
``ScanComparison``: one row per port, the ports where the vantage points disagree marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from netlab_tui.engine.core.events import format_addr, new_conn_id
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError, Session
from netlab_tui.engine.ssh.client import HostResult, SshTarget, run_on_hosts

from .scanner import (
    ScanPolicyError,
    ScanSession,
    format_ports,
    outside_loopback,
    parse_nmap_xml,
    parse_ports,
    resolve_targets,
    service_name,
)

LOCAL = "local"


def remote_nmap_command(target: str, ports: Sequence[int]) -> str:
    """What runs on each SSH host: a TCP connect scan (no root needed there), XML on stdout."""
    return f"nmap -oX - -sT -Pn -n -T4 -p {format_ports(ports)} {shlex.quote(target)}"


@dataclass
class VantageResult:
    """One point of view: port → (state, service), or why there is none."""

    label: str
    states: dict[int, tuple[str, str]] = field(default_factory=dict)
    error: str | None = None
    address: str | None = None  # the target's address as resolved there
    elapsed: float = 0.0

    def state(self, port: int) -> str:
        if self.error:
            return "error"
        return self.states.get(port, ("unknown", ""))[0]


@dataclass(frozen=True)
class CompareRow:
    port: int
    service: str
    states: tuple[str, ...]  # one per vantage, in order

    @property
    def differs(self) -> bool:
        return len(set(self.states)) > 1


@dataclass
class ScanComparison:
    target: str
    ports: list[int]
    vantages: list[VantageResult]

    def row(self, port: int) -> CompareRow:
        service = next((v.states[port][1] for v in self.vantages if port in v.states and v.states[port][1]),
                       service_name(port))
        return CompareRow(port, service, tuple(v.state(port) for v in self.vantages))

    def rows(self, everything: bool = False) -> list[CompareRow]:
        """Rows worth showing: ports not closed everywhere, and every port where the views differ."""
        rows = []
        for port in self.ports:
            row = self.row(port)
            if everything or row.differs or any(s != "closed" for s in row.states):
                rows.append(row)
        return rows

    @property
    def differences(self) -> list[int]:
        """Ports whose state differs between vantage points that produced a result."""
        usable = [v for v in self.vantages if not v.error]
        return [p for p in self.ports if len({v.state(p) for v in usable}) > 1]

    def to_meta(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "vantages": [{"label": v.label, "address": v.address, "error": v.error,
                          "open": sorted(p for p, (s, _n) in v.states.items() if s == "open"),
                          "elapsed": round(v.elapsed, 3)} for v in self.vantages],
            "differences": [{"port": p, "states": dict(zip([v.label for v in self.vantages], self.row(p).states))}
                            for p in self.differences],
        }

    def side_by_side(self, everything: bool = False) -> list[str]:
        """A text table: PORT SERVICE then one column per vantage; ``*`` marks rows that differ."""
        labels = [v.label for v in self.vantages]
        width = max([10, *(len(label) + 2 for label in labels)])
        lines = ["  " + f"{'PORT':<11} {'SERVICE':<16} " + "".join(f"{label:<{width}}" for label in labels)]
        for row in self.rows(everything):
            mark = "* " if row.differs else "  "
            lines.append((mark + f"{str(row.port) + '/tcp':<11} {row.service[:16]:<16} "
                          + "".join(f"{s:<{width}}" for s in row.states)).rstrip())
        for v in self.vantages:
            if v.error:
                lines.append(f"  {v.label}: {v.error}")
        diffs = self.differences
        if diffs:
            lines.append(f"{len(diffs)} difference{'s' if len(diffs) != 1 else ''} between {', '.join(labels)}")
        else:
            lines.append("the same from " + ", ".join(v.label for v in self.vantages if not v.error))
        return lines


def vantage_from_scan(scan: ScanSession, label: str = LOCAL) -> VantageResult:
    """A finished local scan as one column of a comparison."""
    vantage = VantageResult(label, elapsed=scan.progress.elapsed)
    if scan.error:
        vantage.error = scan.error
        return vantage
    if scan.targets:
        vantage.address = scan.targets[0].address
    vantage.states = {r.port: (r.state, r.service) for r in scan.results.values()}
    return vantage


class ScanCompareSession(Session):
    kind = "scan-compare"
    proto = "scan"
    role = "scan"

    def __init__(
        self,
        journal: Journal,
        target: str,
        ports: str | None,
        hosts: Sequence[SshTarget],
        *,
        engine: str = "nmap",
        allow_remote: bool = False,
        local: bool = True,
    ) -> None:
        super().__init__(journal, name=f"scan-compare@{target.strip()}")
        if not hosts:
            raise NetlabError("no SSH host to compare with: name at least one [user@]host[:port]")
        self.target = target.strip()
        self.port_spec = ports
        self.ports = parse_ports(ports)
        self.hosts = list(hosts)
        self.engine = engine
        self.allow_remote = allow_remote
        self.include_local = local
        self.local_scan: ScanSession | None = (
            ScanSession(journal, self.target, ports, engine=engine, allow_remote=allow_remote) if local else None)
        self.comparison: ScanComparison | None = None
        self.results: list[HostResult] = []
        self.conn = new_conn_id("scan")
        self._task: asyncio.Task | None = None

    @property
    def description(self) -> str:
        if self.comparison is None:
            return f"{self.target} from {len(self.hosts) + (1 if self.include_local else 0)} places"
        return f"{self.target}: {len(self.comparison.differences)} differences"

    async def _start(self) -> None:
        targets = await resolve_targets(self.target)
        if len(targets) != 1:
            raise NetlabError(f"compare scans one host at a time; {self.target!r} is {len(targets)} hosts")
        outside = outside_loopback(targets)
        if outside and not self.allow_remote:
            raise ScanPolicyError(outside)
        self.emit("info", conn=self.conn,
                  message=f"comparing a scan of {self.target} ({len(self.ports):,} ports) from "
                          + ", ".join(([LOCAL] if self.include_local else []) + [h.label for h in self.hosts]),
                  meta={"compare": True, "target": self.target, "ports": format_ports(self.ports),
                        "vantages": ([LOCAL] if self.include_local else []) + [h.label for h in self.hosts]})
        if self.local_scan is not None:
            if self.registry is not None:
                await self.registry.start(self.local_scan)
            else:
                await self.local_scan.start()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _stop(self) -> None:
        if self.local_scan is not None and self.local_scan.running:
            await self.local_scan.stop()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        error = None
        try:
            started = time.monotonic()
            remote = asyncio.ensure_future(
                run_on_hosts(self.journal, self.hosts, remote_nmap_command(self.target, self.ports),
                             registry=self.registry))
            vantages: list[VantageResult] = []
            if self.local_scan is not None:
                await self.local_scan.wait_closed()
                vantages.append(vantage_from_scan(self.local_scan))
            self.results = await remote
            elapsed = time.monotonic() - started
            for result in self.results:
                vantages.append(self._remote_vantage(result, elapsed))
            self.comparison = ScanComparison(self.target, self.ports, vantages)
            diffs = self.comparison.differences
            self.emit(
                "info", conn=self.conn,
                message=(f"{len(diffs)} port{'s' if len(diffs) != 1 else ''} differ: "
                         + ", ".join(map(str, diffs[:12])) + (" …" if len(diffs) > 12 else "")) if diffs
                else "the same from every place that answered",
                meta={"summary": True, "comparison": self.comparison.to_meta()},
            )
        except asyncio.CancelledError:
            raise
        except NetlabError as exc:
            error = str(exc)
        except Exception as exc:  # a bug ends this comparison, not the app
            error = f"compare failed: {exc!r}"
        if error:
            self.emit("error", conn=self.conn, message=error)
        self.finished(error)

    def _remote_vantage(self, result: HostResult, elapsed: float) -> VantageResult:
        vantage = VantageResult(result.label, elapsed=elapsed)
        stderr = result.stderr.decode("utf-8", errors="replace")
        if result.error:
            vantage.error = result.error
        elif result.code == 127 or "nmap: command not found" in stderr or "nmap: not found" in stderr:
            vantage.error = "nmap is not installed there"
        elif result.code not in (0, None) or not result.stdout.strip():
            detail = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
            vantage.error = f"nmap failed there (exit {result.code}){': ' + detail if detail else ''}"
        else:
            try:
                hosts = parse_nmap_xml(result.stdout.decode("utf-8", errors="replace"), self.ports, stderr)
            except NetlabError as exc:
                vantage.error = str(exc)
            else:
                if not hosts:
                    detail = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
                    vantage.error = f"nmap there reported no host{': ' + detail if detail else ''}"
                else:
                    vantage.address, found = next(iter(hosts.items()))
                    vantage.states = {p: (state, service) for p, (state, service, _r) in found.items()}
        if vantage.error:
            self.emit("error", conn=self.conn, peer=result.target.address,
                      message=f"{result.label}: {vantage.error}", meta={"vantage": result.label})
            return vantage
        for port in self.ports:
            state, service = vantage.states.get(port, ("unknown", service_name(port)))
            self.emit("port", conn=self.conn, peer=format_addr(vantage.address or self.target, port),
                      message=f"{port}/tcp {state} {service} (from {result.label})",
                      meta={"host": vantage.address, "port": port, "state": state, "service": service,
                            "vantage": result.label, "target": self.target})
        return vantage
