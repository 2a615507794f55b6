"""The lab panel: the current step of a running lab, beside the tools.

It shows the step's text with the lab's real ports filled in, "do it" buttons that open a tool pane
pre-filled, questions, hints one at a time, the live status of every check and the output of the
learner's last run. The panel is mounted into the main row of the app when a lab starts (from the Labs
pane) and removed when it is closed; the ``LabRunner`` behind it does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
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
workspace shown at the bottom — and watch the checks turn ✓.

These keys work from every pane, wherever the focus is:

- **F5** checks now (re-runs your script and the checks); **F6** reveals the next hint.
- **F7** / **F8** go to the previous / next step (progress is saved).
- **F4** shows the inspector (a lab gives its room to the tools) and hides it again; **F2** shows the
  tool list. The command palette (**Ctrl+P**) has them all under "Lab: …", and **Lab: close**.
"""

    DEFAULT_CSS = """
    LabPanel {
        width: 50;
        height: 1fr;
        border: round $accent;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    LabPanel #lab-header { height: auto; color: $text; padding: 0 1; }
    LabPanel #lab-nav { height: 1; margin-bottom: 1; }
    LabPanel #lab-nav Button { width: auto; min-width: 4; margin-right: 1; }
    LabPanel #lab-nav #lab-close { dock: right; margin-right: 0; }
    LabPanel #lab-nav #lab-hint { width: 10; }
    LabPanel #lab-body { height: 1fr; min-height: 8; padding: 0 1; }
    LabPanel #lab-text { margin: 0; }
    LabPanel .lab-action { width: 100%; margin: 0 0 1 0; }
    LabPanel .lab-question { height: auto; margin-bottom: 1; }
    LabPanel .lab-question Label { width: 1fr; }
    LabPanel .lab-feedback { height: auto; color: $text-muted; }
    LabPanel .lab-hint { height: auto; border-left: thick $warning; padding-left: 1; margin-bottom: 1; }
    LabPanel .lab-solution { height: auto; border-left: thick $success; padding-left: 1; margin-bottom: 1; }
    LabPanel #lab-resume { height: auto; }
    LabPanel #lab-resume.shown { border-left: thick $warning; padding: 0 1; margin: 0 1; }
    LabPanel #lab-resume Button { width: 100%; }
    LabPanel #lab-results { height: auto; max-height: 40%; border-top: solid $primary-darken-2; padding: 0 1; }
    LabPanel #lab-checks { height: auto; }
    LabPanel #lab-output { height: auto; color: $text-muted; }
    """

    def __init__(self, runner: LabRunner, on_progress: Callable[[], None] | None = None) -> None:
        super().__init__(id="lab-panel")
        self.runner = runner
        self.on_progress = on_progress
        self._unsubscribe: Callable[[], None] | None = None
        self._announced: int | None = None
        self._step_shown: int | None = None
        # Whether the learner did something on this step (checked, saved, answered): until then a script's
        # output is summed up in one line, not shown as a traceback of the starter file.
        self._acted = False

    @property
    def netlab(self) -> "NetlabApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="lab-header")
        # At the top: notifications pop up bottom right and would cover buttons there.
        # One row of compact buttons; their keys (F5-F8) work from every pane and are in the footer.
        with Horizontal(id="lab-nav"):
            yield Button("◀", id="lab-prev", compact=True, tooltip="previous step (F7)")
            yield Button("Hint", id="lab-hint", compact=True, tooltip="reveal the next hint (F6)")
            yield Button("Check", id="lab-check", compact=True, tooltip="re-run your script and the checks (F5)")
            yield Button("Next ▶", id="lab-next", compact=True, tooltip="next step (F8)")
            yield Button("✕", id="lab-close", variant="error", compact=True,
                         tooltip="close the lab and stop its servers")
        yield Vertical(id="lab-resume")  # "resumed at step N" and a Start over button, when it did
        with VerticalScroll(id="lab-body"):
            yield Markdown("", id="lab-text")
            yield Vertical(id="lab-actions")
            yield Vertical(id="lab-questions")
            yield Vertical(id="lab-hints")
        # The checks and what your script printed: several lines, scrolled when they are many.
        with VerticalScroll(id="lab-results"):
            yield Static(id="lab-checks")
            yield Static(id="lab-output")

    def on_mount(self) -> None:
        self.border_title = f"Lab · {self.runner.lab.title}"
        self.border_subtitle = f"files: {self.runner.workspace.path}"
        # The tools and the log need the width more than the inspector and the tool list: F4 and F2
        # bring them back (app.py, netlab.tcss).
        self.netlab.lab_layout(True)

    async def begin(self) -> None:
        """Start the lab (servers, workspace, watch) and show its current step."""
        await self.runner.start()
        self._unsubscribe = self.runner.subscribe(self._status_changed)
        self.runner.watch(on_save=self._learner_saved)
        await self.show_step()
        if self.runner.resumed:
            await self._show_resumed()

    async def _show_resumed(self) -> None:
        """Say that the lab picked up where the learner left it, and offer to start over."""
        runner = self.runner
        passed = runner.passed_steps() & {s.id for s in runner.lab.steps}
        box = self.query_one("#lab-resume", Vertical)
        await box.remove_children()
        box.add_class("shown")
        await box.mount_all([
            Static(Text.assemble(("Resumed at step ", "bold"), (f"{runner.index + 1}/{len(runner.lab.steps)}", "bold"),
                                 f" where you left off ({len(passed)}/{len(runner.lab.steps)} passed)."),
                   id="lab-resume-text"),
            Button("↺ Start over from step 1", id="lab-start-over", variant="warning", compact=True),
        ])

    async def _hide_resumed(self) -> None:
        box = self.query_one("#lab-resume", Vertical)
        box.remove_class("shown")
        await box.remove_children()

    @on(Button.Pressed, "#lab-start-over")
    async def start_over(self) -> None:
        """Forget this lab's progress and go back to step 1 (the learner's files stay as they are)."""
        runner = self.runner
        if runner.progress is not None:
            runner.progress.reset(runner.lab.id)
        runner.resumed = False
        await self._hide_resumed()
        self._announced = None
        await runner.goto(0)
        await self.show_step()
        self.notify(f"Back to step 1; progress forgotten. Your files are kept in {runner.workspace.path} "
                    f"(`netlab lab reset {runner.lab.id}` restores the starter files).", title=runner.lab.title,
                    timeout=8)
        if self.on_progress is not None:
            self.on_progress()

    def _learner_saved(self, paths: list[str]) -> None:
        self._acted = True

    async def close(self) -> None:
        self.netlab.lab_layout(False)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.runner.stop()
        if self.is_mounted:
            await self.remove()

    async def on_unmount(self) -> None:
        self.netlab.lab_layout(False)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.runner.started:
            await self.runner.stop()

    # -- the step ------------------------------------------------------------------------------------
    async def show_step(self) -> None:
        runner = self.runner
        step = runner.step
        if self._step_shown != runner.index:
            self._acted = False
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
        await hints.mount_all([self._hint_widget(n, h) for n, h in enumerate(runner.shown_hints, 1)])
        self.query_one("#lab-body", VerticalScroll).scroll_home(animate=False)
        self._update_nav()
        self._status_changed(runner.status)
        self.focus_step()

    def focus_step(self) -> None:
        """Focus what the step asks for first — its first ▶ action, else its first question — so that
        Enter does it: the keyboard reaches the step without a tour of Tab presses."""
        for widget in [*self.query(".lab-action").results(Button), *self.query("#lab-questions Input").results(Input)]:
            if not widget.disabled:
                widget.focus()
                return
        self.query_one("#lab-body", VerticalScroll).focus()

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
        count = runner.hint_count
        shown = sum(1 for h in runner.shown_hints if not h.solution)
        following = runner.next_hint()
        hint_button = self.query_one("#lab-hint", Button)
        hint_button.disabled = following is None or (following.solution and not runner.solution_available)
        if following is not None and following.solution:
            hint_button.label = "Solution"
        elif following is not None and runner.hint_fits(following):
            hint_button.label = f"Hint {shown + 1}/{count}★"  # ★: it answers what went wrong just now
        else:
            hint_button.label = f"Hint {min(shown + 1, count)}/{count}" if count else "Hint"

    def _status_changed(self, status: StepStatus) -> None:
        if not self.is_mounted or status.index != self._step_shown:
            return
        # The verdict first: the results area may be scrolled (a small terminal, a long diagnosis).
        lines = Text()
        if status.running:
            lines.append("… running your script and the checks\n", "italic")
        elif status.passed:
            last = status.index + 1 >= len(self.runner.lab.steps)
            lines.append("Step passed! " + ("Lab complete." if last else "F8: the next step.") + "\n", "bold green")
        elif not status.step.checked:
            lines.append("Nothing to check here: F8 when you are ready.\n", "italic")
        for check in status.checks:
            if check.passed:
                lines.append("✓ ", "bold green").append(check.title + "\n")
            else:
                lines.append("· ", "bold yellow").append(check.title + "\n")
                diagnosis = check.diagnosis
                if diagnosis is not None and not status.running:
                    lines.append(f"    {diagnosis.sentence}\n", "yellow")
                    if diagnosis.sentence not in check.detail or check.detail != diagnosis.sentence:
                        rest = check.detail.replace(diagnosis.sentence, "").strip(" —()")
                        if rest:
                            lines.append(f"    {rest}\n", "dim")
                    for row in self.runner.ladder(check):
                        lines.append(f"    {row}\n", "red" if row.startswith("✗") else "dim")
                else:
                    lines.append(f"    {check.detail}\n", "dim")
        for question in status.step.questions:
            ok = status.answered.get(question.id)
            lines.append("✓ " if ok else "· ", "bold green" if ok else "bold yellow")
            lines.append(f"question: {self.runner.render(question.prompt)}\n")
        lines.rstrip()
        self.query_one("#lab-checks", Static).update(lines)
        self.query_one("#lab-output", Static).update(self._output_text(status))
        self._update_nav()  # the hint that fits the failure changes with it; the solution comes with a pass
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
                continue
            if result.error:
                text.append(f"{result.file}: {result.error}", "red")
            else:
                style = "green" if result.exit_code == 0 else "red"
                text.append(f"{result.file}: exit {result.exit_code} ({result.duration:.1f}s)", style)
            tail = (result.stdout + result.stderr).strip().splitlines()
            if not self._acted and not status.passed:
                # The starter file, run as given: its last line says what is wrong, the rest waits until
                # the learner saves or checks (F5).
                if tail and not result.error:
                    text.append(f" — {tail[-1][:200]}", "dim")
                text.append("\n  save your file or press F5 to run it again\n", "italic dim")
                continue
            text.append("\n")
            for line in tail[-6:]:
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
            self._open_pane(action.pane, fill,
                            runner.hosts.network.name + "/" + action.on if action.on and runner.hosts.network else None)
        elif action.command:
            command = runner.command_line(action.command)
            self.app.copy_to_clipboard(command)
            # OSC 52 only asks the terminal to take it: say so, and show the whole command to type.
            self.notify(f"run it in a terminal: {command}\n(offered to your terminal's clipboard by OSC 52, "
                        "which some terminals ignore)", title=runner.render(action.label), timeout=15)
        else:
            self.notify(f"the {action.pane} tool is not available here", severity="warning")

    @work(group="lab-actions", exit_on_error=False)
    async def _open_pane(self, pane_id: str, fill: dict, host: str | None) -> None:
        choose_host(await self.netlab.open_pane(pane_id, **fill), host)

    @on(Input.Submitted, "#lab-questions Input")
    def _answered(self, event: Input.Submitted) -> None:
        question_id = (event.input.id or "").removeprefix("lab-answer-")
        question = next(q for q in self.runner.step.questions if q.id == question_id)
        self._acted = True
        feedback = self.query_one(f"#lab-feedback-{question_id}", Static)
        if self.runner.answer(question_id, event.value):
            explain = f" {self.runner.render(question.explain)}" if question.explain else ""
            feedback.update(Text(f"✓ right.{explain}", style="green"))
            event.input.disabled = True
        else:
            feedback.update(Text("✗ not quite — try again (or take a hint)", style="red"))

    @on(Button.Pressed, "#lab-hint")
    async def action_hint(self) -> None:
        following = self.runner.next_hint()
        hint = self.runner.reveal_hint(solution=following is not None and following.solution)
        if hint is not None:
            number = self.runner.hints_shown
            hints = self.query_one("#lab-hints", Vertical)
            await hints.mount(self._hint_widget(number, hint))
            self.query_one("#lab-body", VerticalScroll).scroll_end(animate=False)
        self._update_nav()

    def _hint_widget(self, number: int, hint) -> Markdown:
        if hint.solution:
            return Markdown(f"**Solution.** {self.runner.render(hint.text)}", classes="lab-solution")
        shown = [h for h in self.runner.shown_hints if not h.solution]
        n = shown.index(hint) + 1 if hint in shown else number
        return Markdown(f"**Hint {n}.** {self.runner.render(hint.text)}", classes="lab-hint")

    @on(Button.Pressed, "#lab-check")
    def action_check(self) -> None:
        self._acted = True
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
        if self.query_one("#lab-resume", Vertical).has_class("shown"):
            await self._hide_resumed()
        await self.show_step()

    @on(Button.Pressed, "#lab-close")
    async def action_close(self) -> None:
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
