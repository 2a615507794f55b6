"""SSH: run a command on one host (live output, exit status) or on several (side by side, with a diff).

paramiko blocks; the engine's ``SshSession`` runs it in a thread of its own and hands events to the
app's loop, so this pane's workers only await. Host keys are checked honestly: an unknown host opens
``TrustHostScreen`` with its fingerprint, and only a key the user confirmed is remembered; a changed
key is refused with the reason, loudly.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Collapsible, Input, Label, RichLog, Static

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.ssh.client import (
    DEFAULT_TIMEOUT,
    HostKeyChanged,
    HostResult,
    SshSession,
    SshTarget,
    UnknownHostKey,
    compare,
    parse_hosts,
    run_on_hosts,
    with_defaults,
)
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane
from .check_box import NetlabCheckbox
from .event_inbox import EventInbox
from .history_input import HistoryInput
from .host_select import HostSelect
from .output_lines import LineAssembler
from .stdin_line import StdinLine
from .wake_timer import WakeTimer

MAX_LINES = 5000


class TrustHostScreen(ModalScreen[bool]):
    """An unknown host's key: trust (and remember) it, or not. "Don't trust" has the focus."""

    BINDINGS: ClassVar = [Binding("escape", "refuse", "Don't trust", id="ssh-trust.refuse")]

    DEFAULT_CSS = """
    TrustHostScreen { align: center middle; }
    TrustHostScreen > Vertical {
        width: 84; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    TrustHostScreen #trust-text { height: auto; margin-bottom: 1; }
    TrustHostScreen #trust-fingerprint { height: auto; margin-bottom: 1; text-style: bold; color: $warning; }
    TrustHostScreen Horizontal { height: auto; align: right middle; }
    TrustHostScreen Button { margin-left: 2; }
    """

    def __init__(self, error: UnknownHostKey) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        error = self.error
        with Vertical() as box:
            box.border_title = "Unknown host key"
            yield Static(f"{error.host} is not in your known hosts. It presents this key:", id="trust-text")
            yield Static(f"{error.key_type}  {error.fingerprint}", id="trust-fingerprint")
            yield Static(
                "Compare it with the fingerprint the server's owner gives you (on the server: "
                "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). Trust it only if they match: netlab "
                f"then remembers it in {error.store} and checks it on every later connection.",
                id="trust-help",
            )
            with Horizontal():
                yield Button("Don't trust", id="trust-no")
                yield Button("Trust and remember", id="trust-yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#trust-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "trust-yes")

    def action_refuse(self) -> None:
        self.dismiss(False)


@register_pane
class SshPane(NetlabPane):
    PANE_ID = "ssh"
    PANE_TITLE = "SSH"
    ORDER = 70
    HELP = """\
## SSH
Run a command on another machine, the way paramiko's `SSHClient.exec_command` does.

1. **Host**: `user@host`, `host:port`, or several separated by commas to compare them.
   Try a lab server: *Servers* → kind `ssh` (it shows its password and fingerprint in the log).
2. **Key** (a private key file) and/or **password** (never shown, never logged; it also unlocks an
   encrypted key file); ssh-agent keys and `~/.ssh` keys are tried too unless unticked in *Options*.
3. **Run**: stdout plain, stderr red, then the remote exit status. While the command runs, the
   **stdin** line sends text to it followed by `\\n` (try `cat` or `bc -q`); **EOF** closes its input.
   This runs one command, as `ssh host -- command` does: it is not an interactive login shell.

Host keys: the first connection to a host shows its fingerprint; trust it only if it matches what
the server's owner tells you. netlab remembers trusted keys (in its own store, or the file in
*Options*) and refuses a host whose key has changed — someone may be in the middle.

With several hosts the command runs on all at once; the outputs appear side by side (`*` marks the
rows that differ) followed by a diff of each host against the first.
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+k", "cancel", "Cancel", id="ssh.cancel", priority=True),
        Binding("ctrl+d", "eof", "Send EOF", id="ssh.eof", priority=True),
    ]

    DEFAULT_CSS = """
    SshPane .form { height: auto; }
    SshPane #ssh-host { width: 2fr; }
    SshPane #ssh-port { width: 11; }
    SshPane #ssh-key { width: 1fr; }
    SshPane #ssh-password { width: 25; }  /* "password/passphrase" whole */
    SshPane #ssh-command { width: 1fr; }
    SshPane Collapsible { padding: 0; border: none; }
    SshPane Collapsible Contents { padding: 0; }
    SshPane #ssh-known-hosts { width: 1fr; }
    SshPane #ssh-timeout { width: 12; }
    SshPane Checkbox { width: auto; border: none; padding: 1 1 0 1; }
    SshPane #ssh-status { width: 1fr; height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    SshPane #ssh-status.-danger { color: $error; text-style: bold; }
    SshPane #ssh-output { height: 1fr; min-height: 4; border: round $primary-darken-3; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: list[SshSession] = []
        self.results: list[HostResult] = []
        self._labels: dict[str, str] = {}  # conn -> host label (prefix when several hosts run)
        self._inbox = EventInbox()
        self._lines = LineAssembler()
        self.transcript: deque[str] = deque(maxlen=MAX_LINES)  # the output's lines as plain text

    def compose(self) -> ComposeResult:
        yield HostSelect()
        with Horizontal(classes="form"):
            yield Input(placeholder="user@host — several: a,b:2222", id="ssh-host")
            yield Input(placeholder="22", id="ssh-port", type="integer")
            yield Input(placeholder="key file (optional)", id="ssh-key")
        with Horizontal(classes="form"):
            yield Input(placeholder="password/passphrase", id="ssh-password", password=True)
            yield HistoryInput(placeholder="command, e.g. uname -a", id="ssh-command")
            yield Button("Run", id="ssh-run", variant="primary")
            yield Button("Cancel", id="ssh-cancel", variant="error", disabled=True)
        with Collapsible(title="Options: known hosts, timeout, agent", id="ssh-options"):
            with Horizontal(classes="form"):
                yield Input(placeholder="known_hosts file (default: ~/.ssh/known_hosts + netlab's store)",
                            id="ssh-known-hosts")
                yield Input(placeholder=f"timeout {DEFAULT_TIMEOUT:g}", id="ssh-timeout", type="number")
                yield NetlabCheckbox("agent", True, id="ssh-agent")
                yield NetlabCheckbox("~/.ssh keys", True, id="ssh-look-for-keys")
        yield Label("not connected", id="ssh-status")
        yield RichLog(id="ssh-output", wrap=True, markup=False, max_lines=MAX_LINES)
        yield StdinLine("ssh", lambda: self.sessions)

    def on_mount(self) -> None:
        # Ticks only while output arrives or a partial line waits: an idle pane sleeps.
        self._flusher = WakeTimer(self, 0.05, self._flush_tick, name="ssh-flush")
        self._inbox.on_event = self._flusher.wake

    def _flush_tick(self) -> bool:
        had = self._inbox.pending
        self._flush()
        return had or self._lines.pending

    def on_unmount(self) -> None:
        self._inbox.close()

    def prefill(self, **values: object) -> None:
        fields = {"host": "#ssh-host", "port": "#ssh-port", "key": "#ssh-key", "command": "#ssh-command",
                  "known_hosts": "#ssh-known-hosts", "timeout": "#ssh-timeout", "password": "#ssh-password"}
        for name, selector in fields.items():
            if name in values:
                self.query_one(selector, Input).value = str(values[name])

    # -- the form -----------------------------------------------------------------------------------
    def _targets(self) -> tuple[list[SshTarget], str]:
        value = lambda selector: self.query_one(selector, Input).value.strip()  # noqa: E731
        hosts = value("#ssh-host")
        command = value("#ssh-command")
        if not hosts:
            raise NetlabError("enter a host, e.g. 127.0.0.1 or user@host:2222")
        if not command:
            raise NetlabError("enter a command to run, e.g. uname -a")
        password = self.query_one("#ssh-password", Input).value or None
        defaults: dict[str, Any] = {
            "key_file": value("#ssh-key") or None,
            "password": password,
            "passphrase": password,  # unlocks an encrypted key file, as paramiko's password= does
            "known_hosts": value("#ssh-known-hosts") or None,
            "agent": self.query_one("#ssh-agent", Checkbox).value,
            "look_for_keys": self.query_one("#ssh-look-for-keys", Checkbox).value,
        }
        if value("#ssh-port"):
            defaults["port"] = value("#ssh-port")
        if value("#ssh-timeout"):
            try:
                defaults["timeout"] = float(value("#ssh-timeout"))
            except ValueError:
                raise NetlabError(f"timeout: not a number: {value('#ssh-timeout')!r}") from None
        return parse_hosts([hosts], **defaults), command

    # -- running ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#ssh-run")
    @on(Input.Submitted, "#ssh-host, #ssh-port, #ssh-key, #ssh-password, #ssh-command")
    def _run_pressed(self) -> None:
        if any(s.running for s in self.sessions):
            self.notify("a command is running: cancel it first (ctrl+k)", severity="warning")
            return
        try:
            targets, command = self._targets()
        except NetlabError as exc:
            self._set_status(str(exc))
            self.notify(str(exc), title="Cannot run", severity="error")
            return
        self.run_ssh(targets, command)

    @work(exclusive=True, group="ssh", exit_on_error=False)
    async def run_ssh(self, targets: list[SshTarget], command: str) -> None:
        self._begin()
        self._set_running(True)
        try:
            if len(targets) == 1:
                await self._run_one(targets[0], command)
            else:
                await self._run_several(targets, command)
        finally:
            self._flush(final=True)
            self._set_running(False)

    async def _run_one(self, target: SshTarget, command: str) -> None:
        registry = self.netlab.registry
        while True:
            session = SshSession(self.netlab.journal, target, command)
            self._watch(session, None)
            self._set_status(f"connecting to {target.label} …")
            try:
                await registry.start(session)
            except UnknownHostKey as exc:
                self._write(Text(str(exc), style="yellow"))
                if await self.app.push_screen_wait(TrustHostScreen(exc)):
                    target = with_defaults(target, trust=True, trust_fingerprint=exc.fingerprint)
                    continue
                self._set_status(f"not connected — {target.label}'s host key was not trusted")
                return
            except HostKeyChanged as exc:
                self._refused(exc)
                return
            except NetlabError as exc:
                self._write(Text(str(exc), style="bold red"))
                self._set_status(f"not connected — {exc}")
                self.notify(str(exc), title="SSH failed", severity="error")
                return
            break
        self._set_status(f"running on {target.label}: {command}")
        stdin = self.query_one(StdinLine)
        stdin.set_enabled(True)
        stdin.input.focus()
        try:
            code = await session.wait()
        finally:
            registry.remove(session)
        self._flush(final=True)
        if session.error_message:
            self._set_status(f"{target.label}: {session.error_message}")
        elif session.cancelled:
            self._set_status(f"{target.label}: cancelled")
        else:
            self._set_status(f"{target.label}: " + ("no exit status (killed by a signal?)" if code is None
                                                   else f"remote exit status {code}"))

    async def _run_several(self, targets: list[SshTarget], command: str) -> None:
        self._set_status(f"running on {len(targets)} hosts: {command}")
        self.query_one(StdinLine).set_enabled(True)  # a line typed goes to every host
        journal, registry = self.netlab.journal, self.netlab.registry
        results = await run_on_hosts(journal, targets, command, registry=registry,
                                     on_session=lambda s: self._watch(s, s.target.label))
        # Unknown hosts: ask about each, then run again on the ones the user trusted.
        retry: dict[int, SshTarget] = {}
        for index, result in enumerate(results):
            if isinstance(result.exception, UnknownHostKey):
                if await self.app.push_screen_wait(TrustHostScreen(result.exception)):
                    retry[index] = with_defaults(result.target, trust=True,
                                                 trust_fingerprint=result.exception.fingerprint)
            elif isinstance(result.exception, HostKeyChanged):
                self._refused(result.exception)
        if retry:
            again = await run_on_hosts(journal, list(retry.values()), command, registry=registry,
                                       on_session=lambda s: self._watch(s, s.target.label))
            for index, result in zip(retry, again, strict=True):
                results[index] = result
        self._flush(final=True)
        self.results = results
        comparison = compare(results)
        log = self.query_one("#ssh-output", RichLog)
        width = max(40, log.scrollable_content_region.width - 1)
        self._write(Text(""))
        for line in comparison.side_by_side(width):
            self._write(Text(line, style="bold yellow" if line.startswith("* ") else ""))
        self._write(Text(""))
        if comparison.identical:
            self._write(Text(f"outputs identical on all {len(results)} hosts", style="bold green"))
        for a, b, lines in comparison.diffs:
            if not lines:
                continue
            self._write(Text(f"diff {a} → {b}", style="bold"))
            for line in lines:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                self._write(Text(line, style=style))
        failed = sum(1 for r in results if r.error)
        verdict = "identical" if comparison.identical else "differ"
        self._set_status(f"{len(results)} hosts: outputs {verdict}"
                         + (f" · {failed} could not run it" if failed else ""))

    def _refused(self, exc: HostKeyChanged) -> None:
        self._write(Text(str(exc), style="bold red"))
        status = self.query_one("#ssh-status", Label)
        status.update(f"REFUSED: the host key of {exc.host} has changed")
        status.add_class("-danger")
        self.notify(str(exc), title="HOST KEY CHANGED", severity="error", timeout=30)

    # -- live output ---------------------------------------------------------------------------------
    def _begin(self) -> None:
        self._inbox.close()
        self.sessions = []
        self.results = []
        self._labels = {}
        self._lines.clear()
        self.query_one("#ssh-status", Label).remove_class("-danger")
        self.query_one("#ssh-output", RichLog).clear()
        self.transcript.clear()
        labels = self._labels
        self._inbox.follow(self.netlab.journal, lambda e: e.proto == "ssh" and e.conn in labels)

    def _watch(self, session: SshSession, label: str | None) -> None:
        self.sessions.append(session)
        self._labels[session.conn] = label or ""

    def _flush(self, final: bool = False) -> None:
        now = time.monotonic()
        for event in self._inbox.take():
            label = self._labels.get(event.conn or "", "")
            if event.kind in ("stdout", "stderr", "stdin") and event.payload is not None:
                for line in self._lines.feed((label, event.kind), event.payload.decode("utf-8", "replace"), now):
                    self._line(label, event.kind, line)
            elif event.kind in ("connect", "info", "exit") and event.message:
                for (lbl, kind), text in self._lines.close(lambda key, lbl=label: key[0] == lbl):
                    self._line(lbl, kind, text)
                self._line(label, "note", f"— {event.message}")
        for (label, kind), text in self._lines.due(now, final):
            self._line(label, kind, text)

    def _line(self, label: str, kind: str, text: str) -> None:
        style = {"stderr": "red", "note": "dim", "stdin": "yellow"}.get(kind, "")
        parts = [(f"{label} ", "bold cyan")] if label else []
        if kind == "stdin":
            parts.append(("→ ", "bold yellow"))
        self._write(Text.assemble(*parts, (text, style)))

    # -- cancel ----------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel", "eof"):
            return any(s.running for s in self.sessions)
        return True

    def action_eof(self) -> None:
        self.query_one(StdinLine).send_eof()

    @on(Button.Pressed, "#ssh-cancel")
    def action_cancel(self) -> None:
        for session in self.sessions:
            if session.running:
                self.run_worker(session.cancel(), group="ssh-cancel", exit_on_error=False)
        self._set_status("cancelling …")

    # -- helpers ---------------------------------------------------------------------------------------
    def _write(self, text: Text) -> None:
        self.transcript.append(text.plain)
        self.query_one("#ssh-output", RichLog).write(text)

    def _set_status(self, text: str) -> None:
        self.query_one("#ssh-status", Label).update(text)

    def _set_running(self, running: bool) -> None:
        self.query_one("#ssh-run", Button).disabled = running
        self.query_one("#ssh-cancel", Button).disabled = not running
        if not running:
            self.query_one(StdinLine).set_enabled(False)
        self.refresh_bindings()
