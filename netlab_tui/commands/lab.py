"""``netlab lab``: the guided labs without the TUI — list, show, validate, run, solve, reset."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError, SessionRegistry
from netlab_tui.labs.catalog import (
    CONTENT_DIR,
    find_lab,
    lab_files,
    load_labs,
    missing_requirements,
    preferred_language,
)
from netlab_tui.labs.model import Lab, Step
from netlab_tui.labs.progress import ProgressStore
from netlab_tui.labs.runner import LabRunner, StepStatus
from netlab_tui.labs.templating import Variables
from netlab_tui.labs.validate import check_lab
from netlab_tui.labs.workspace import Workspace

from ._common import EventPrinter, format_event_line, install_stop_signals, run

PASS, FAIL, WAIT = "✓", "✗", "·"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lab", help="guided labs: list, show, run, solve, validate, reset",
        description="Guided labs, step by step, each step checked against the real traffic.")
    actions = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    def lang(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", metavar="LANG", help="language of the lab text: en or fr (default: the locale)")

    p = actions.add_parser("list", help="the labs, with your progress")
    p.add_argument("--json", action="store_true", help="one JSON array of labs")
    lang(p)
    p.set_defaults(handler=handle_list)

    p = actions.add_parser("show", help="print a lab's text, steps, hints count and checks")
    p.add_argument("lab", metavar="ID", help="a lab id (see `netlab lab list`) or a lab.md path")
    lang(p)
    p.set_defaults(handler=handle_show)

    p = actions.add_parser(
        "validate", help="check lab files; every problem with file:line",
        description="Check lab files without running them; with --prove, also run each lab three ways: its "
                    "starter must fail every scripted step, its solution must pass every step, and each file "
                    "of its wrong/ folder must fail its step with the diagnosis the lab declares.")
    p.add_argument("paths", metavar="ID|PATH", nargs="*",
                   help="lab ids, lab.md files or lab folders (default: every lab netlab ships)")
    p.add_argument("--prove", action="store_true",
                   help="run the starter, the known mistakes (wrong/) and the solution of each lab")
    p.set_defaults(handler=handle_validate)

    p = actions.add_parser(
        "run", help="do a lab in this terminal while you edit in your own editor",
        description="Start the lab's servers, copy its starter files to your workspace and watch it: each save "
                    "re-runs the step's script and re-checks the step. Type `help` for the commands.")
    p.add_argument("lab", metavar="ID")
    p.add_argument("--workspace", metavar="DIR", help="where your files go (default: netlab's data dir)")
    p.add_argument("--step", metavar="N|ID", help="start at this step (number from 1, or id)")
    p.add_argument("--events", action="store_true", help="also print every traffic event")
    lang(p)
    p.set_defaults(handler=handle_run)

    p = actions.add_parser(
        "solve", help="run a lab's reference solution against its checks (exit 0 if every step passes)")
    p.add_argument("lab", metavar="ID", help="a lab id or a lab.md path")
    p.add_argument("--json", action="store_true", help="print the lab's events (proto \"lab\") as JSON lines")
    p.add_argument("--workspace", metavar="DIR", help="solve in this folder (default: a temporary one)")
    p.add_argument("--step", metavar="N|ID", help="solve only this step")
    lang(p)
    p.set_defaults(handler=handle_solve)

    p = actions.add_parser(
        "open", help="open the TUI with a lab's panel on its current step",
        description="Open netlab's TUI with the lab beside the tools, on the step you reached (the same progress "
                    "and workspace as `netlab lab run`).")
    p.add_argument("lab", metavar="ID", help="a lab id (see `netlab lab list`) or a lab.md path")
    p.add_argument("--workspace", metavar="DIR", help="where your files go (default: netlab's data dir)")
    lang(p)
    p.set_defaults(handler=handle_open)

    p = actions.add_parser(
        "progress", help="per lab and step: passed, hints used, tries, time spent",
        description="Your progress in every lab you opened, step by step: when it passed, hints revealed, tries "
                    "(script runs and wrong answers) and time spent. --json prints the same for a teacher's "
                    "dashboard.")
    p.add_argument("labs", metavar="ID", nargs="*", help="only these labs (default: every lab)")
    p.add_argument("--json", action="store_true", help="one JSON array: a lab per item, its steps inside")
    p.set_defaults(handler=handle_progress)

    p = actions.add_parser("reset", help="forget your progress in a lab and restore its starter files")
    p.add_argument("lab", metavar="ID")
    p.add_argument("--keep-files", action="store_true", help="forget the progress only; leave the workspace")
    p.add_argument("--workspace", metavar="DIR", help="the workspace to reset (default: netlab's data dir)")
    p.set_defaults(handler=handle_reset)


# -- list / show / validate --------------------------------------------------------------------------------
def handle_list(args: argparse.Namespace) -> int:
    labs, broken = load_labs(preferred_language(args.lang))
    progress = ProgressStore()
    if progress.warning:
        print(f"netlab: {progress.warning}", file=sys.stderr)
    rows = []
    for lab in labs:
        passed = progress.passed_steps(lab.id) & {s.id for s in lab.steps}
        rows.append({
            "id": lab.id, "title": lab.title, "summary": lab.summary, "topics": lab.topics, "level": lab.level,
            "minutes": lab.minutes, "requires": lab.requires, "missing": missing_requirements(lab),
            "steps": len(lab.steps), "passed": len(passed), "languages": lab.languages,
            "completed": progress.completed(lab.id) is not None,
        })
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for row in rows:
            done = f"{row['passed']}/{row['steps']}"
            note = f"  (needs {', '.join(row['missing'])})" if row["missing"] else ""
            print(f"{row['id']:<26} {row['level']:<12} {row['minutes']:>3} min  {done:>5}  {row['title']}{note}")
    for line in broken:
        print(f"netlab: broken lab: {line}", file=sys.stderr)
    return 1 if broken else 0


def handle_show(args: argparse.Namespace) -> int:
    lab = find_lab(args.lab, preferred_language(args.lang))
    out = _Output(sys.stdout)
    out.markdown(f"# {lab.title}\n\n*{lab.summary}*")
    facts = [f"id: {lab.id}", f"level: {lab.level}", f"about {lab.minutes} min", f"topics: {', '.join(lab.topics)}"]
    if lab.requires:
        facts.append(f"requires: {', '.join(lab.requires)}")
    out.line("  ".join(facts))
    if lab.intro:
        out.markdown(_preview(lab.intro))
    for index, step in enumerate(lab.steps, 1):
        out.markdown(f"## {index}. {step.title}\n\n{_preview(step.body)}")
        _print_step_parts(out, step, _preview)
        hints = [h for h in step.hints if not h.solution]
        if hints:
            solution = " and a solution, after a pass or every hint" if len(hints) < len(step.hints) else ""
            out.line(f"  hints: {len(hints)} (revealed one at a time in `netlab lab run`){solution}")
        for check in step.checks:
            out.line(f"  check: {_preview(check.title)}")
        out.line()
    return 0


def _preview(text: str) -> str:
    """A lab's text before it runs: run-time values shown as <echo.port>."""
    return Variables().render(text, missing="<{name}>")


