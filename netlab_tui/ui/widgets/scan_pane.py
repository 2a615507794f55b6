"""Port scan: target, ports and engine; results stream into a table under a progress bar with ETA.

Targets outside the loopback range are scanned only after a confirmation. With SSH hosts in
*Compare from*, the same scan also runs there and a second table shows the results side by side,
the ports that differ marked.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, DataTable, Input, Label, ProgressBar, Select

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.sessions import NetlabError, Session
from netlab_tui.engine.scan.scanner import (
    ENGINES,
    ScanSession,
    can_syn_scan,
    nmap_binary,
    outside_loopback,
    resolve_targets,
)
from netlab_tui.ui.panes import register_pane
from netlab_tui.ui.screens.confirm import ConfirmScreen

from .base import NetlabPane
from .check_box import NetlabCheckbox
from .event_inbox import EventInbox
from .host_select import HostSelect
from .wake_timer import WakeTimer

STATE_STYLES = {"open": "bold green", "closed": "dim", "filtered": "yellow", "error": "bold red"}
MAX_CLOSED_ROWS = 5_000  # a full scan has 65,535 closed ports: a table of them helps nobody
FLUSH_INTERVAL = 0.1


class ScanProgress(ProgressBar):
    """Textual's ProgressBar without its own once-a-second timer (which ticks whether a scan runs or not):
    the pane updates the bar, ETA included, at each flush while a scan runs."""

    def on_mount(self, event: events.Mount) -> None:
        # Not ProgressBar.on_mount, which starts the timer (nor Widget._on_mount, after it in the MRO:
        # it only handles "overflow: scroll", which a bar does not have).
        event.prevent_default()
        self.update()
        self._clock.reset()


def _titled(widget, title: str):
    """Label a form field in its border, which keeps the form narrow enough for the pane."""
    widget.border_title = title
    return widget


def _state(state: str) -> Text:
    return Text(state, style=STATE_STYLES.get(state, ""))


@register_pane
class ScanPane(NetlabPane):
    PANE_ID = "scan"
    PANE_TITLE = "Port scan"
    ORDER = 60
    HELP = """\
## Port scan
Which TCP ports answer on a host — what `nmap -sT` does: try to connect to each port.

- **Target**: an address, a host name or a small network (`127.0.0.1`, `localhost`, `127.0.0.0/29`).
  Hosts outside `127.0.0.0/8` and `::1` ask for a confirmation first: **scan only machines you own**.
- **Ports**: `22,80,8000-8100`, `1000-`, `all` (1-65535) or empty for the 1,000 most common.
- **Engine**: *nmap* (TCP connect scan; *SYN* when netlab runs as root) or *connect*, netlab's own
  asyncio scanner, used automatically when nmap is not installed.
- **open**: something accepted the connection · **closed**: refused (RST) · **filtered**: no answer.
- **show closed**: list closed ports in the table too (at any time, even after the scan) and log
  each one; unticked, the log sums them up in one line per chunk of ports.
