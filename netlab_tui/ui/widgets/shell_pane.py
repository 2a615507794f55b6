"""Shell: run a local command (argv, sh -c, or a pipeline), watch its output live, type into its stdin."""

from __future__ import annotations

import shlex
import time
from collections import deque
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Collapsible, Input, Label, RichLog, Select

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.shell.process import (
    Pipeline,
    ProcessSession,
    describe_status,
    display_command,
    split_pipeline,
)
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane
from .history_input import HistoryInput
from .event_inbox import EventInbox
from .wake_timer import WakeTimer
from .output_lines import LineAssembler
from .stdin_line import StdinLine
from .host_select import HostSelect

MODES = [("argv (no shell)", "argv"), ("shell: sh -c", "shell"), ("pipeline", "pipeline")]
NOTES = {
    "argv": "argv: no shell — $(id), ; and | reach the program as plain text",
    "shell": "⚠ shell: sh -c runs $(…) ; | > as code — untrusted text = injection",
}
STYLES = {"stdout": "", "stderr": "red", "stdin": "yellow"}
MAX_LINES = 5000
PARTIAL_AFTER = 0.25  # seconds before an unfinished line (a prompt) is shown anyway


@register_pane
class ShellPane(NetlabPane):
    PANE_ID = "shell"
    PANE_TITLE = "Shell"
    ORDER = 60
    HELP = """\
## Shell
Run programs the way `subprocess` does, and see what they print as they print it.

- **argv** (default): the command line is split into words (quotes work) and run *without a shell*,
  like `subprocess.run(["echo", "$(id)"])`: `$(id)`, `;` and `|` are just text.
- **shell**: the line goes to `/bin/sh -c`, like `os.system` or `shell=True`: pipes, variables and
  globs work — and so does injection, if any part of the line came from someone else.
- **pipeline**: `ls -l / | sort -k 2 -n` runs as connected processes without a shell; netlab
  passes each stage's output to the next and keeps it, so **View** can show any stage.

stdout is plain, stderr red, what you typed yellow. While a command runs, the **stdin** line sends
text to it followed by `\\n` (try `bc -q`: type `2+3`); **EOF** closes its input (Ctrl+D in a terminal).
**Cancel** (ctrl+k) kills the command's whole process group. **Options**: working directory,
extra environment (`NAME=value …`) and a timeout in seconds.
"""

    # Priority, so they work from the input lines too; only active while a command runs (check_action),
    # so otherwise the keys keep their editing meaning in inputs.
    BINDINGS: ClassVar = [
        Binding("ctrl+k", "cancel", "Cancel command", id="shell.cancel", priority=True),
        Binding("ctrl+d", "eof", "Send EOF", id="shell.eof", priority=True),
    ]

    DEFAULT_CSS = """
    ShellPane .form { height: auto; }
    ShellPane #shell-command { width: 1fr; }
    ShellPane #shell-mode { width: 25; }  /* "argv (no shell)" whole */
    ShellPane #shell-note { height: 1; color: $text-muted; padding: 0 1; }
    ShellPane #shell-note.-danger { color: $warning; text-style: bold; }
    ShellPane #shell-note.-error { color: $error; }
    ShellPane Collapsible { padding: 0; border: none; }
    ShellPane Collapsible Contents { padding: 0; }
    ShellPane #shell-cwd { width: 1fr; }
    ShellPane #shell-env { width: 1fr; }
    ShellPane #shell-timeout { width: 12; }
    ShellPane #shell-status-row { height: auto; }
    ShellPane #shell-status { height: auto; max-height: 3; color: $text-muted; padding: 0 1; width: 1fr; }
    ShellPane #shell-status.-beside-select { height: 3; padding: 1 1 0 1; }
    ShellPane #shell-stage { width: 1fr; display: none; }
    ShellPane #shell-stage.-visible { display: block; }
    ShellPane #shell-output { height: 1fr; min-height: 4; border: round $primary-darken-3; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session: ProcessSession | Pipeline | None = None
        self._root: str | None = None  # conn of the running command (or pipeline)
        self._inbox = EventInbox()
        self._lines = LineAssembler(PARTIAL_AFTER)
        self.stage_lines: dict[int, deque[tuple[str, str]]] = {}  # stage -> (kind, line), what View shows
        self.stage_names: list[str] = []
        self.shown_stage = 0

    def compose(self) -> ComposeResult:
        yield HostSelect()
        with Horizontal(classes="form"):
            yield HistoryInput(placeholder="command, e.g. ls -l /  or  bc -q", id="shell-command")
            yield Select(MODES, value="argv", allow_blank=False, id="shell-mode")
            yield Button("Run", id="shell-run", variant="primary")
            yield Button("Cancel", id="shell-cancel", variant="error", disabled=True)
        yield Label(NOTES["argv"], id="shell-note")
        with Collapsible(title="Options: directory, environment, timeout", id="shell-options"):
            with Horizontal(classes="form"):
                yield Input(placeholder="working directory (default: netlab's)", id="shell-cwd")
                yield Input(placeholder="NAME=value …", id="shell-env")
                yield Input(placeholder="timeout s", id="shell-timeout", type="number")
        with Horizontal(id="shell-status-row"):
            yield Label("no command yet", id="shell-status")
            yield Select([], prompt="View stage", allow_blank=True, id="shell-stage")
        yield RichLog(id="shell-output", wrap=True, markup=False, max_lines=MAX_LINES)
        yield StdinLine("shell", lambda: [self.session])

    def on_mount(self) -> None:
        # Ticks only while output arrives or a partial line waits: an idle pane sleeps.
        self._flusher = WakeTimer(self, 0.05, self._flush_tick, name="shell-flush")
        self._inbox.on_event = self._flusher.wake

    def _flush_tick(self) -> bool:
        had = self._inbox.pending
        self._flush()
        return had or self._lines.pending

    def on_unmount(self) -> None:
        self._inbox.close()

    def prefill(self, **values: object) -> None:
        if "command" in values:
            self.query_one("#shell-command", Input).value = str(values["command"])
        if "mode" in values and values["mode"] in dict((v, k) for k, v in MODES):
            self.query_one("#shell-mode", Select).value = values["mode"]
        if "cwd" in values:
            self.query_one("#shell-cwd", Input).value = str(values["cwd"])
        if "env" in values:
            self.query_one("#shell-env", Input).value = str(values["env"])
        if "timeout" in values:
            self.query_one("#shell-timeout", Input).value = str(values["timeout"])

    # -- the mode note (and the pipeline's stages, as they are typed) --------------------------------
    @property
    def mode(self) -> str:
        return str(self.query_one("#shell-mode", Select).value)

    @on(Select.Changed, "#shell-mode")
    @on(Input.Changed, "#shell-command")
    def _update_note(self) -> None:
        note = self.query_one("#shell-note", Label)
        mode = self.mode
        note.set_class(mode == "shell", "-danger")
        note.remove_class("-error")
        if mode != "pipeline":
            note.update(NOTES[mode])
            return
        text = self.query_one("#shell-command", Input).value
        if not text.strip():
            note.update("pipeline, no shell: stages split at | — e.g. ls -l / | sort -k 2 -n")
            return
        try:
            stages = split_pipeline(text)
        except NetlabError as exc:
            note.update(f"pipeline: {exc}")
            note.add_class("-error")
            return
        note.update("pipeline, no shell: " + "  →  ".join(f"[{i + 1}] {display_command(s)}"
                                                          for i, s in enumerate(stages)))

    # -- running -------------------------------------------------------------------------------------
    @on(Button.Pressed, "#shell-run")
    @on(Input.Submitted, "#shell-command")
    def _run_pressed(self) -> None:
        if self.session is not None and self.session.running:
            self.notify("a command is running: cancel it first (ctrl+k)", severity="warning")
            return
        self.run_command(
            self.query_one("#shell-command", Input).value,
            self.mode,
            self.query_one("#shell-cwd", Input).value.strip() or None,
            self.query_one("#shell-env", Input).value,
            self.query_one("#shell-timeout", Input).value.strip(),
        )

    @work(exclusive=True, group="shell", exit_on_error=False)
    async def run_command(self, text: str, mode: str, cwd: str | None, env_text: str, timeout_text: str) -> None:
        journal = self.netlab.journal
        try:
            env = _parse_env(env_text)
            timeout = _parse_timeout(timeout_text)
            if not text.strip():
                raise NetlabError("type a command first")
            if mode == "pipeline":
                session: ProcessSession | Pipeline = Pipeline(journal, text, cwd=cwd, env=env, timeout=timeout)
                names = [display_command(a) for a in session.argvs]
            else:
                session = ProcessSession(journal, text, shell=mode == "shell", cwd=cwd, env=env, timeout=timeout)
                names = [session.display]
        except NetlabError as exc:
            self._set_status(f"not started — {exc}")
            self.notify(str(exc), title="Cannot run", severity="error")
            return
        self._begin(session, names)
        try:
            await self.netlab.registry.start(session)
        except NetlabError as exc:
            self._flush()
            self._write(Text(str(exc), style="bold red"))
            self._set_status(f"not started — {exc}")
            self.notify(str(exc), title="Cannot run", severity="error")
            self._set_running(False)
            return
        pid = getattr(session, "pid", None)
        self._set_status(f"running{f' · pid {pid}' if pid else f' · {len(names)} stages'} · {mode}")
        self._set_running(True)
        self.query_one("#shell-stdin", Input).focus()
        try:
            code = await session.wait()
        finally:
            self.netlab.registry.remove(session)
        self._flush(final=True)
        detail = describe_status(code)
        if session.timed_out:
            detail += f" — timed out after {session.timeout:g}s, process group killed"
        elif session.cancelled:
            detail += " — cancelled, process group killed"
        if isinstance(session, Pipeline):
            detail += f" · stages: {' '.join(map(str, session.codes))}"
        self._set_status(detail)
        self._set_running(False)

    def _begin(self, session: ProcessSession | Pipeline, names: list[str]) -> None:
        self._inbox.close()
        self._flush(final=True)
        self.session = session
        self._root = session.conn
        self._lines.clear()
        self.stage_names = names
        self.stage_lines = {i: deque(maxlen=MAX_LINES) for i in range(len(names))}
        self.shown_stage = len(names) - 1
        stage_select = self.query_one("#shell-stage", Select)
        pipeline = isinstance(session, Pipeline)
        stage_select.set_class(pipeline, "-visible")
        self.query_one("#shell-status", Label).set_class(pipeline, "-beside-select")
        if pipeline:
            stage_select.set_options([(f"[{i + 1}] {name}", i) for i, name in enumerate(names)])
            stage_select.value = self.shown_stage
        self.query_one("#shell-output", RichLog).clear()
        root = session.conn
        self._inbox.follow(
            self.netlab.journal,
            lambda e: e.proto == "shell" and (e.conn == root or (e.meta or {}).get("pipeline") == root),
        )

    # -- output, in batches (a flood of output must not cost one repaint per chunk) ------------------
    def _flush(self, final: bool = False) -> None:
        now = time.monotonic()
        for event in self._inbox.take():
            meta = event.meta or {}
            if event.conn == self._root and isinstance(self.session, Pipeline):
                continue  # the pipeline's own start/exit go to the status line
            stage = int(meta.get("stage", 0))
            if event.kind in ("stdout", "stderr", "stdin") and event.payload is not None:
                text = event.payload.decode("utf-8", errors="replace")
                for line in self._lines.feed((stage, event.kind), text, now):
                    self._add(stage, event.kind, line)
            elif event.kind == "exit":
                for (_stage, kind), text in self._lines.close(lambda key, s=stage: key[0] == s):
                    self._add(stage, kind, text)
                self._add(stage, "exit", f"— {event.message}")
            elif event.kind in ("error", "info") and event.message:
                self._add(stage, "info", f"— {event.message}")
        for (stage, kind), text in self._lines.due(now, final):
            self._add(stage, kind, text)

    def _add(self, stage: int, kind: str, line: str) -> None:
        self.stage_lines.setdefault(stage, deque(maxlen=MAX_LINES)).append((kind, line))
        if stage == self.shown_stage:
            self._write(_render(kind, line))

    @on(Select.Changed, "#shell-stage")
    def _stage_changed(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK or not isinstance(event.value, int) or event.value == self.shown_stage:
            return
        self.show_stage(event.value)

    def show_stage(self, stage: int) -> None:
        """Show one pipeline stage's output (what it wrote to the next stage, and its stderr)."""
        self.shown_stage = stage
        log = self.query_one("#shell-output", RichLog)
        log.clear()
        for kind, line in self.stage_lines.get(stage, ()):
            log.write(_render(kind, line))

    # -- stdin and cancel --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel", "eof"):
            return self.session is not None and self.session.running
        return True

    def action_eof(self) -> None:
        if self.session is not None and self.session.running:
            self.query_one(StdinLine).send_eof()

    @on(Button.Pressed, "#shell-cancel")
    def action_cancel(self) -> None:
        if self.session is not None and self.session.running:
            self._set_status("cancelling — killing the process group …")
            self.run_worker(self.session.cancel(), group="shell-cancel", exit_on_error=False)

    # -- helpers ---------------------------------------------------------------------------------------
    def _write(self, text: Text) -> None:
        self.query_one("#shell-output", RichLog).write(text)

    def _set_status(self, text: str) -> None:
        self.query_one("#shell-status", Label).update(text)

    def _set_running(self, running: bool) -> None:
        self.refresh_bindings()
        self.query_one("#shell-run", Button).disabled = running
        self.query_one("#shell-cancel", Button).disabled = not running
        self.query_one(StdinLine).set_enabled(running)


def _render(kind: str, line: str) -> Text:
    if kind == "stdin":
        return Text.assemble(("→ ", "bold yellow"), (line, "yellow"))
    if kind in ("exit", "info"):
        return Text(line, style="bold" if kind == "exit" else "dim")
    return Text(line, style=STYLES.get(kind, ""))


def _parse_env(text: str) -> dict[str, str]:
    env = {}
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise NetlabError(f"environment: {exc}") from None
    for word in words:
        name, eq, value = word.partition("=")
        if not eq or not name:
            raise NetlabError(f"environment: expected NAME=value, got {word!r}")
        env[name] = value
    return env


def _parse_timeout(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise NetlabError(f"timeout: not a number: {text!r}") from None
    if value <= 0:
        raise NetlabError("timeout must be positive")
    return value