def _print_step_parts(out: "_Output", step: Step, render) -> None:
    for action in step.actions:
        command = f": {shlex.join(render(a) for a in action.command)}" if action.command else ""
        out.line(f"  → {render(action.label)}{command}")
    for question in step.questions:
        out.line(f"  ? {render(question.prompt)}")
        for number, choice in enumerate(question.choices, 1):
            out.line(f"      {number}. {render(choice)}")


def handle_validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [CONTENT_DIR]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = [path / "lab.md"] if (path / "lab.md").is_file() else lab_files(path)
            if not found:
                print(f"netlab: no lab.md in {path}", file=sys.stderr)
                return 1
            files += found
        elif path.is_file():
            files.append(path)
        elif "/" not in str(path) and (CONTENT_DIR / str(path) / "lab.md").is_file():
            files.append(CONTENT_DIR / str(path) / "lab.md")  # a shipped lab's id
        else:
            what = "file or folder" if "/" in str(path) or path.suffix else "lab, file or folder"
            print(f"netlab: no such {what}: {path}", file=sys.stderr)
            return 1
    count = 0
    for file in files:
        problems = check_lab(file)
        for problem in problems:
            print(problem)
            count += 1
        if args.prove and not problems:
            count += _prove(file)
    plural = "s" if len(files) != 1 else ""
    proven = " proven" if args.prove else ""
    if count:
        print(f"{count} problem{'s' if count != 1 else ''} in {len(files)} lab{plural}", file=sys.stderr)
        return 1
    print(f"{len(files)} lab{plural} OK{proven}", file=sys.stderr)
    return 0


