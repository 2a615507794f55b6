"""The lab panel: the current step of a running lab, beside the tools.

It shows the step's text with the lab's real ports filled in, "do it" buttons that open a tool pane
pre-filled, questions, hints one at a time, the live status of every check and the output of the
learner's last run. The panel is mounted into the main row of the app when a lab starts (from the Labs
pane) and removed when it is closed; the ``LabRunner`` behind it does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Markdown, Static

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.labs.model import Lab
from netlab_tui.labs.progress import ProgressStore
from netlab_tui.labs.runner import LabRunner, StepStatus
from netlab_tui.labs.workspace import Workspace

from .host_select import choose_host

if TYPE_CHECKING:
    from netlab_tui.ui.app import NetlabApp


class LabPanel(Vertical):
    """One running lab. ``runner`` is its engine; everything here only shows and forwards."""

    PANE_TITLE = "Lab"
    HELP = """\
## Lab panel
The current step of your lab. Read it, do what it asks — with the **▶** buttons, which open a tool
pre-filled, or in your own editor: netlab re-runs your script each time you save a file in the
workspace shown at the top — and watch the checks turn ✓.

- **Hint** reveals the next hint; **Check** re-runs your script and the checks now.
- **◀ / ▶** move between steps (progress is saved); **✕** closes the lab and stops its servers.
- While a lab is open the inspector makes room for it: **⌕** (or Ctrl+T) shows or hides it.
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+n", "next_step", "Next step", id="lab.next"),
        Binding("ctrl+b", "previous_step", "Previous step", id="lab.previous"),
        Binding("ctrl+t", "toggle_inspector", "Inspector", id="lab.inspector"),
    ]

    DEFAULT_CSS = """
    LabPanel {
        width: 48;
        height: 1fr;
        border: round $accent;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    LabPanel #lab-header { height: auto; color: $text; padding: 0 1; }
    LabPanel #lab-body { height: 1fr; padding: 0 1; }
    LabPanel #lab-text { margin: 0; }
    LabPanel .lab-action { width: 100%; margin: 0 0 1 0; }
    LabPanel .lab-question { height: auto; margin-bottom: 1; }
    LabPanel .lab-feedback { height: auto; color: $text-muted; }
    LabPanel .lab-hint { border-left: thick $warning; padding-left: 1; margin-bottom: 1; }
    LabPanel #lab-checks { height: auto; max-height: 12; border-top: solid $primary-darken-2; padding: 0 1; }
    LabPanel #lab-output { height: auto; max-height: 8; color: $text-muted; padding: 0 1; }
    LabPanel #lab-nav { height: auto; }
    LabPanel #lab-nav Button { width: 5; min-width: 5; }
    LabPanel #lab-nav #lab-hint, LabPanel #lab-nav #lab-check { width: 1fr; }
    """

    def __init__(self, runner: LabRunner, on_progress: Callable[[], None] | None = None) -> None:
        super().__init__(id="lab-panel")
        self.runner = runner
        self.on_progress = on_progress
        self._unsubscribe: Callable[[], None] | None = None
        self._announced: int | None = None
        self._step_shown: int | None = None

    @property
    def netlab(self) -> "NetlabApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="lab-header")
        # At the top: notifications pop up bottom right and would cover buttons there.
        with Horizontal(id="lab-nav"):
            yield Button("◀", id="lab-prev", tooltip="previous step")
            yield Button("Hint", id="lab-hint")
            yield Button("Check", id="lab-check", tooltip="re-run your script and the checks")
            yield Button("▶", id="lab-next", tooltip="next step")
            yield Button("⌕", id="lab-inspector", tooltip="show or hide the inspector (Ctrl+T)")
            yield Button("✕", id="lab-close", variant="error", tooltip="close the lab and stop its servers")
        with VerticalScroll(id="lab-body"):
            yield Markdown("", id="lab-text")
            yield Vertical(id="lab-actions")
            yield Vertical(id="lab-questions")
            yield Vertical(id="lab-hints")
        yield Static(id="lab-checks")
        yield Static(id="lab-output")

    def on_mount(self) -> None:
        self.border_title = f"Lab · {self.runner.lab.title}"
        self.border_subtitle = f"files: {self.runner.workspace.path}"
        self._set_inspector(False)  # the tool panes need the width more than the inspector

    def _set_inspector(self, visible: bool) -> None:
        for inspector in self.app.query("#inspector"):
            inspector.display = visible

    @on(Button.Pressed, "#lab-inspector")
    def action_toggle_inspector(self) -> None:
        for inspector in self.app.query("#inspector"):
            inspector.display = not inspector.display

    async def begin(self) -> None:
        """Start the lab (servers, workspace, watch) and show its current step."""
        await self.runner.start()
        self._unsubscribe = self.runner.subscribe(self._status_changed)
        self.runner.watch()
        await self.show_step()

    async def close(self) -> None:
        self._set_inspector(True)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.runner.stop()
        if self.is_mounted:
            await self.remove()

    async def on_unmount(self) -> None:
        self._set_inspector(True)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.runner.started:
            await self.runner.stop()

    # -- the step ------------------------------------------------------------------------------------
    async def show_step(self) -> None:
        runner = self.runner
        step = runner.step
        self._step_shown = runner.index
        self._update_header()
        await self.query_one("#lab-text", Markdown).update(runner.render(step.body))
        actions = self.query_one("#lab-actions", Vertical)
        await actions.remove_children()
        await actions.mount_all([
            Button(f"▶ {runner.render(action.label)}", id=f"lab-action-{n}", classes="lab-action")
            for n, action in enumerate(step.actions)
        ])
        questions = self.query_one("#lab-questions", Vertical)
        await questions.remove_children()
        for question in step.questions:
            prompt = runner.render(question.prompt)
            if question.choices:
                prompt += "".join(f"\n  {n}. {runner.render(c)}" for n, c in enumerate(question.choices, 1))
            await questions.mount(Vertical(
                Label(Text(f"? {prompt}", style="bold")),
                Input(placeholder="your answer, then Enter", id=f"lab-answer-{question.id}"),
                Static("", id=f"lab-feedback-{question.id}", classes="lab-feedback"),
                classes="lab-question",
            ))
        hints = self.query_one("#lab-hints", Vertical)
        await hints.remove_children()
        await hints.mount_all([Markdown(f"**Hint {n}.** {runner.render(h.text)}", classes="lab-hint")
                               for n, h in enumerate(runner.shown_hints, 1)])
        self.query_one("#lab-body", VerticalScroll).scroll_home(animate=False)
        self._update_nav()
        self._status_changed(runner.status)

    def _update_header(self) -> None:
        runner = self.runner
        passed = runner.passed_steps()
        dots = "".join("◉" if n == runner.index else ("●" if s.id in passed else "○")
                       for n, s in enumerate(runner.lab.steps))
        header = Text.assemble((f"Step {runner.index + 1}/{len(runner.lab.steps)} ", "bold"), (dots, "cyan"),
                               "\n", (runner.step.title, "bold"))
        self.query_one("#lab-header", Static).update(header)

    def _update_nav(self) -> None:
        runner = self.runner
        self.query_one("#lab-prev", Button).disabled = runner.index == 0
        hints = runner.step.hints
        hint_button = self.query_one("#lab-hint", Button)
        hint_button.disabled = runner.hints_shown >= len(hints)
        hint_button.label = f"Hint {min(runner.hints_shown + 1, len(hints))}/{len(hints)}" if hints else "Hint"

    def _status_changed(self, status: StepStatus) -> None:
        if not self.is_mounted or status.index != self._step_shown:
            return
        lines = Text()
        for check in status.checks:
            if check.passed:
                lines.append("✓ ", "bold green").append(check.title + "\n")
            else:
                lines.append("· ", "bold yellow").append(check.title + "\n")
                lines.append(f"    {check.detail}\n", "dim")
        for question in status.step.questions:
            ok = status.answered.get(question.id)
            lines.append("✓ " if ok else "· ", "bold green" if ok else "bold yellow")
            lines.append(f"question: {self.runner.render(question.prompt)}\n")
        if status.running:
            lines.append("… running your script and the checks\n", "italic")
        elif status.passed:
            last = status.index + 1 >= len(self.runner.lab.steps)
            lines.append("Step passed! " + ("Lab complete." if last else "Press ▶ for the next step."), "bold green")
        elif not status.step.checked:
            lines.append("Nothing to check here: press ▶ when you are ready.", "italic")
        lines.rstrip()
        self.query_one("#lab-checks", Static).update(lines)
        self.query_one("#lab-output", Static).update(self._output_text(status))
        if status.passed and self._announced != status.index:
            self._announced = status.index
            self._update_header()
            self.notify(f"Step {status.index + 1} passed: {status.step.title}", title=self.runner.lab.title,
                        timeout=4)
            if self.on_progress is not None:
                self.on_progress()

    def _output_text(self, status: StepStatus) -> Text:
        text = Text()
        for result in status.scripts.values():
            if result.running:
                text.append(f"{result.file}: running\n", "italic")
            elif result.error:
                text.append(f"{result.file}: {result.error}\n", "red")
            else:
                style = "green" if result.exit_code == 0 else "red"
                text.append(f"{result.file}: exit {result.exit_code} ({result.duration:.1f}s)\n", style)
            tail = (result.stdout + result.stderr).strip().splitlines()[-4:]
            for line in tail:
                text.append(f"  {line[:200]}\n", "dim")
        text.rstrip()
        return text

    # -- buttons -------------------------------------------------------------------------------------
    @on(Button.Pressed, ".lab-action")
    def _action(self, event: Button.Pressed) -> None:
        index = int((event.button.id or "").rsplit("-", 1)[-1])
        action = self.runner.step.actions[index]
        runner = self.runner
        if action.pane and action.pane in self.netlab.pane_ids:
            fill = runner.variables.render_value(action.fill, missing="<{name}>")
            pane = self.netlab.show_pane(action.pane, **fill)
            choose_host(pane, runner.hosts.network.name + "/" + action.on if action.on and runner.hosts.network else None)
        elif action.command:
            command = runner.command_line(action.command)
            self.app.copy_to_clipboard(command)
            self.notify(f"run it in a terminal (copied): {command}", title=runner.render(action.label), timeout=10)
        else:
            self.notify(f"the {action.pane} tool is not available here", severity="warning")

    @on(Input.Submitted, "#lab-questions Input")
    def _answered(self, event: Input.Submitted) -> None:
        question_id = (event.input.id or "").removeprefix("lab-answer-")
        question = next(q for q in self.runner.step.questions if q.id == question_id)
        feedback = self.query_one(f"#lab-feedback-{question_id}", Static)
        if self.runner.answer(question_id, event.value):
            explain = f" {self.runner.render(question.explain)}" if question.explain else ""
            feedback.update(Text(f"✓ right.{explain}", style="green"))
            event.input.disabled = True
        else:
            feedback.update(Text("✗ not quite — try again (or take a hint)", style="red"))

    @on(Button.Pressed, "#lab-hint")
    async def _hint(self) -> None:
        hint = self.runner.reveal_hint()
        if hint is not None:
            number = self.runner.hints_shown
            hints = self.query_one("#lab-hints", Vertical)
            await hints.mount(Markdown(f"**Hint {number}.** {self.runner.render(hint.text)}", classes="lab-hint"))
            self.query_one("#lab-body", VerticalScroll).scroll_end(animate=False)
        self._update_nav()

    @on(Button.Pressed, "#lab-check")
    def _check(self) -> None:
        self.check_now()

    @work(exclusive=True, group="lab-check", exit_on_error=False)
    async def check_now(self) -> None:
        if self.runner.step.scripts:
            self.runner.request_run()
            await self.runner.wait_idle()
        else:
            await self.runner.run_probes()
            self.runner.evaluate()

    @on(Button.Pressed, "#lab-next")
    def action_next_step(self) -> None:
        self.move(+1)

    @on(Button.Pressed, "#lab-prev")
    def action_previous_step(self) -> None:
        self.move(-1)

    @work(exclusive=True, group="lab-move", exit_on_error=False)
    async def move(self, delta: int) -> None:
        runner = self.runner
        status = await (runner.next() if delta > 0 else runner.previous())
        if status is None:
            if delta > 0:
                complete = {s.id for s in runner.lab.steps} <= runner.passed_steps()
                self.notify("Lab complete — well done!" if complete else
                            "That was the last step; some steps are not checked yet.", title=runner.lab.title)
            if self.on_progress is not None:
                self.on_progress()
            return
        if self.on_progress is not None:
            self.on_progress()
        await self.show_step()

    @on(Button.Pressed, "#lab-close")
    async def _close(self) -> None:
        await self.close()


async def open_lab_panel(app: "NetlabApp", lab: Lab, *, on_progress: Callable[[], None] | None = None,
                         workspace: Workspace | None = None, progress: ProgressStore | None = None) -> LabPanel | None:
    """Close the lab that is open (if any), open ``lab`` beside the tools; None if it could not start."""
    for panel in list(app.query(LabPanel)):
        await panel.close()
    runner = LabRunner(lab, app.journal, app.registry, workspace=workspace or Workspace(lab),
                       progress=progress or ProgressStore())
    if runner.progress is not None and runner.progress.warning:
        app.notify(runner.progress.warning, title="Lab progress", severity="warning", timeout=10)
    panel = LabPanel(runner, on_progress)
    await app.query_one("#main").mount(panel)
    try:
        await panel.begin()
    except NetlabError as exc:
        app.notify(str(exc), title=f"Cannot start {lab.title}", severity="error")
        await panel.close()
        return None
    return panel
