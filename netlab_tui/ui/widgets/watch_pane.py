"""Directory watch: every change in a directory tree in a live table, optionally forwarded to a server.

The forward target is any TCP server taking JSON lines — ``watch-collector`` in *Servers* is the
matching one; when collectors run in this netlab, a second table shows what each of their clients
reported.
"""

from __future__ import annotations

import os
import re
import time
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Subscription
from netlab_tui.engine.core.sessions import NetlabError, Session
from netlab_tui.engine.watch.watcher import CHANGE_KINDS, COLLECTOR_NAME, WatchSession
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane
from .event_inbox import EventInbox
from .host_select import HostSelect
from .wake_timer import WakeTimer

KIND_STYLES = {"created": "green", "modified": "yellow", "moved": "cyan", "deleted": "red"}
MAX_ROWS = 10_000  # the journal keeps the full history; the table shows the recent part
FLUSH_INTERVAL = 0.1


def _titled(widget, title: str):
    """Label a form field in its border, which keeps the form narrow enough for the pane."""
    widget.border_title = title
    return widget


def split_globs(text: str) -> list[str]:
    return [g for g in re.split(r"[,\s]+", text.strip()) if g]


@register_pane
class WatchPane(NetlabPane):
    PANE_ID = "watch"
    PANE_TITLE = "Directory watch"
    ORDER = 61
    HELP = """\
## Directory watch
Every change in a directory and its subdirectories, as `watchdog` reports it: **created**,
**modified**, **moved** (from → to) and **deleted**.

- **Include** / **Exclude**: globs, comma-separated. `*.py` matches file names; `src/*.py` matches
  the path from the directory; an excluded name (`.git`) hides everything below it too.
- **Forward to** `HOST:PORT`: each change is also sent as one JSON line to a TCP server — the
  course's exercise. Start a **watch-collector** in *Servers* to receive them: it shows each client's
  changes, and watchers reconnect by themselves when it restarts (changes wait in a queue meanwhile).
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+s", "stop", "Stop watching", id="watch.stop"),
    ]

    DEFAULT_CSS = """
    WatchPane .form { height: auto; }
    WatchPane #watch-dir, WatchPane #watch-include, WatchPane #watch-exclude { width: 1fr; }
    WatchPane #watch-forward { width: 24; }
    WatchPane .form Button { min-width: 9; }
    WatchPane #watch-status { height: auto; color: $text-muted; padding: 0 1; }
    WatchPane DataTable { height: 1fr; border: round $primary-darken-3; }
    WatchPane #watch-clients { height: auto; max-height: 10; display: none; }
    WatchPane.collecting #watch-clients { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session: WatchSession | None = None
        self._inbox = EventInbox()  # this watch's events, shown by the next _flush
        self._collector_subscription: Subscription | None = None
        self._clients_dirty = False
        self._rows = 0

    def compose(self) -> ComposeResult:
        yield HostSelect()
        with Horizontal(classes="form"):
            yield _titled(Input(os.getcwd(), id="watch-dir"), "Directory")
            yield _titled(Input("", id="watch-forward", placeholder="HOST:PORT (optional)"), "Forward to")
            yield Button("Watch", id="watch-start", variant="primary")
            yield Button("Stop", id="watch-stop", disabled=True)
        with Horizontal(classes="form"):
            yield _titled(Input("", id="watch-include", placeholder="*.py, docs/*.md (empty: all)"), "Include")
            yield _titled(Input("", id="watch-exclude", placeholder=".git, __pycache__, *.swp"), "Exclude")
        yield Label("not watching", id="watch-status")
        yield DataTable(id="watch-table", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="watch-clients", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#watch-table", DataTable).add_columns("Time", "Change", "Path", "To")
        clients = self.query_one("#watch-clients", DataTable)
        clients.add_columns("Collector client", "From", "Changes", "Connected", "Last change")
        clients.border_title = "Collector clients"
        self._collector_subscription = self.netlab.journal.subscribe(
            self._collector_event, lambda e: e.source.startswith(COLLECTOR_NAME + "@"))
        # Ticks only while changes arrive: an idle pane sleeps.
        self._flusher = WakeTimer(self, FLUSH_INTERVAL, self._flush_tick, name="watch-flush")
        self._inbox.on_event = self._flusher.wake

    def on_unmount(self) -> None:
        self._inbox.close()
        if self._collector_subscription is not None:
            self._collector_subscription.unsubscribe()

    def prefill(self, **values: object) -> None:
        for key in ("dir", "forward", "include", "exclude"):
            if key in values:
                self.query_one(f"#watch-{key}", Input).value = str(values[key])

    # -- starting and stopping -----------------------------------------------------------------------
    @on(Button.Pressed, "#watch-start")
    @on(Input.Submitted, "#watch-dir, #watch-forward, #watch-include, #watch-exclude")
    def _start_pressed(self) -> None:
        self.start_watch(
            self.query_one("#watch-dir", Input).value.strip(),
            self.query_one("#watch-forward", Input).value.strip() or None,
            split_globs(self.query_one("#watch-include", Input).value),
            split_globs(self.query_one("#watch-exclude", Input).value),
        )

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def start_watch(self, directory: str, forward: str | None, include: list[str], exclude: list[str]) -> None:
        if self.session is not None and self.session.running:
            await self.netlab.registry.stop(self.session)
        try:
            if not directory:
                raise NetlabError("enter a directory to watch")
            session = WatchSession(self.netlab.journal, directory, include=include, exclude=exclude, forward=forward)
            self._inbox.follow(self.netlab.journal, lambda e: e.source == session.name)
            await self.netlab.registry.start(session)
        except NetlabError as exc:
            self._inbox.close()
            self._set_status(f"not watching — {exc}")
            self.notify(str(exc), title="Cannot watch", severity="error")
            return
        self.session = session
        self.query_one("#watch-table", DataTable).clear()
        self._rows = 0
        self._set_running(True)
        self._set_status(self._status_line())

    @on(Button.Pressed, "#watch-stop")
    def action_stop(self) -> None:
        if self.session is not None and self.session.running:
            self.stop_watch()

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def stop_watch(self) -> None:
        session = self.session
        if session is None:
            return
        await self.netlab.registry.stop(session)
        self._flush()
        self._set_running(False)
        self._set_status(f"stopped watching {session.root} · {sum(session.counts.values()):,} changes")

    # -- live table ----------------------------------------------------------------------------------
    def _flush_tick(self) -> bool:
        had = self._inbox.pending
        self._flush()
        return had

    def _flush(self) -> None:
        events = self._inbox.take()
        if events:
            rows = []
            for event in events:
                if event.kind not in CHANGE_KINDS:
                    if event.kind == "error":
                        self.notify(event.text or "", title="Watch", severity="warning")
                    continue
                meta = event.meta or {}
                suffix = "/" if meta.get("is_dir") else ""
                dest = meta.get("dest_rel")
                rows.append((
                    time.strftime("%H:%M:%S", time.localtime(event.ts)),
                    Text(event.kind, style=KIND_STYLES.get(event.kind, "")),
                    (meta.get("rel") or meta.get("path") or "") + suffix,
                    (dest + suffix) if dest else "",
                ))
            if rows:
                table = self.query_one("#watch-table", DataTable)
                if self._rows + len(rows) > MAX_ROWS:  # keep the newest half: clearing beats removing rows one by one
                    table.clear()
                    rows = rows[-MAX_ROWS // 2:]
                    self._rows = 0
                table.add_rows(rows)
                self._rows += len(rows)
                table.move_cursor(row=table.row_count - 1, animate=False)
        if self.session is not None and self.session.running:
            self._set_status(self._status_line())
        if self._clients_dirty:
            self._clients_dirty = False
            self._refresh_clients()

    def _status_line(self) -> str:
        session = self.session
        if session is None:
            return "not watching"
        counts = session.counts
        line = f"watching {session.root} · " + " · ".join(f"{counts[k]:,} {k}" for k in CHANGE_KINDS)
        forwarder = session.forwarder
        if forwarder is not None:
            line += f" · forward → {forwarder.address}: {forwarder.state}"
            if forwarder.queued:
                line += f", {forwarder.queued:,} queued"
            if forwarder.dropped:
                line += f", {forwarder.dropped:,} dropped"
        return line

    # -- collectors in this netlab -------------------------------------------------------------------
    def _collector_event(self, event: TrafficEvent) -> None:
        self._clients_dirty = True

    def _refresh_clients(self) -> None:
        collectors: list[Session] = [s for s in self.netlab.registry if s.kind == COLLECTOR_NAME]
        table = self.query_one("#watch-clients", DataTable)
        table.clear()
        for collector in collectors:
            clients = getattr(getattr(collector, "behaviour", None), "clients", {})
            for client in clients.values():
                table.add_row(client.label, client.peer or "", f"{client.changes:,}",
                              Text("yes", style="green") if client.connected else Text("no", style="dim"),
                              time.strftime("%H:%M:%S", time.localtime(client.last_seen)))
        self.set_class(table.row_count > 0, "collecting")

    # -- helpers -------------------------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self.query_one("#watch-status", Label).update(text)

    def _set_running(self, running: bool) -> None:
        self.query_one("#watch-start", Button).disabled = running
        self.query_one("#watch-stop", Button).disabled = not running