def _prove(file: Path) -> int:
    """Run one lab three ways (see labs/prove.py); the number of problems printed."""
    from netlab_tui.labs.parser import parse_lab
    from netlab_tui.labs.prove import prove_lab

    lab = parse_lab(file)
    missing = missing_requirements(lab)
    if missing:
        print(f"{file}:1: cannot prove {lab.id}: it needs {', '.join(missing)} (see `netlab doctor`)")
        return 1
    print(f"proving {lab.id}", file=sys.stderr)
    problems = run(prove_lab(lab, report=lambda line: print(line, file=sys.stderr)))
    for problem in problems:
        print(problem)
    return len(problems)


def handle_reset(args: argparse.Namespace) -> int:
    lab = find_lab(args.lab)
    progress = ProgressStore()
    if progress.warning:
        print(f"netlab: {progress.warning}", file=sys.stderr)
    had = progress.reset(lab.id)
    print(f"{lab.id}: progress {'forgotten' if had else 'was empty'}")
    if not args.keep_files:
        workspace = Workspace(lab, args.workspace)
        backup = workspace.reset()
        if backup is not None:
            print(f"your previous files are kept in {backup}")
        print(f"starter files restored in {workspace.path}")
    return 0


# -- open / progress -----------------------------------------------------------------------------------
def handle_open(args: argparse.Namespace) -> int:
    lab = find_lab(args.lab, preferred_language(args.lang))
    missing = missing_requirements(lab)
    if missing:
        raise NetlabError(f"lab {lab.id} needs {', '.join(missing)}, which is not installed (see `netlab doctor`)")
    return int(build_open_app(lab, Workspace(lab, args.workspace)).run() or 0)


def build_open_app(lab: Lab, workspace: Workspace):
    """The TUI with ``lab`` opened beside the tools as it starts (progress and workspace as `lab run`)."""
    from netlab_tui.ui.app import NetlabApp
    from netlab_tui.ui.widgets.lab_panel import open_lab_panel

    import netlab_tui.ui.app as app_module

    class LabApp(NetlabApp):
        """netlab with one lab opened as it starts."""

        CSS_PATH = str(Path(app_module.__file__).parent / NetlabApp.CSS_PATH)  # relative to NetlabApp, not here

        def on_mount(self) -> None:  # Textual calls NetlabApp.on_mount too (every class of the MRO)
            self.call_after_refresh(self._open_lab)

        async def _open_lab(self) -> None:
            await open_lab_panel(self, lab, workspace=workspace)

    return LabApp()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def handle_progress(args: argparse.Namespace) -> int:
    progress = ProgressStore()
    if progress.warning:
        print(f"netlab: {progress.warning}", file=sys.stderr)
    labs, _broken = load_labs("en")
    by_id = {lab.id: lab for lab in labs}
    wanted = args.labs or [lab.id for lab in labs if lab.id in progress.lab_ids()] + \
        [i for i in progress.lab_ids() if i not in by_id]
    for lab_id in args.labs:
        if lab_id not in by_id and lab_id not in progress.lab_ids():
            raise NetlabError(f"no lab {lab_id!r} (see `netlab lab list`)")
    rows = []
    for lab_id in wanted:
        lab = by_id.get(lab_id)
        record = progress.lab(lab_id)
        step_ids = [s.id for s in lab.steps] if lab else sorted(
            set(record.get("passed", {})) | set(record.get("tries", {})) | set(record.get("time", {})))
        steps = progress.summary(lab_id, step_ids)
        if lab:
            for row, step in zip(steps, lab.steps, strict=True):
                row["title"] = step.title
        rows.append({"id": lab_id, "title": lab.title if lab else lab_id, "current": record.get("current"),
                     "completed": record.get("completed"), "started": record.get("started"),
                     "passed": sum(1 for r in steps if r["passed"]), "steps": steps})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("no progress yet: `netlab lab list` shows the labs, `netlab lab open ID` starts one")
        return 0
    for row in rows:
        done = "complete" if row["completed"] else f"{row['passed']}/{len(row['steps'])} steps"
        print(f"{row['id']} — {row['title']} ({done})")
        for number, step in enumerate(row["steps"], 1):
            mark = PASS if step["passed"] else (WAIT if step["step"] != row["current"] else "▸")
            print(f"  {mark} {number}. {step.get('title', step['step'])[:48]:<48} hints {step['hints']:>2}  "
                  f"tries {step['tries']:>3}  time {_duration(step['seconds']):>7}")
    return 0


