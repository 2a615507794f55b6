"""What the log, the inspector and the command palette can do with traffic: follow a stream, show the
conversations or a flow graph, filter to a conversation, jump to an event, save a capture.

Plain functions of the app, so a key in the log, a palette command and a screen all do the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from netlab_tui.engine.core.events import TrafficEvent

if TYPE_CHECKING:
    from textual.app import SystemCommand

    from .app import NetlabApp
    from .widgets.filter_bar import FilterBar
    from .widgets.traffic_log import TrafficLog


def _log(app: "NetlabApp") -> "TrafficLog":
    from .widgets.traffic_log import TrafficLog

    return app.screen_stack[0].query_one(TrafficLog)


def _filter_bar(app: "NetlabApp") -> "FilterBar":
    from .widgets.filter_bar import FilterBar

    return app.screen_stack[0].query_one(FilterBar)


def conversation_of(event: TrafficEvent | None) -> str | None:
    """The conversation to follow for an event: its ``conn`` (an HTTP exchange names its own)."""
    if event is None:
        return None
    return event.conn


def _selected_conn(app: "NetlabApp") -> str | None:
    conn = conversation_of(_log(app).selected)
    if conn is None:
        app.notify("select an event that belongs to a conversation (a connection, exchange or process) first",
                   severity="warning", timeout=3)
    return conn


def jump_to_event(app: "NetlabApp", seq: int | None) -> None:
    """Select event ``seq`` in the log (clearing a filter that hides it)."""
    if seq is None:
        return
    log = _log(app)
    log.follow = False
    if not log.select_seq(seq):
        bar = _filter_bar(app)
        if bar.applied.strip():
            bar.set_filter("", apply=False)
            bar.applied = ""
            log.follow = False
            log.set_filter(None, app.journal.events())
            if log.select_seq(seq):
                app.notify(f"filter cleared to show event #{seq}", timeout=3)
                return
        app.notify(f"event #{seq} is no longer in the log", severity="warning", timeout=3)
        return
    log.focus()


def filter_to_conn(app: "NetlabApp", expression: str) -> None:
    """Filter the log to a conversation (``conn a,b``) — aloud: the filter hides everything else, later
    connections too, until it is cleared."""
    if not expression.startswith("conn "):
        expression = f"conn {expression}"
    _filter_bar(app).set_filter(expression)
    _log(app).focus()
    app.notify(f"filter: {expression} — other conversations are hidden; Ctrl+F then Esc shows all",
               timeout=5)


def open_follow_stream(app: "NetlabApp", conn: str | None = None) -> None:
    from .screens.follow_stream import FollowStreamScreen

    conn = conn or _selected_conn(app)
    if conn:
        app.push_screen(FollowStreamScreen(app.journal, conn), callback=lambda seq: jump_to_event(app, seq))


def open_flow_graph(app: "NetlabApp", conn: str | None = None) -> None:
    from .screens.flow_graph import FlowGraphScreen

    conn = conn or _selected_conn(app)
    if conn:
        app.push_screen(FlowGraphScreen(app.journal, conn), callback=lambda seq: jump_to_event(app, seq))


def open_conversations(app: "NetlabApp") -> None:
    from .screens.conversations import ConversationsScreen

    def done(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        what, value = result
        if what == "filter":
            filter_to_conn(app, value)
        elif what == "event":
            jump_to_event(app, int(value))

    app.push_screen(ConversationsScreen(app.journal), callback=done)


def save_capture(app: "NetlabApp") -> None:
    """Ask for a path, then write the events the log shows as a pcap, in a thread."""
    from .screens.save_capture import SaveCaptureScreen

    log = _log(app)
    log.flush()
    events = list(log.rows)
    filtered = bool(_filter_bar(app).applied.strip())

    def write(path: Path | None) -> None:
        if path is None:
            return

        def work() -> None:
            from netlab_tui.engine.core.sessions import NetlabError
            from netlab_tui.engine.inspect.capture import write_pcap

            try:
                count = write_pcap(events, path)
            except NetlabError as exc:
                app.call_from_thread(app.notify, str(exc), title="Capture not saved", severity="error")
                return
            app.call_from_thread(app.notify, f"{count:,} packets from {len(events):,} events written to {path}",
                                 title="Capture saved")

        app.run_worker(work, thread=True, group="save-capture", exit_on_error=False)

    app.push_screen(SaveCaptureScreen(len(events), filtered), callback=write)


def apply_as_filter(app: "NetlabApp", event: TrafficEvent | None = None) -> None:
    """Pick a field of ``event`` (the log's selection by default) and filter the log by it."""
    from .screens.apply_filter import ApplyFilterScreen

    event = event if event is not None else _log(app).selected
    if event is None:
        app.notify("select an event in the log first (F3, then ↑/↓)", severity="warning", timeout=3)
        return
    bar = _filter_bar(app)

    def apply(text: str | None) -> None:
        if text is None:
            return
        bar.set_filter(text)
        log = _log(app)
        log.focus()
        app.notify(f"filter: {text} — Ctrl+F then Esc clears it", timeout=4)

    app.push_screen(ApplyFilterScreen(event, bar.applied), callback=apply)


def go_to_event(app: "NetlabApp") -> None:
    """Ask for an event number and select it in the log (Wireshark's Go to Packet)."""
    from .screens.go_to_event import GoToEventScreen

    if not app.journal.total:
        app.notify("no events yet", timeout=2)
        return
    app.push_screen(GoToEventScreen(app.journal.total), callback=lambda seq: jump_to_event(app, seq))


def system_commands(app: "NetlabApp") -> "Iterator[SystemCommand]":
    """The palette's entries for the log's and the inspector's own keys (each names its key)."""
    from textual.app import SystemCommand

    from .widgets.inspector import Inspector

    def log_action(name: str):
        return lambda: getattr(_log(app), f"action_{name}")()

    def inspector_action(name: str):
        return lambda: getattr(app.screen_stack[0].query_one(Inspector), f"action_{name}")()

    yield SystemCommand("Go to event (ctrl+g)", "Select an event by its number in the log", lambda: go_to_event(app))
    yield SystemCommand("Search the traffic log (/)", "Jump to events containing a text; n / N for the next / previous",
                        lambda: app.screen_stack[0].query_one("#search-input").focus())
    yield SystemCommand("Mark the selected event (m)", "Mark or unmark it; ] and [ jump between marks",
                        log_action("toggle_mark"))
    yield SystemCommand("Next mark (])", "Select the next marked event", log_action("next_mark"))
    yield SystemCommand("Previous mark ([)", "Select the previous marked event", log_action("prev_mark"))
    yield SystemCommand("Inspector full screen (z)", "The inspector over the whole screen, or back (Esc)",
                        inspector_action("toggle_full_screen"))
    yield SystemCommand("Inspector view… (v)", "Show the selected event through any view", inspector_action("choose_view"))
    yield SystemCommand("Inspector text encoding (e)", "Cycle the text view's encoding", inspector_action("cycle_encoding"))