- **Compare from**: SSH hosts (`user@host[:port]`, comma-separated) that run the same scan with
  nmap; the comparison table marks with `≠` the ports whose state differs between places.
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+s", "stop", "Stop scan", id="scan.stop"),
    ]

    DEFAULT_CSS = """
    ScanPane .form { height: auto; }
    ScanPane #scan-target, ScanPane #scan-ports, ScanPane #scan-compare { width: 1fr; }
    ScanPane #scan-engine { width: 14; }
    ScanPane #scan-password { width: 18; }
    ScanPane .form Button { min-width: 8; }
    ScanPane .options { height: 1; }
    ScanPane .options Checkbox { border: none; height: 1; padding: 0 1; background: transparent; }
    ScanPane #scan-status { height: auto; color: $text-muted; padding: 0 1; }
    ScanPane #scan-progress { padding: 0 1; height: 1; }
    ScanPane DataTable { height: 1fr; border: round $primary-darken-3; }
    ScanPane #scan-compare-table { display: none; }
    ScanPane.comparing #scan-compare-table { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session: Session | None = None
        self.scan: ScanSession | None = None
        self._inbox = EventInbox()  # this scan's events, shown by the next _flush
        self._closed_rows = 0
        self._hidden_closed = 0

    def compose(self) -> ComposeResult:
        yield HostSelect()
        with Horizontal(classes="form"):
            yield _titled(Input("127.0.0.1", id="scan-target", placeholder="host, address or network"), "Target")
            yield _titled(Input("", id="scan-ports", placeholder="top 1000 · 22,80"), "Ports")
            yield _titled(Select([(name, name) for name in ENGINES], value="nmap" if nmap_binary() else "connect",
                                 allow_blank=False, id="scan-engine"), "Engine")
            yield Button("Scan", id="scan-start", variant="primary")
        with Horizontal(classes="form"):
            yield _titled(Input("", id="scan-compare", placeholder="user@host[:port], … (optional)"),
                          "Compare from (SSH)")
            yield _titled(Input("", id="scan-password", password=True, placeholder="if needed"), "SSH password")
            yield Button("Stop", id="scan-stop", disabled=True)
        with Horizontal(classes="options"):
            yield NetlabCheckbox("SYN scan", id="scan-syn", disabled=not can_syn_scan(),
                           tooltip="nmap -sS (needs root)" if can_syn_scan() else "SYN scans need root and nmap")
            yield NetlabCheckbox("show closed", id="scan-show-closed",
                                 tooltip="list closed ports in the table and log each one (else one summary line)")
            yield NetlabCheckbox("trust new SSH host keys", id="scan-trust")
        yield Label("ready" if nmap_binary() else "nmap is not installed: scans use netlab's connect scanner",
                    id="scan-status")
        # A known total (0 %) at rest: an indeterminate bar animates 15 times a second, scan or not.
        yield ScanProgress(total=100, show_eta=True, id="scan-progress")
        yield DataTable(id="scan-results", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="scan-compare-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#scan-results", DataTable).add_columns("Host", "Port", "State", "Service", "Reason")
        # Ticks only while a scan runs or its events arrive: an idle pane sleeps.
        self._flusher = WakeTimer(self, FLUSH_INTERVAL, self._flush_tick, name="scan-flush")
        self._inbox.on_event = self._flusher.wake

    def on_unmount(self) -> None:
        self._inbox.close()

    def prefill(self, **values: object) -> None:
        if "target" in values:
            self.query_one("#scan-target", Input).value = str(values["target"])
        if "ports" in values:
            self.query_one("#scan-ports", Input).value = str(values["ports"])
        if values.get("engine") in ENGINES:
            self.query_one("#scan-engine", Select).value = str(values["engine"])
        if "compare" in values:
            self.query_one("#scan-compare", Input).value = str(values["compare"])

    # -- starting ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#scan-start")
    @on(Input.Submitted, "#scan-target, #scan-ports, #scan-compare, #scan-password")
    def _start_pressed(self) -> None:
        self.start_scan(
            self.query_one("#scan-target", Input).value.strip(),
            self.query_one("#scan-ports", Input).value.strip() or None,
            str(self.query_one("#scan-engine", Select).value),
            self.query_one("#scan-syn", Checkbox).value,
            self.query_one("#scan-compare", Input).value.strip(),
        )

    @work(exclusive=True, group="scan", exit_on_error=False)
    async def start_scan(self, target: str, ports: str | None, engine: str, syn: bool, compare: str) -> None:
        if self.session is not None and self.session.running:
            await self.netlab.registry.stop(self.session)
        try:
            # Built first: a bad port list or engine is reported before anything is resolved.
            show_closed = self.query_one("#scan-show-closed", Checkbox).value
            probe = ScanSession(self.netlab.journal, target, ports, engine=engine, syn=syn, log_closed=show_closed)
            self._set_status(f"resolving {target} …")
            targets = await resolve_targets(target)
            outside = outside_loopback(targets)
            if outside:
                shown = ", ".join(outside[:5]) + (" …" if len(outside) > 5 else "")
                confirmed = await self.app.push_screen_wait(ConfirmScreen(
                    "Scan outside this machine?",
                    f"{shown} {'is' if len(outside) == 1 else 'are'} not on the loopback network.\n\n"
                    "Scanning machines you do not own or have no permission to test may be illegal and is "
                    "often seen as an attack. Scan only your own hosts.",
                    yes="I own it: scan", no="Cancel"))
                if not confirmed:
                    self._set_status("scan cancelled: the target is outside the loopback range")
                    return
            if compare:
                session: Session = self._compare_session(target, ports, engine, syn, compare, bool(outside))
                scan = session.local_scan  # type: ignore[attr-defined]
            else:
                probe.allow_remote = bool(outside)
                session = scan = probe
            self._reset(comparing=bool(compare))
            self.session, self.scan = session, scan
            self._subscribe(session, scan)
            await self.netlab.registry.start(session)
        except NetlabError as exc:
            self._inbox.close()
            self._set_status(f"not scanning — {exc}")
            self.notify(str(exc), title="Cannot scan", severity="error")
            return
        self._set_running(True)
        for note in scan.notes if scan is not None else []:
            self.notify(note, title="Scan engine", severity="warning")
        await session.wait_closed()
        self._flush()
        self._set_running(False)
        self._finished(session)
        for finished in (session, scan):  # a finished scan is history (the journal keeps its events)
            if finished is not None:
                self.netlab.registry.remove(finished)

    def _compare_session(self, target: str, ports: str | None, engine: str, syn: bool, compare: str,
                         allow_remote: bool) -> Session:
        from netlab_tui.engine.scan.compare import ScanCompareSession
        from netlab_tui.engine.ssh.client import parse_hosts

        password = self.query_one("#scan-password", Input).value or None
        hosts = parse_hosts([compare], trust=self.query_one("#scan-trust", Checkbox).value, password=password)
        session = ScanCompareSession(self.netlab.journal, target, ports, hosts, engine=engine,
                                     allow_remote=allow_remote)
        if session.local_scan is not None:
            session.local_scan.syn = syn
            session.local_scan.log_closed = self.query_one("#scan-show-closed", Checkbox).value
        return session

    @on(Checkbox.Changed, "#scan-show-closed")
    def _show_closed_changed(self, event: Checkbox.Changed) -> None:
        """Closed ports on demand: the table is rebuilt from the scan's results, and the scan logs (or
        sums up) the closed ports still to come."""
        scan = self.scan
        if scan is None:
            return
        scan.log_closed = event.value
        self._flush()
        self._inbox.discard()
        table = self.query_one("#scan-results", DataTable)
        table.clear()
        self._closed_rows = self._hidden_closed = 0
        rows = []
        for result in sorted(scan.results.values(), key=lambda r: (r.host, r.port)):
            if result.state == "closed":
                if not event.value or self._closed_rows >= MAX_CLOSED_ROWS:
                    self._hidden_closed += 1
                    continue
                self._closed_rows += 1
            rows.append((result.host, result.port, _state(result.state), result.service, result.reason or ""))
        table.add_rows(rows)
        if scan.progress.finished is not None and not (self.session and self.session.error):
            self._set_status(self._done_line(scan))

    # -- streaming -----------------------------------------------------------------------------------
    def _subscribe(self, session: Session, scan: ScanSession | None) -> None:
        def mine(event: TrafficEvent) -> bool:
            # By name at each event: the registry may rename a session when it starts it.
            return event.proto == "scan" and (event.source == session.name
                                              or (scan is not None and event.source == scan.name))

        self._inbox.follow(self.netlab.journal, mine)

    def _flush_tick(self) -> bool:
        had = self._inbox.pending
        self._flush()
        return had or (self.session is not None and self.session.running)

    def _flush(self) -> None:
        scan = self.scan
        events = self._inbox.take()
        if events:
            table = self.query_one("#scan-results", DataTable)
            show_closed = self.query_one("#scan-show-closed", Checkbox).value
            rows = []
            for event in events:
                meta = event.meta or {}
                if event.kind == "info" and meta.get("closed"):
                    self._hidden_closed += int(meta["closed"])  # summed up in the log, not listed
                    continue
                if event.kind != "port" or meta.get("vantage"):
                    continue
                if meta.get("state") == "closed":
                    if not show_closed or self._closed_rows >= MAX_CLOSED_ROWS:
                        self._hidden_closed += 1
                        continue
                    self._closed_rows += 1
                rows.append((meta.get("host"), meta.get("port"), _state(str(meta.get("state"))),
                             meta.get("service"), meta.get("reason") or ""))
            if rows:
                table.add_rows(rows)
        if scan is not None and scan.progress.total:
            progress = scan.progress
            self.query_one("#scan-progress", ProgressBar).update(total=progress.total, progress=progress.completed)
            if self.session is not None and self.session.running:
                self._set_status(self._progress_line(scan))

    def _progress_line(self, scan: ScanSession) -> str:
        counts = scan.counts()
        parts = [f"{counts.get('open', 0):,} open"]
        parts += [f"{counts[s]:,} {s}" for s in ("closed", "filtered") if counts.get(s)]
        eta = scan.progress.eta
        tail = f" · about {eta:.0f}s left" if eta is not None and scan.progress.finished is None else ""
        return (f"{scan.engine}: {int(scan.progress.completed):,}/{scan.progress.total:,} ports · "
                + " · ".join(parts) + tail)

    def _finished(self, session: Session) -> None:
        scan = self.scan
        comparison = getattr(session, "comparison", None)
        if session.error:
            self._set_status(f"scan failed — {session.error}")
            self.notify(session.error, title="Scan failed", severity="error")
        elif scan is not None:
            self._set_status(self._done_line(scan))
        if comparison is not None:
            self._show_comparison(comparison)

    def _done_line(self, scan: ScanSession) -> str:
        line = self._progress_line(scan) + f" · {scan.progress.elapsed:.2f}s"
        if self._hidden_closed:
            line += f" · {self._hidden_closed:,} closed ports not listed (tick show closed)"
        return ("stopped: " if scan.progress.done < scan.progress.total else "done: ") + line

    def _show_comparison(self, comparison) -> None:
        table = self.query_one("#scan-compare-table", DataTable)
        table.clear(columns=True)
        table.add_columns("", "Port", "Service", *[v.label for v in comparison.vantages])
        for row in comparison.rows():
            mark = Text("≠", style="bold red") if row.differs else Text("")
            cells = [_state(s) for s in row.states]
            if row.differs:
                for cell in cells:
                    cell.stylize("reverse")
            table.add_row(mark, row.port, row.service, *cells)
        errors = [f"{v.label}: {v.error}" for v in comparison.vantages if v.error]
        diffs = comparison.differences
        summary = (f"{len(diffs)} port{'s' if len(diffs) != 1 else ''} differ between places" if diffs
                   else "the same from every place that answered")
        table.border_title = "Compare: " + summary
        for error in errors:
            self.notify(error, title="Compare", severity="error")

    # -- stopping ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#scan-stop")
    def action_stop(self) -> None:
        if self.session is not None and self.session.running:
            self.stop_scan()

    @work(group="scan-stop", exit_on_error=False)
    async def stop_scan(self) -> None:
        if self.session is not None:
            await self.netlab.registry.stop(self.session, remove=False)

    # -- helpers -------------------------------------------------------------------------------------
    def _reset(self, comparing: bool) -> None:
        self._inbox.discard()
        self._closed_rows = 0
        self._hidden_closed = 0
        self.query_one("#scan-results", DataTable).clear()
        self.query_one("#scan-progress", ProgressBar).update(total=None, progress=0)
        self.set_class(comparing, "comparing")
        compare_table = self.query_one("#scan-compare-table", DataTable)
        compare_table.clear(columns=True)
        compare_table.border_title = "Compare: running …" if comparing else ""

    def _set_status(self, text: str) -> None:
        self.query_one("#scan-status", Label).update(text)

    def _set_running(self, running: bool) -> None:
        self.query_one("#scan-start", Button).disabled = running
        self.query_one("#scan-stop", Button).disabled = not running