# -- solve ---------------------------------------------------------------------------------------------
def handle_solve(args: argparse.Namespace) -> int:
    lab = find_lab(args.lab, preferred_language(args.lang))
    missing = missing_requirements(lab)
    if missing:
        raise NetlabError(f"lab {lab.id} needs {', '.join(missing)}, which is not installed")
    if args.step:
        _step_index(lab, args.step)  # a bad step is an error before anything starts
    return run(_solve(lab, args))


async def _solve(lab: Lab, args: argparse.Namespace) -> int:
    journal = Journal()
    registry = SessionRegistry(journal)
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    temporary = None
    if args.workspace:
        root = Path(args.workspace)
    else:
        temporary = tempfile.mkdtemp(prefix=f"netlab-solve-{lab.id}-")
        root = Path(temporary)
    out = _Output(sys.stdout)
    if args.json:
        journal.subscribe(EventPrinter(True), lambda e: e.proto == "lab")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, root))
    results: list[StepStatus] = []

    def report(status: StepStatus) -> None:
        results.append(status)
        if args.json:
            return
        mark = PASS if status.passed else FAIL
        out.line(f"{mark} {status.index + 1}/{len(lab.steps)} {status.step.title}")
        for check in status.checks:
            detail = "" if check.passed else f" — {check.detail}"
            out.line(f"    {PASS if check.passed else FAIL} {check.title}{detail}")
        for question in status.step.questions:
            ok = status.answered.get(question.id)
            out.line(f"    {PASS if ok else FAIL} question: {runner.render(question.prompt)}")
        for result in status.scripts.values():
            crashed = result.exit_code not in (0, None) and not result.background
            if result.error or (crashed and not status.passed):
                out.line(f"    script {result.name}: {result.error or f'exit {result.exit_code}'}")
                tail = result.stderr.strip().splitlines()[-3:]
                for line in tail:
                    out.line(f"      {line}")

    try:
        if not args.json:
            out.line(f"{lab.id}: {lab.title}")
        solving = asyncio.ensure_future(_solve_steps(runner, args.step, report))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({solving, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not solving.done():
            solving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await solving
            return 130
        solving.result()
        passed = sum(1 for s in results if s.passed)
        ok = passed == len(results) and results
        runner.session.emit("info", message=f"{lab.id}: {passed}/{len(results)} steps passed",
                            meta={"lab": lab.id, "result": "passed" if ok else "failed", "passed": passed,
                                  "steps": len(results)})
        if not args.json:
            out.line(f"{'solved' if ok else 'NOT solved'}: {passed}/{len(results)} steps passed")
        return 0 if ok else 1
    finally:
        await runner.stop()
        await registry.stop_all()
        restore()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


async def _solve_steps(runner: LabRunner, only: str | None, report) -> None:
    lab = runner.lab
    indices = range(len(lab.steps)) if only is None else [_step_index(lab, only)]
    runner.workspace.install_solution()
    await runner.start(step=indices[0], run=False, enter=False)
    for index in indices:
        status = await runner.solve_step(index)
        if not status.step.checked:
            status.passed = True
        if not status.passed:
            runner.session.emit("step", message=f"step {index + 1} failed: {status.step.title}",
                                meta={"lab": lab.id, "step": status.step.id, "index": index + 1, "status": "failed",
                                      "checks": [{"title": c.title, "passed": c.passed, "detail": c.detail}
                                                 for c in status.checks]})
        report(status)


def _step_index(lab: Lab, ref: str) -> int:
    if ref.isdigit() and 1 <= int(ref) <= len(lab.steps):
        return int(ref) - 1
    index = lab.step_index(ref)
    if index is None:
        raise NetlabError(f"lab {lab.id} has no step {ref!r} (steps: 1-{len(lab.steps)} or "
                          f"{', '.join(s.id for s in lab.steps)})")
    return index


# -- run -----------------------------------------------------------------------------------------------
RUN_HELP = """commands:
  next (n)          go to the next step          prev (p)   the previous step
  hint (h)          reveal the next hint         check (c)  re-run your script and the checks now
  status (s)        show the step's checks       show       print the step's text again
  answer TEXT (a)   answer the step's question (any other line is taken as an answer, too)
  restart           forget your progress in this lab and go back to step 1 (your files stay)
  quit (q)          stop the lab (progress is saved)"""


def handle_run(args: argparse.Namespace) -> int:
    lab = find_lab(args.lab, preferred_language(args.lang))
    missing = missing_requirements(lab)
    if missing:
        raise NetlabError(f"lab {lab.id} needs {', '.join(missing)}, which is not installed")
    step = _step_index(lab, args.step) if args.step else None
    return run(_run(lab, args, step))


class _Output:
    """Terminal output: Markdown through rich when it is a terminal, plain text otherwise."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console

        self.stream = stream
        self.console = Console(file=stream, highlight=False, soft_wrap=False)

    def markdown(self, text: str) -> None:
        from rich.markdown import Markdown

        if not text.strip():
            return
        try:
            if self.stream.isatty():
                self.console.print(Markdown(text, code_theme="ansi_dark"))
            else:
                self.stream.write(text.rstrip() + "\n\n")
                self.stream.flush()
        except BrokenPipeError:  # `netlab lab show ID | head`: the reader has seen enough
            pass

    def line(self, text: str = "") -> None:
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except BrokenPipeError:
            pass


async def _run(lab: Lab, args: argparse.Namespace, step: int | None) -> int:
    journal = Journal()
    registry = SessionRegistry(journal)
    progress = ProgressStore()
    out = _Output(sys.stdout)
    if progress.warning:
        print(f"netlab: {progress.warning}", file=sys.stderr)
    workspace = Workspace(lab, args.workspace)
    runner = LabRunner(lab, journal, registry, workspace=workspace, progress=progress)
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    view = _RunView(runner, out)
    journal.subscribe(view.on_event)
    if args.events:
        journal.subscribe(lambda e: out.line("   " + format_event_line(e)), lambda e: e.proto not in ("lab", "shell"))
    try:
        await runner.start(step)
        runner.subscribe(view.on_status)
        out.line(f"{lab.title} — {len(lab.steps)} steps. Your files: {workspace.path}")
        out.line("Edit them in your editor; each save re-runs the step. Type `help` for the commands.")
        if lab.intro:
            out.markdown(runner.render(lab.intro))
        if runner.resumed:
            passed = len(runner.passed_steps() & {s.id for s in lab.steps})
            out.line(f"Resumed at step {runner.index + 1}/{len(lab.steps)} where you left off ({passed}/"
                     f"{len(lab.steps)} passed). Type `restart` to start over from step 1.")
        view.show_step()
        runner.watch()
        loop = asyncio.get_running_loop()
        reader = _LineReader(loop)
        while not stop.is_set():
            line_task = asyncio.ensure_future(reader.readline())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({line_task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if line_task not in done:
                line_task.cancel()
                break
            line = line_task.result()
            if line is None:  # end of input
                await runner.wait_idle()
                break
            if not await view.command(line.strip()):
                break
        out.line(f"progress saved; `netlab lab run {lab.id}` resumes at step {runner.index + 1}")
        return 0
    finally:
        await runner.stop()
        await registry.stop_all()
        restore()


class _LineReader:
    """stdin lines without blocking the loop (a daemon thread, so Ctrl+C never waits for Enter)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        import threading

        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

        def pump() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(self.queue.put_nowait, line)
            loop.call_soon_threadsafe(self.queue.put_nowait, None)

        threading.Thread(target=pump, daemon=True, name="netlab-lab-stdin").start()

    async def readline(self) -> str | None:
        return await self.queue.get()


class _RunView:
    """What `netlab lab run` prints: the step, script output as it comes, and check changes."""

    def __init__(self, runner: LabRunner, out: _Output) -> None:
        self.runner = runner
        self.out = out
        self._last: tuple | None = None
        self._ran = False
        self._partial: dict[tuple, str] = {}
        self._announced_pass = -1

    def show_step(self) -> None:
        runner, out = self.runner, self.out
        step = runner.step
        out.line()
        out.markdown(f"## Step {runner.index + 1}/{len(runner.lab.steps)}: {step.title}")
        out.markdown(runner.render(step.body))
        for action in step.actions:
            if action.command:
                out.line(f"  → {runner.render(action.label)}:  {runner.command_line(action.command)}")
        for hint in runner.shown_hints:
            out.markdown(("Solution: " if hint.solution else "Hint: ") + runner.render(hint.text))
        for question in step.questions:
            self._ask(question)
        if runner.hint_count:
            count = runner.hint_count
            out.line(f"  ({count} hint{'s' if count != 1 else ''} available: type `hint`)")
        if not step.checked:
            out.line("  (nothing to check here: type `next` when you are ready)")
        self._last = None
        self.on_status(runner.status)

    def _ask(self, question) -> None:
        render = self.runner.render
        self.out.line(f"  ? {render(question.prompt)}   (type your answer)")
        for number, choice in enumerate(question.choices, 1):
            self.out.line(f"      {number}. {render(choice)}")

    def on_event(self, event) -> None:
        if event.proto == "shell" and event.kind in ("stdout", "stderr") and event.payload is not None:
            # Whole lines only: an unbuffered script writes print("a", b) in several pieces.
            key = (event.conn, event.kind)
            text = self._partial.pop(key, "") + (event.text or "")
            *lines, rest = text.split("\n")
            if rest:
                self._partial[key] = rest
            for line in lines:
                self.out.line(("  │ " if event.kind == "stdout" else "  ! ") + line)
        elif event.proto == "shell" and event.kind in ("info", "exit"):
            for (conn, kind), rest in list(self._partial.items()):
                if conn == event.conn:
                    del self._partial[(conn, kind)]
                    self.out.line(("  │ " if kind == "stdout" else "  ! ") + rest)
            self.out.line(f"  {event.text}")
        elif event.proto == "lab" and event.kind == "error":
            self.out.line(f"  {FAIL} {event.text}")

    def on_status(self, status: StepStatus) -> None:
        if status.running:
            self._ran = True
            return
        key = (status.index, tuple((c.title, c.passed, c.diagnosis.sentence if c.diagnosis else None)
                                   for c in status.checks))
        if key != self._last or self._ran:  # when a check changes or a run ends, not at every event
            self._last = key
            self._ran = False
            for check in status.checks:
                detail = "" if check.passed else f" — {check.detail}"
                self.out.line(f"  {PASS if check.passed else WAIT} {check.title}{detail}")
                if not check.passed and not status.running:
                    for line in self.runner.ladder(check):
                        self.out.line(f"      {line}")
        if status.passed and self._announced_pass != status.index:
            self._announced_pass = status.index
            last = status.index + 1 >= len(self.runner.lab.steps)
            self.out.line(f"  {PASS} step {status.index + 1} passed!"
                          + (" That was the last step: lab complete." if last else " Type `next` to go on."))

    async def command(self, line: str) -> bool:
        """Handle one typed line; False to quit."""
        runner = self.runner
        word, _, rest = line.partition(" ")
        word = word.lower()
        if not line:
            return True
        if word in ("q", "quit", "exit"):
            return False
        if word in ("n", "next"):
            if await runner.next() is None:
                self.out.line("that was the last step" + (": lab complete!" if self._complete() else ""))
            else:
                self.show_step()
        elif word in ("p", "prev", "previous"):
            if await runner.previous() is None:
                self.out.line("this is the first step")
            else:
                self.show_step()
        elif word in ("h", "hint"):
            hint = runner.reveal_hint()
            if hint is None:
                self.out.line("No more hints for this step.")
            elif hint.solution:
                self.out.markdown(f"Solution: {runner.render(hint.text)}")
            else:
                shown = sum(1 for h in runner.shown_hints if not h.solution)
                fits = " (for what went wrong just now)" if runner.hint_fits(hint) else ""
                self.out.markdown(f"Hint {shown}/{runner.hint_count}{fits}: {runner.render(hint.text)}")
        elif word in ("c", "check", "r", "run"):
            self._last = None
            if runner.step.scripts:
                runner.request_run()
                await runner.wait_idle()
            else:
                await runner.run_probes()
                self.on_status(runner.evaluate())
        elif word in ("s", "status"):
            self._last = None
            self.on_status(runner.evaluate())
        elif word == "show":
            self.show_step()
        elif word == "restart":
            if runner.progress is not None:
                runner.progress.reset(runner.lab.id)
            runner.resumed = False
            self._announced_pass = -1
            await runner.goto(0)
            self.out.line(f"progress forgotten; your files stay in {runner.workspace.path} "
                          f"(`netlab lab reset {runner.lab.id}` restores the starter files)")
            self.show_step()
        elif word in ("?", "help"):
            self.out.line(RUN_HELP)
        else:
            text = rest if word in ("a", "answer") else line
            pending = runner.status.remaining_questions
            if not pending:
                self.out.line("unknown command (type `help`)" if runner.step.questions == [] else
                              "every question of this step is answered (type `help` for the commands)")
                return True
            question = pending[0]
            if runner.answer(question.id, text):
                self.out.line(f"  {PASS} right." + (f" {runner.render(question.explain)}" if question.explain else ""))
                if len(pending) > 1:
                    self._ask(pending[1])
            else:
                self.out.line(f"  {FAIL} not quite — try again (or type `hint`)")
        return True

    def _complete(self) -> bool:
        return {s.id for s in self.runner.lab.steps} <= self.runner.passed_steps()
