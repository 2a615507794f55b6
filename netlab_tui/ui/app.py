"""``NetlabApp``: the tool sidebar, the active tool's pane, the inspector and the live traffic log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.compose import compose
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, ContentSwitcher, Footer, Header, OptionList
from textual.widgets.option_list import Option

from netlab_tui import __version__
from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.gc_policy import HeapFreezer
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError, SessionRegistry

from .panes import PANES, PaneRef
from .widgets.base import NetlabPane
from .widgets.filter_bar import FilterBar
from .widgets.inspector import Inspector
from .widgets.traffic_log import TrafficLog, TrafficLogHeader
from .widgets.wake_timer import WakeTimer

GLOBAL_HELP = """\
## netlab
A networking lab in your terminal: start servers, connect clients, and watch every byte in the
traffic log below. Select a line of the log to open it in the inspector.

- **Tools** (left): pick a tool with ↑/↓ and Enter; **Tab** moves between areas.
- **Labs** (last in Tools): the course as guided labs, each step checked by the traffic it makes.
- **F2** tools · **F3** traffic log · **F4** inspector (in a small terminal or during a lab it opens on
  demand; F4 or Escape gives the room back).
- In **Servers**, select a server and press **c**: the client of its protocol opens, connected.
- During a lab, from any pane: **F5** check · **F6** hint · **F7** previous step · **F8** next step.
- **Up/Down** in a field that sends (message, URL, command, stdin) recall what you sent before.
- **Ctrl+P**: every action by name (start a server, clear the log, export the journal, the lab's keys …).
- **F1**: help for where the focus is. **Ctrl+Q**: quit — every server and connection is stopped.
"""


class MainScreen(Screen):
    """The default screen: the tools, the panes, the inspector and the log."""

    _resumed = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # The first resume comes right after every widget was styled as it mounted: styling them all
        # again would only delay the first frame. (Later resumes, after a screen on top, still do.)
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False


class NetlabApp(App[int]):
    CSS_PATH = "netlab.tcss"
    TITLE = "netlab"
    SUB_TITLE = "terminal networking lab"
    # Small terminals (a laptop's 100x30): the tool pane gets the room, the inspector and the log less.
    # Below 100 columns ("-cramped", 80x24) the inspector opens full-screen on demand (F4); below 28 rows
    # ("-tiny") the header goes and the forms lose their borders (netlab.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-cramped"), (100, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-tiny"), (28, "-short"), (36, "-tall")]

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("f1", "help", "Help", id="app.help"),
        # The lab's keys work from every pane; they appear (footer, F1) while a lab is open — first, and
        # F8 before the others: a tool's own keys come before them in a footer that may be cut.
        Binding("f8", "lab('next_step')", "Next step", id="app.lab_next"),
        Binding("f5", "lab('check')", "Check", id="app.lab_check"),
        Binding("f6", "lab('hint')", "Hint", id="app.lab_hint"),
        Binding("f7", "lab('previous_step')", "Prev step", id="app.lab_previous"),
        Binding("f2", "focus_tools", "Tools", id="app.tools"),
        Binding("f3", "focus_log", "Log", id="app.log"),
        Binding("f4", "focus_inspector", "Inspector", id="app.inspector"),
        Binding("escape", "close_inspector", "Back", id="app.inspector_back"),
        Binding("ctrl+l", "clear_log", "Clear log", show=False, id="app.clear_log"),
        Binding("ctrl+f", "focus_filter", "Filter", id="app.filter"),
    ]

    def __init__(self, journal: Journal | None = None, registry: SessionRegistry | None = None) -> None:
        super().__init__()
        # `is None`, not `or`: an empty Journal/SessionRegistry is falsy (both have __len__)
        self.journal = journal if journal is not None else Journal()
        self.registry = registry if registry is not None else SessionRegistry(self.journal)
        self._subscription = None
        self.initial_filter = ""  # `netlab open FILE --filter ...`
        self._followed_event: TrafficEvent | None = None
        self._inspect_timer = None
        self._log: TrafficLog | None = None  # found at mount
        self._inspector: Inspector | None = None
        self._filter_bar: FilterBar | None = None
        # Only the first pane is built with the screen; each other is built the first time it is shown
        # (all eleven at once cost a second of CPU and 44 MB, a class of learners as many times).
        self._panes: list[PaneRef] = [ref for ref in PANES if ref.available()]
        self._pane_widgets: dict[str, NetlabPane] = {}
        self._pane_building: dict[str, asyncio.Event] = {}  # set once the pane is mounted
        self._pending_show: tuple[str, bool, dict] | None = None
        self._palette_buttons: dict[str, list[tuple[str, str, str]]] = {}

    # -- layout --------------------------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        """The default screen, with the breakpoint classes of the terminal's size already set: Textual sets
        them on the first resize, after the widgets are styled, and every class change styles them all
        again (a tenth of the time to the first frame)."""
        screen = MainScreen(id="_default")
        width, height = self.size
        for breakpoints, size in ((self.HORIZONTAL_BREAKPOINTS, width), (self.VERTICAL_BREAKPOINTS, height)):
            screen.add_class(next(name for edge, name in sorted(breakpoints, reverse=True) if size >= edge))
        return screen

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="⇄")
        with Horizontal(id="main"):
            tools = OptionList(*[Option(p.title, id=p.pane_id) for p in self._panes], id="tools")
            tools.border_title = "Tools"
            yield tools
            with Vertical(id="workspace"):
                with Horizontal(id="top"):
                    first = self._panes[0]
                    with ContentSwitcher(id="panes", initial=first.pane_id):
                        self._pane_widgets[first.pane_id] = first.load()(id=first.pane_id)
                        yield self._pane_widgets[first.pane_id]
                    yield Inspector(id="inspector")
                with Vertical(id="log-box"):
                    yield FilterBar(id="filter-bar")
                    yield TrafficLogHeader()
                    yield TrafficLog(max_rows=self.journal.max_events, id="traffic-log")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"netlab {__version__}"
        log = self.query_one(TrafficLog)
        # Found once: a query walks every widget of every pane (~1-4 ms), too slow for what runs
        # several times a second during a flood.
        self._log, self._inspector, self._filter_bar = log, self.query_one(Inspector), self.query_one(FilterBar)
        for event in self.journal.events():  # what happened before the UI came up
            log.add(event)
        self._subscription = self.journal.subscribe(log.add)
        if self.initial_filter:
            self.query_one(FilterBar).set_filter(self.initial_filter)
        self._heap = HeapFreezer(self.journal)  # no GC pauses while floods fill the journal
        # An idle netlab sleeps: these tick only while events arrive or sessions change, and pause
        # again once a tick finds nothing new (see WakeTimer).
        self._heap_timer = WakeTimer(self, 0.5, self._tick_heap, name="heap-keeper")
        self._counts_timer = WakeTimer(self, 0.25, self._update_counts, name="counts")
        self._wake_subscription = self.journal.subscribe(self._wake_timers)
        self._unsubscribe_registry = self.registry.subscribe(self._counts_timer.wake)
        self.watch(log, "follow", self._counts_timer.wake, init=False)
        self._heap_timer.wake()  # the start-up heap settles and is frozen a moment after start
        self._update_counts()
        self._update_pane_title()
        self.query_one("#tools", OptionList).highlighted = 0

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
        if getattr(self, "_wake_subscription", None) is not None:
            self._wake_subscription.unsubscribe()
            self._unsubscribe_registry()
        if getattr(self, "_heap", None) is not None:
            self._heap.close()

    def _wake_timers(self, _event: TrafficEvent) -> None:
        if not self._counts_timer.active:
            self._counts_timer.wake()
        if not self._heap_timer.active:
            self._heap_timer.wake()

    def _tick_heap(self) -> bool:
        """The heap keeper's tick; whether it needs more (a freeze to settle, a clean-up to come)."""
        self._heap.tick()
        return self._heap.dirty or not self._heap.settled

    def _update_counts(self) -> bool:
        """Write the log's counts in its border when they changed; returns whether they did (an
        unchanged border is not assigned again: each assignment repaints the whole log)."""
        log = self._log
        box = log.parent if log is not None else None
        if log is None or box is None or not log.is_attached:  # a last tick while the app shuts down
            return False
        parts = [f"{self.journal.total:,} events"]
        if self.journal.dropped:
            parts.append(f"{self.journal.dropped:,} dropped (journal full)")
        if log.predicate is not None:
            parts.append(f"{len(log.rows):,} shown by the filter")
            if self._filter_bar is not None:
                self._filter_bar.status(len(log.rows), self.journal.total)
        parts.append("following" if log.follow else "paused — End to follow")
        running = sum(1 for s in self.registry if s.running)
        parts.append(f"{running} session{'s' if running != 1 else ''}")
        subtitle = " · ".join(parts)
        if box.border_subtitle == subtitle and box.border_title == "Traffic log":
            return False
        box.border_subtitle = subtitle
        box.border_title = "Traffic log"
        return True

    # -- panes ---------------------------------------------------------------------------------------
    @property
    def pane_ids(self) -> list[str]:
        return [p.pane_id for p in self._panes]

    def show_pane(self, pane_id: str, focus: bool = True, **prefill: object) -> NetlabPane | None:
        """Show a tool's pane (built now if it never was: then it shows once mounted, unless another
        pane was asked for meanwhile). Returns the pane, or None for a tool that is not here; see
        ``open_pane`` to wait for a pane built now."""
        pane = self._pane_widgets.get(pane_id)
        if pane is None:
            if pane_id not in self.pane_ids:
                return None
            pane = self._build_pane(pane_id)
        if pane_id in self._pane_building:
            pending = self._pending_show
            if pending is not None and pending[0] == pane_id:  # asked twice while building: focus if either did
                focus, prefill = focus or pending[1], {**pending[2], **prefill}
            self._pending_show = (pane_id, focus, dict(prefill))
            return pane
        self._pending_show = None
        base = self.screen_stack[0]  # the panes live on the default screen, whatever is on top
        switcher = base.query_one("#panes", ContentSwitcher)
        switcher.current = pane_id
        for selector in pane.query("HostSelect"):  # topologies started elsewhere since it was last shown
            selector.refresh_hosts()
        tools = base.query_one("#tools", OptionList)
        tools.highlighted = self.pane_ids.index(pane_id)
        if prefill:
            pane.prefill(**prefill)
        if focus:
            self.call_after_refresh(pane.focus_first)
        self._update_pane_title()
        return pane

    async def open_pane(self, pane_id: str, focus: bool = True, **prefill: object) -> NetlabPane | None:
        """``show_pane``, once the pane is mounted: what it returns can be used at once."""
        if pane_id not in self._pane_widgets and pane_id in self.pane_ids:
            self._build_pane(pane_id)
        building = self._pane_building.get(pane_id)
        if building is not None:
            await building.wait()
        return self.show_pane(pane_id, focus, **prefill)

    def _build_pane(self, pane_id: str) -> NetlabPane:
        ref = next(ref for ref in self._panes if ref.pane_id == pane_id)
        pane = self._pane_widgets[pane_id] = ref.load()(id=pane_id)
        pane.display = False
        building = self._pane_building[pane_id] = asyncio.Event()
        mounting = self.screen_stack[0].query_one("#panes", ContentSwitcher).mount(pane)

        async def mounted() -> None:
            await mounting
            del self._pane_building[pane_id]
            building.set()
            if not pane.is_attached or self._exit:  # the app closed meanwhile
                return
            if self._pending_show is not None and self._pending_show[0] == pane_id:
                _, focus, prefill = self._pending_show
                self.show_pane(pane_id, focus, **prefill)

        self.run_worker(mounted(), group="build-pane")
        return pane

    def _update_pane_title(self) -> None:
        switcher = self.screen_stack[0].query_one("#panes", ContentSwitcher)
        pane = next((p for p in self._panes if p.pane_id == switcher.current), None)
        switcher.border_title = pane.title if pane else ""

    @on(OptionList.OptionHighlighted, "#tools")
    def _tool_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        switchers = list(self.screen_stack[0].query("#panes").results(ContentSwitcher)) if self.screen_stack else []
        if not switchers:  # the app is closing
            return
        switcher = switchers[0]
        if event.option_index != event.option_list.highlighted:
            return  # a stale highlight (show_pane moved it since): following it would switch back
        pane_id = event.option.id
        if not pane_id or switcher.current == pane_id:
            return
        if pane_id in self._pane_widgets:
            self.show_pane(pane_id, focus=False)
            return
        # A pane never shown is built where the highlight stops, not on each tool an arrow key passes.
        tools = event.option_list

        def still_there() -> None:
            if pane_id in self._pane_widgets:  # Enter (or anything else) built it meanwhile
                return
            if tools.is_attached and tools.highlighted is not None and tools.highlighted == event.option_index:
                self.show_pane(pane_id, focus=False)

        self.set_timer(0.15, still_there, name="tool-highlight")

    @on(OptionList.OptionSelected, "#tools")
    def _tool_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.screen_stack[0].remove_class("-tools-shown")
            self.show_pane(event.option.id, focus=True)

    # -- log and inspector ---------------------------------------------------------------------------
    @on(TrafficLog.Selected)
    def _event_selected(self, message: TrafficLog.Selected) -> None:
        # While the log follows a flood it selects the newest event 20 times a second; rebuilding the
        # inspector that often costs frames, so followed selections are shown at most every 0.25 s.
        # Selections the user makes show at once.
        log = self._log
        if log is not None and log.is_attached and log.follow and message.event is not None:
            self._followed_event = message.event
            if self._inspect_timer is None:
                self._inspect_timer = self.set_timer(0.25, self._show_followed)
            return
        if self._inspect_timer is not None:
            self._inspect_timer.stop()
            self._inspect_timer = None
        if self._inspector is not None and self._inspector.is_attached:  # not while the app shuts down
            self._inspector.show(message.event)

    def _show_followed(self) -> None:
        self._inspect_timer = None
        if self._inspector is not None and self._inspector.is_attached:
            self._inspector.show(self._followed_event)

    @on(TrafficLog.Inspect)
    def _inspect(self, message: TrafficLog.Inspect) -> None:
        self.query_one(Inspector).show(message.event)
        self.show_inspector()

    def select_event(self, seq: int) -> bool:
        """Select (and inspect) the journal event ``seq`` in the log."""
        log = self.query_one(TrafficLog)
        log.follow = False
        return log.select_seq(seq)

    # -- actions -------------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        await self.registry.stop_all()
        self.exit(0)

    def action_help(self) -> None:
        from .screens.help import HelpScreen, help_title  # Markdown (markdown-it) is not needed for the first frame

        title, text = "netlab", GLOBAL_HELP
        widget: Widget | None = self.focused
        while widget is not None:
            help_text = getattr(widget, "HELP", None)
            if isinstance(help_text, str) and help_text:
                title = getattr(widget, "PANE_TITLE", "") or help_title(help_text)
                text = help_text
                break
            widget = widget.parent if isinstance(widget.parent, Widget) else None

        self.push_screen(HelpScreen(title, text + "\n" + self._keys_markdown()))

    def _keys_markdown(self) -> str:
        rows = ["", "### Keys", "", "| key | action |", "|---|---|"]
        for active in self.active_bindings.values():
            binding = active.binding
            # netlab's own keys, and the footer's; not the dozens of editing/scrolling keys of Textual's
            # widgets (an Input alone has twenty), which would bury them.
            ours = type(active.node).__module__.startswith("netlab_tui") or active.node is self
            if binding.description and (ours or binding.show):
                rows.append(f"| `{self.get_key_display(binding)}` | {binding.description} |")
        if "ctrl+p" not in self.active_bindings:
            rows.append("| `ctrl+p` | command palette |")
        return "\n".join(rows)

    def action_focus_tools(self) -> None:
        base = self.screen_stack[0]
        base.remove_class("-inspector-full")
        if base.has_class("-lab"):  # a lab gives the tool list's room to the log: F2 brings it back
            base.add_class("-tools-shown")
        base.query_one("#tools").focus()

    def action_focus_log(self) -> None:
        self.screen_stack[0].remove_class("-inspector-full")
        self.query_one(TrafficLog).focus()

    # -- the inspector on demand, a lab's layout --------------------------------------------------------
    def inspector_shown(self) -> bool:
        """Whether the inspector is on screen (it is hidden in small terminals and during a lab)."""
        inspector = self._inspector
        return inspector is not None and inspector.is_attached and inspector.display and \
            inspector.styles.display != "none" and inspector.region.width > 0

    def show_inspector(self) -> None:
        """Bring the inspector on screen and focus it: full-screen below 100 columns, beside the tool
        during a lab."""
        base = self.screen_stack[0]
        if base.has_class("-cramped"):
            base.add_class("-inspector-full")
        elif base.has_class("-lab"):
            base.add_class("-inspector-shown")
        self.refresh_bindings()
        self.call_after_refresh(lambda: self.screen_stack[0].query_one("#inspector-tabs").focus())

    def action_focus_inspector(self) -> None:
        base = self.screen_stack[0]
        inspector = self._inspector
        has_focus = inspector is not None and inspector.has_focus_within
        if has_focus and (base.has_class("-inspector-full") or base.has_class("-inspector-shown")):
            self.action_close_inspector()  # F4 again gives the room back
            return
        self.show_inspector()

    def action_close_inspector(self) -> None:
        base = self.screen_stack[0]
        base.remove_class("-inspector-full", "-inspector-shown")
        self.refresh_bindings()
        log = self._log
        if log is not None:
            log.focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """While you look at the traffic (focus in the log or the inspector) the inspector gets the width
        of a 16-byte hex row; back in a tool, the tool gets it back (netlab.tcss: ``-inspecting``)."""
        if not self.screen_stack or self.screen is not self.screen_stack[0]:
            return
        widget = event.widget
        inspecting = any(node.id in ("log-box", "inspector") for node in widget.ancestors_with_self)
        self.screen.set_class(inspecting, "-inspecting")

    def lab_layout(self, lab_open: bool) -> None:
        """A lab panel was mounted (or removed): the tool list and the inspector give it their room."""
        if not self.screen_stack:
            return
        base = self.screen_stack[0]
        base.set_class(lab_open, "-lab")
        base.remove_class("-tools-shown", "-inspector-shown")
        self.refresh_bindings()

    def lab_panel(self):
        """The open lab's panel, or None."""
        if not self.screen_stack or not self.screen_stack[0].has_class("-lab"):  # set by lab_layout
            return None  # and the lab code is not imported (the footer asks this before the first frame)
        from .widgets.lab_panel import LabPanel

        panels = list(self.screen_stack[0].query(LabPanel))
        return panels[0] if panels and panels[0].is_attached else None

    async def action_lab(self, name: str) -> None:
        panel = self.lab_panel()
        if panel is None:
            self.notify("no lab is open: start one in Labs", severity="warning")
            return
        result = getattr(panel, f"action_{name}")()
        if asyncio.iscoroutine(result):
            await result

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "lab":
            return bool(self.screen_stack) and self.screen is self.screen_stack[0] and self.lab_panel() is not None
        if action == "close_inspector":
            return bool(self.screen_stack) and self.screen is self.screen_stack[0] and (
                self.screen.has_class("-inspector-full") or self.screen.has_class("-inspector-shown"))
        return True

    def action_clear_log(self) -> None:
        self.query_one(TrafficLog).clear()
        self.notify("traffic log cleared (the journal keeps the events for export)", timeout=2)

    def action_export_journal(self) -> None:
        path = Path.cwd() / time.strftime("netlab-journal-%Y%m%d-%H%M%S.jsonl")
        try:
            count = self.journal.export_jsonl(path)
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror}", severity="error")
            return
        self.notify(f"{count:,} events written to {path}", title="Journal exported")

    @work(group="app", exit_on_error=False)
    async def start_quick_server(self, kind_name: str) -> None:
        kind = server_kinds()[kind_name]
        try:
            session = await self.registry.start(kind.create(self.journal, host="127.0.0.1", port=0))
        except NetlabError as exc:
            self.notify(str(exc), title="Cannot start server", severity="error")
            return
        self.notify(f"{session.name} started", timeout=3)
        # Selected and focused in the Servers pane, so that `c` opens its client at once.
        servers = await self.open_pane("servers", focus=False)
        select = getattr(servers, "select_session", None)
        if servers is not None and servers.is_attached and select is not None:
            select(session.name)

    @work(group="app", exit_on_error=False)
    async def stop_all_sessions(self) -> None:
        count = len(self.registry)
        await self.registry.stop_all()
        self.notify(f"stopped {count} session{'s' if count != 1 else ''}", timeout=3)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for ref in self._panes:
            yield SystemCommand(f"Open {ref.title}", f"Show the {ref.title} tool",
                                lambda pane_id=ref.pane_id: self.show_pane(pane_id))
        for kind in server_kinds().values():
            yield SystemCommand(f"Start {kind.name} server", f"{kind.title} on 127.0.0.1, any free port — {kind.summary}",
                                lambda name=kind.name: self.start_quick_server(name))
        yield SystemCommand("Stop all sessions", "Stop every server, connection and process",
                            self.stop_all_sessions)
        yield SystemCommand("Clear traffic log", "Empty the log view (the journal keeps its events)",
                            self.action_clear_log)
        yield SystemCommand("Export journal (JSONL)", "Write every event to a .jsonl file in the current directory",
                            self.action_export_journal)
        yield SystemCommand("Follow / pause the traffic log", "Toggle following new events",
                            self.action_toggle_follow)
        from . import traffic_actions

        yield SystemCommand("Filter the traffic log", "Focus the filter bar (F1 there explains the language)",
                            self.action_focus_filter)
        yield SystemCommand("Follow stream", "Both directions of the selected event's conversation, in order",
                            lambda: traffic_actions.open_follow_stream(self))
        yield SystemCommand("Conversations", "Every connection and exchange: endpoints, events and bytes each way",
                            lambda: traffic_actions.open_conversations(self))
        yield SystemCommand("Flow graph", "The selected event's conversation as a ladder diagram",
                            lambda: traffic_actions.open_flow_graph(self))
        yield SystemCommand("Apply as filter", "Filter the log by a field of the selected event (conversation, peer, port …)",
                            lambda: traffic_actions.apply_as_filter(self))
        yield SystemCommand("Save capture (pcap)", "Write the events shown in the log as a pcap for Wireshark",
                            lambda: traffic_actions.save_capture(self))
        yield from traffic_actions.system_commands(self)  # the log's and the inspector's keys
        yield SystemCommand("Show the inspector (F4)", "The selected event's bytes and views; F4 or Escape gives the room back",
                            self.show_inspector)
        if self.lab_panel() is not None:
            for name, title, key, help_text in (
                    ("check", "Lab: check now", "F5", "Re-run your script and the step's checks"),
                    ("hint", "Lab: next hint", "F6", "Reveal the step's next hint"),
                    ("previous_step", "Lab: previous step", "F7", "Go back one step"),
                    ("next_step", "Lab: next step", "F8", "Go to the next step (progress is saved)"),
                    ("close", "Lab: close", "", "Close the lab and stop its servers")):
                yield SystemCommand(f"{title}{f' ({key})' if key else ''}", help_text,
                                    lambda name=name: self.run_worker(self.action_lab(name), group="lab-keys"))
        # Every pane's own actions, by name — its keys and its buttons: they act on the pane, shown first.
        # A pane not built yet is named from its class and a composition that is never mounted.
        for ref in self._panes:
            pane_cls = ref.load()
            names: set[str] = set()
            for binding in pane_cls.BINDINGS:
                if isinstance(binding, Binding) and binding.description:
                    names.add(binding.description.lower())
                    yield SystemCommand(f"{ref.title}: {binding.description}",
                                        f"{self.get_key_display(binding)} in the {ref.title} pane",
                                        lambda ref=ref, action=binding.action: self._pane_action(ref.pane_id, action))
            for label, button_id, tip in self._pane_buttons(ref):
                if label.lower() in names:
                    continue
                names.add(label.lower())
                yield SystemCommand(f"{ref.title}: {label}", tip or f"the {label} button of the {ref.title} pane",
                                    lambda ref=ref, button_id=button_id: self._press(ref.pane_id, button_id))

    def _pane_buttons(self, ref: PaneRef) -> list[tuple[str, str, str]]:
        """A pane's enabled buttons: (label, id, tooltip)."""
        pane = self._pane_widgets.get(ref.pane_id)
        if pane is not None and ref.pane_id not in self._pane_building:
            buttons = list(pane.query(Button).results(Button))
        elif ref.pane_id in self._palette_buttons:
            return self._palette_buttons[ref.pane_id]
        else:  # composed, never mounted: its buttons as the pane will first show them
            buttons, todo = [], compose(ref.load()(id=ref.pane_id))
            while todo:
                widget = todo.pop(0)
                buttons += [widget] if isinstance(widget, Button) else []
                todo[:0] = widget._pending_children
        found = [(str(button.label).strip(), button.id or "", button.tooltip if isinstance(button.tooltip, str) else "")
                 for button in buttons if not button.disabled and str(button.label).strip() and button.id]
        if pane is None:
            self._palette_buttons[ref.pane_id] = found
        return found

    @work(group="pane-actions", exit_on_error=False)
    async def _press(self, pane_id: str, button_id: str) -> None:
        pane = await self.open_pane(pane_id, focus=False)
        buttons = list(pane.query(f"#{button_id}").results(Button)) if pane is not None else []
        if buttons and not buttons[0].disabled:
            self.call_after_refresh(buttons[0].press)

    @work(group="pane-actions", exit_on_error=False)
    async def _pane_action(self, pane_id: str, action: str) -> None:
        pane = await self.open_pane(pane_id)
        if pane is not None:
            self.call_after_refresh(lambda: self.run_worker(pane.run_action(action), group="pane-actions"))

    # -- filter, search and the conversation views (traffic_actions.py) -------------------------------
    @on(FilterBar.Changed)
    def _filter_changed(self, message: FilterBar.Changed) -> None:
        log = self.query_one(TrafficLog)
        log.set_filter(message.predicate if message.text.strip() else None, self.journal.events())
        self._update_counts()

    @on(FilterBar.Search)
    def _search(self, message: FilterBar.Search) -> None:
        log = self.query_one(TrafficLog)
        if log.search(message.text, message.backwards):
            log.focus()

    def action_focus_filter(self) -> None:
        self.screen_stack[0].query_one("#filter-input").focus()

    def action_toggle_follow(self) -> None:
        # The log lives on the default screen, whichever screen is on top.
        self.screen_stack[0].query_one(TrafficLog).action_toggle_follow()


def run_tui() -> int:
    app = NetlabApp()
    result = app.run()
    return int(result or 0)
