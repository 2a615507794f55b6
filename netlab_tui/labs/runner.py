"""Running a lab: its servers, its variables, the current step, and the live status of that step's checks.

One ``LabRunner`` serves every face: the TUI's lab panel, ``netlab lab run`` (a learner working in their
own editor) and ``netlab lab solve`` (the reference solution against the real checks). Checks look at the
events published since the step was entered (``proto = "lab"`` excepted), at the last run of the step's
scripts, at the answers given, and at the last outcome of each probe. Listeners hear about every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import re
import shlex
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.events import TrafficEvent, format_addr
from netlab_tui.engine.core.journal import Journal, Subscription
from netlab_tui.engine.core.place import on_place, place_command
from netlab_tui.engine.core.sessions import NetlabError, Session, SessionRegistry

from .checks import CheckContext, MatchIndex, Outcome, ProbeCondition, ScriptResult, shorten
from .hosts import LabHosts
from .model import HintSpec, Lab, QuestionSpec, ScriptSpec, Step
from .probe import run_probe
from .progress import ProgressStore
from .templating import UndefinedVariable, Variables
from .workspace import ScriptRun, Workspace, WorkspaceWatcher, free_port

STEP_EVENT_LIMIT = 50_000  # events kept for the current step's checks
EVALUATE_DELAY = 0.05  # coalesce bursts of events into one evaluation
LISTEN_TIMEOUT = 10.0
BACKGROUND_SETTLE = 0.5  # seconds a background client gets to start before the checks run


@dataclass
class CheckStatus:
    title: str
    passed: bool
    detail: str
    diagnosis: Any = None  # diagnose.Diagnosis of a failing check (kind, sentence, tags)
    id: str = ""


@dataclass
class StepStatus:
    index: int
    step: Step
    checks: list[CheckStatus] = field(default_factory=list)
    answered: dict[str, bool] = field(default_factory=dict)  # question id -> answered correctly
    passed: bool = False
    scripts: dict[str, ScriptResult] = field(default_factory=dict)
    running: bool = False  # scripts or probes in progress

    @property
    def remaining_questions(self) -> list[QuestionSpec]:
        return [q for q in self.step.questions if not self.answered.get(q.id)]


class LabSession(Session):
    """The lab itself, as a source of ``lab`` events (step entered, passed …) in the journal."""

    kind = "lab"
    proto = "lab"
    role = "lab"

    async def _start(self) -> None:
        return None

    async def _stop(self) -> None:
        return None


def normalise_answer(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .!")


class LabRunner:
    def __init__(
        self,
        lab: Lab,
        journal: Journal,
        registry: SessionRegistry | None = None,
        *,
        workspace: Workspace | None = None,
        progress: ProgressStore | None = None,
        max_wait: float | None = None,
    ) -> None:
        self.lab = lab
        self.max_wait = max_wait  # caps the checks' timeouts when solving (tests of starters that must fail)
        self.script_timeout: float | None = None  # caps the scripts' timeouts (proving: a hung starter fails)
        self.journal = journal
        # `is None`, not `or`: an empty registry is falsy (it has __len__), and the lab must share the
        # app's: its servers are counted, listed in Servers and stopped when netlab quits.
        self.registry = registry if registry is not None else SessionRegistry(journal)
        self.workspace = workspace or Workspace(lab)
        self.progress = progress
        self.variables = Variables()
        self.env: dict[str, str] = {}
        self.servers: dict[str, Session] = {}
        self.index = 0
        self.status = StepStatus(0, lab.steps[0])
        self._revealed: list[int] = []  # indices into step.hints, in the order they were revealed
        self._entered_at: float | None = None  # monotonic time the current step was entered (time spent)
        self.resumed = False  # start() entered a step other than the first from saved progress
        self.started = False
        self.session = LabSession(journal, name=f"lab {lab.id}")
        self._events: deque[TrafficEvent] = deque(maxlen=STEP_EVENT_LIMIT)
        self._index = MatchIndex()  # each event matched once per check, not at every evaluation
        self._subscription: Subscription | None = None
        self._scripts: dict[str, ScriptRun] = {}
        self._results: dict[str, ScriptResult] = {}
        self._probes: dict[int, Outcome] = {}
        self._answered: dict[str, bool] = {}
        self._listeners: list[Callable[[StepStatus], None]] = []
        self._evaluate_handle: asyncio.TimerHandle | None = None
        self._run_task: asyncio.Task | None = None
        self._rerun = False
        self._watcher: WorkspaceWatcher | None = None
        self._passed_now = False  # this visit of the step passed (sticky until the step changes)
        self._rundir: Path | None = None
        self._evaluate_cost = 0.0  # seconds the last evaluation took
        self.hosts = LabHosts(lab)  # a multi-host lab's topology (empty otherwise)

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def start(self, step: int | str | None = None, *, run: bool = True, enter: bool = True) -> None:
        """Start the lab's servers, define its variables, prepare the workspace, enter a step."""
        await self.session.start()
        self._rundir = Path(tempfile.mkdtemp(prefix=f"netlab-{self.lab.id}-"))
        self.variables = Variables({
            "host": "127.0.0.1", "workspace": str(self.workspace.path), "rundir": str(self._rundir),
            "python": sys.executable, "lab.id": self.lab.id,
        })
        self.env = {"NETLAB_HOST": "127.0.0.1", "NETLAB_LAB": self.lab.id, "NETLAB_RUNDIR": str(self._rundir)}
        for port_name in self.lab.ports:
            port = free_port()
            self.variables.set(f"ports.{port_name}", port)
            self.env[f"NETLAB_PORT_{_env_name(port_name)}"] = str(port)
        try:
            if self.hosts.wanted:
                self.variables.update(await self.hosts.up())
                self.env.update(self.hosts.environment())
            for spec in self.lab.all_servers():
                await self._start_server(spec)
        except BaseException:
            await self.stop()
            raise
        self.workspace.prepare()
        self._subscription = self.journal.subscribe(self._on_event)
        self.started = True
        self.session.emit("info", message=f"lab {self.lab.id} started: {self.lab.title}",
                          meta={"lab": self.lab.id, "servers": {n: s.name for n, s in self.servers.items()},
                                "workspace": str(self.workspace.path)})
        if step is None and self.progress is not None:
            step = self.progress.current_step(self.lab.id)
            self.resumed = step is not None and (self.lab.step_index(step) or 0) > 0
        index = self.lab.step_index(step) if isinstance(step, str) else step
        if enter:  # (solving enters each step itself)
            await self.goto(index if index is not None and 0 <= index < len(self.lab.steps) else 0, run=run)

    async def _start_server(self, spec) -> None:
        kind = server_kinds().get(spec.kind)
        if kind is None:
            raise NetlabError(f"lab {self.lab.id} needs server kind {spec.kind!r}, which this netlab does not have")
        types = {o.dest: o.type for o in kind.options}
        options: dict[str, Any] = {}
        for key, value in spec.options.items():
            dest = key.replace("-", "_")
            value = self.variables.render_value(value)
            if isinstance(value, str) and dest in types:
                value = types[dest](value)
            options[dest] = value
        bind = self.variables[f"hosts.{spec.on}.ip"] if spec.on == spec.host else spec.host
        with on_place(self.hosts.place(spec.on)):  # host = "h1": in h1's namespace, on its address
            if spec.port_range is None:
                session = kind.create(self.journal, host=bind, port=spec.port, **options)
                await self.registry.start(session)
            else:
                session = await self._start_in_range(kind, spec, options, bind)
        self.servers[spec.name] = session
        port = getattr(session, "port", spec.port)
        host = bind
        address = format_addr(host, port)
        self.variables.update({f"{spec.name}.host": host, f"{spec.name}.port": port,
                               f"{spec.name}.address": address, f"{spec.name}.url": f"http://{address}",
                               f"{spec.name}.source": session.name})
        self.env[f"NETLAB_{_env_name(spec.name)}_HOST"] = host
        self.env[f"NETLAB_{_env_name(spec.name)}_PORT"] = str(port)

    async def _start_in_range(self, kind, spec, options: dict[str, Any], bind: str) -> Session:
        """A server on a random free port of ``spec.port_range`` (the port-scanning lab hides servers)."""
        low, high = spec.port_range
        candidates = random.sample(range(low, high + 1), min(64, high - low + 1))
        for port in candidates:
            session = kind.create(self.journal, host=bind, port=port, **options)
            try:
                await self.registry.start(session)
            except NetlabError:
                continue  # taken: try another
            return session
        raise NetlabError(f"no free port for server {spec.name} in {low}-{high}")

    async def _revive_servers(self) -> None:
        """Start again the lab's servers that stopped themselves (a FIN datagram, a QUIT), on the same port,
        so that the step can be tried again."""
        for name, session in self.servers.items():
            if session.running:
                continue
            try:
                await session.start()
            except (NetlabError, OSError) as exc:
                self.session.emit("error", message=f"cannot restart server {name}: {exc}", meta={"lab": self.lab.id})
                continue
            if session.registry is None:
                self.registry.add(session)
            self.session.emit("info", message=f"server {name} restarted on {self.variables[name + '.address']}",
                              meta={"lab": self.lab.id, "server": name})

    async def stop(self) -> None:
        self._account_time()
        self.unwatch()
        if self._evaluate_handle is not None:
            self._evaluate_handle.cancel()
            self._evaluate_handle = None
        await self._cancel_run()
        await self._stop_scripts()
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for session in list(self.servers.values()):
            with contextlib.suppress(Exception):
                await self.registry.stop(session)
        self.servers.clear()
        if self.started:
            self.session.emit("info", message=f"lab {self.lab.id} stopped", meta={"lab": self.lab.id})
        await self.session.stop()
        self.started = False
        await self.hosts.down()  # after the servers and scripts: the hosts' processes go with it
        if self._rundir is not None:
            shutil.rmtree(self._rundir, ignore_errors=True)
            self._rundir = None

    async def __aenter__(self) -> "LabRunner":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- listeners ---------------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[StepStatus], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self.status)

    # -- steps -------------------------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.lab.steps[self.index]

    async def goto(self, index: int, *, run: bool = True) -> StepStatus:
        """Enter step ``index``: from now on its checks look at new events only."""
        if not 0 <= index < len(self.lab.steps):
            raise NetlabError(f"lab {self.lab.id} has steps 1 to {len(self.lab.steps)}")
        await self._cancel_run()
        await self._stop_scripts()
        await self._revive_servers()
        self._account_time()
        self.index = index
        self._entered_at = time.monotonic()
        self._events.clear()
        self._index.reset()
        self._results = {}
        self._probes = {}
        self._answered = {}
        self._passed_now = False
        step = self.step
        self._revealed = self.progress.revealed_hints(self.lab.id, step.id, len(step.hints)) if self.progress else []
        if self.progress is not None:
            self.progress.set_current(self.lab.id, step.id)
        self.session.emit("step", message=f"step {index + 1}/{len(self.lab.steps)}: {step.title}",
                          meta={"lab": self.lab.id, "step": step.id, "index": index + 1, "status": "entered"})
        self.status = StepStatus(index, step)
        self.evaluate()
        if run and step.scripts:
            self.request_run()
        return self.status

    async def next(self) -> StepStatus | None:
        """Move on (a step with nothing to check counts as done once read); None after the last step."""
        if not self.step.checked:
            self._record_pass()
        if self.index + 1 >= len(self.lab.steps):
            return None
        return await self.goto(self.index + 1)

    async def previous(self) -> StepStatus | None:
        if self.index == 0:
            return None
        return await self.goto(self.index - 1)

    def passed_steps(self) -> set[str]:
        return self.progress.passed_steps(self.lab.id) if self.progress else set()

    def _account_time(self) -> None:
        """Add the time spent on the current step to the progress file (on leaving it, on stop)."""
        if self._entered_at is None:
            return
        spent, self._entered_at = time.monotonic() - self._entered_at, None
        if self.progress is not None and spent >= 0.5:
            self.progress.add_time(self.lab.id, self.step.id, spent)

    def _count_try(self) -> None:
        if self.progress is not None:
            self.progress.record_try(self.lab.id, self.step.id)

    # -- hints and questions -----------------------------------------------------------------------------
    @property
    def hints_shown(self) -> int:
        return len(self._revealed)

    @property
    def hint_count(self) -> int:
        """Hints of the step that come one at a time (the solution text excluded)."""
        return sum(1 for h in self.step.hints if not h.solution)

    def _failing(self) -> list[CheckStatus]:
        return [c for c in self.status.checks if not c.passed]

    def hint_fits(self, hint: HintSpec) -> bool:
        """True when the hint names the diagnosis (or the check) of a check failing now."""
        for check in self._failing():
            for when in hint.when:
                if when == f"check:{check.id}" and check.id:
                    return True
                if check.diagnosis is not None and check.diagnosis.fits(when):
                    return True
        return False

    def next_hint(self) -> HintSpec | None:
        """The hint ``reveal_hint`` would give: one that answers the current failure first, then the plain
        ones in order, then those written for other failures; the solution text once the step passed or
        every other hint is out."""
        hints = self.step.hints
        waiting = [i for i, h in enumerate(hints) if i not in self._revealed and not h.solution]
        if waiting:
            fitting = [i for i in waiting if self.hint_fits(hints[i])]
            plain = [i for i in waiting if not hints[i].when]
            return hints[(fitting or plain or waiting)[0]]
        solutions = [i for i, h in enumerate(hints) if i not in self._revealed and h.solution]
        return hints[solutions[0]] if solutions else None

    @property
    def solution_available(self) -> bool:
        return self.status.passed or all(i in self._revealed for i, h in enumerate(self.step.hints)
                                         if not h.solution)

    def reveal_hint(self, *, solution: bool = False) -> HintSpec | None:
        """The next hint of the step (None when all are shown); ``solution`` reveals the step's solution text,
        which only a passed step or one whose hints are all out gives."""
        if solution:
            hint = next((h for i, h in enumerate(self.step.hints) if h.solution and i not in self._revealed), None)
            if hint is None or not self.solution_available:
                return None
        else:
            hint = self.next_hint()
        if hint is None:
            return None
        self._revealed.append(self.step.hints.index(hint))
        if self.progress is not None:
            self.progress.set_hints(self.lab.id, self.step.id, len(self._revealed), revealed=list(self._revealed))
        self._notify()
        return hint

    @property
    def shown_hints(self) -> list[HintSpec]:
        return [self.step.hints[i] for i in self._revealed]

    def answer(self, question_id: str, text: str) -> bool:
        """Check an answer; a correct one counts towards the step."""
        question = next((q for q in self.step.questions if q.id == question_id), None)
        if question is None:
            raise NetlabError(f"step {self.step.id} has no question {question_id!r}")
        correct = self.is_correct(question, text)
        self.session.emit("info", message=f"answer to {question.id}: {'correct' if correct else 'not quite'}",
                          meta={"lab": self.lab.id, "step": self.step.id, "question": question.id, "correct": correct})
        if correct:
            self._answered[question.id] = True
        else:
            self._count_try()
        self.evaluate()
        return correct

    def is_correct(self, question: QuestionSpec, text: str) -> bool:
        given = normalise_answer(text)
        if not given:
            return False
        if question.choices:
            for number, choice in enumerate(question.choices, 1):
                if given in (normalise_answer(choice), str(number)):
                    given = str(number)
                    break
        for answer in question.answers:
            expected = normalise_answer(self.render(answer))
            if question.choices and not expected.isdigit():
                expected = next((str(n) for n, c in enumerate(question.choices, 1)
                                 if normalise_answer(c) == expected), expected)
            if given == expected:
                return True
        if question.regex is not None:
            return re.fullmatch(self.render(question.regex), text.strip(), re.IGNORECASE) is not None
        return False

    # -- text -------------------------------------------------------------------------------------------
    def render(self, text: str) -> str:
        """Text with the lab's variables filled in (unknown ones shown as ``<name>``)."""
        return self.variables.render(text, missing="<{name}>")

    def command_line(self, argv: list[str]) -> str:
        return shlex.join(self.render(a) for a in argv)

    # -- scripts -----------------------------------------------------------------------------------------
    def request_run(self) -> None:
        """(Re)run the step's scripts and probes soon; saves during a run coalesce into one more run."""
        if self._run_task is not None and not self._run_task.done():
            self._rerun = True
            return
        self._run_task = asyncio.get_running_loop().create_task(self._run_loop())

    async def _run_loop(self) -> None:
        while True:
            self._rerun = False
            try:
                await self.run_scripts()
            except NetlabError as exc:
                self.session.emit("error", message=str(exc), meta={"lab": self.lab.id, "step": self.step.id})
            if not self._rerun:
                return

    async def wait_idle(self) -> None:
        """Until the scripts and probes started by the last trigger are done."""
        while self._run_task is not None and not self._run_task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._run_task)

    async def run_scripts(self) -> StepStatus:
        """Restart the step's server scripts, run its other scripts to completion, then its probes."""
        step = self.step
        self.status.running = True
        self._count_try()
        self._notify()
        try:
            await self._stop_scripts()
            await self._revive_servers()
            # Each run is a fresh attempt: what the previous version of the script did no longer counts.
            self._events.clear()
            self._index.reset()
            self._probes = {}
            for spec in step.scripts:
                if spec.background:
                    await self._start_background(spec)
            for spec in step.scripts:
                if not spec.background:
                    await self._run_foreground(spec)
            await self.run_probes()
        finally:
            self.status.running = False
            self.evaluate()
        return self.status

    async def _start_background(self, spec: ScriptSpec) -> None:
        with on_place(self.hosts.place(spec.on)):
            run = ScriptRun(self.journal, spec, self.workspace.path, self.variables, self.env)
        self._scripts[spec.name] = run
        self._results[spec.name] = run.result
        try:
            await self.registry.start(run)  # in the registry: quitting netlab stops the learner's server too
        except NetlabError as exc:
            run.result.error = str(exc)
            return
        if spec.listen is None:  # a long-running client: give it a moment to connect, and to fail
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(BACKGROUND_SETTLE):
                    await run.exited.wait()
            if run.exited.is_set():
                tail = run.result.stderr.strip().splitlines()[-1:]
                run.result.error = (f"{spec.file} exited with status {run.result.exit_code} instead of running"
                                    + (f": {tail[0][:120]}" if tail else ""))
            return
        port_text = self.variables.render(spec.listen)
        try:
            port = int(port_text)
        except ValueError:
            run.result.error = f"listen = {port_text!r} is not a port number"
            return
        await run.wait_listening("127.0.0.1", port, min(LISTEN_TIMEOUT, spec.timeout))

    async def _run_foreground(self, spec: ScriptSpec) -> ScriptResult:
        with on_place(self.hosts.place(spec.on)):
            run = ScriptRun(self.journal, spec, self.workspace.path, self.variables, self.env)
        self._scripts[spec.name] = run
        self._results[spec.name] = run.result
        try:
            await self.registry.start(run)
        except NetlabError as exc:
            run.result.error = str(exc)
            return run.result
        self.evaluate()
        try:
            limit = spec.timeout if self.script_timeout is None else min(spec.timeout, self.script_timeout)
            return await run.wait(limit)
        finally:
            self.registry.remove(run)

    async def run_probes(self, deadline: float | None = None) -> None:
        """Run every probe of the step's checks (they act, so they run on demand, not on each event)."""
        context = self._context()
        for check in self.step.checks:
            for condition in check.condition.walk():
                if isinstance(condition, ProbeCondition):
                    limit = deadline if deadline is not None else time.monotonic() + check.timeout
                    try:
                        outcome = await run_probe(condition.actions, condition.target, context, self.journal, limit)
                    except UndefinedVariable as exc:
                        outcome = Outcome(False, str(exc))
                    self._probes[id(condition)] = outcome
                    self.evaluate()

    async def _stop_scripts(self) -> None:
        scripts, self._scripts = list(self._scripts.values()), {}
        for run in scripts:
            with contextlib.suppress(Exception):
                await self.registry.stop(run)

    async def _cancel_run(self) -> None:
        task, self._run_task = self._run_task, None
        self._rerun = False
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- watching ----------------------------------------------------------------------------------------
    def watch(self, on_save: Callable[[list[str]], None] | None = None) -> None:
        """Re-run the step's scripts whenever a workspace file is saved."""
        def changed(paths: list[str]) -> None:
            self.session.emit("info", message=f"saved: {', '.join(paths)}", meta={"lab": self.lab.id, "files": paths})
            if on_save is not None:
                on_save(paths)
            if self.step.scripts:
                self.request_run()

        self.unwatch()
        self._watcher = WorkspaceWatcher(self.workspace.path, changed)
        self._watcher.start()

    def unwatch(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    # -- evaluation --------------------------------------------------------------------------------------
    def _on_event(self, event: TrafficEvent) -> None:
        if event.proto == "lab":
            return
        self._events.append(event)
        if self._evaluate_handle is None:
            # Judging is O(events of the step): under a flood, wait long enough that it stays a small
            # share of the loop's time (at most ~20%).
            delay = max(EVALUATE_DELAY, 4 * self._evaluate_cost)
            with contextlib.suppress(RuntimeError):
                loop = asyncio.get_running_loop()
                self._evaluate_handle = loop.call_later(delay, self._evaluate_soon)

    def _evaluate_soon(self) -> None:
        self._evaluate_handle = None
        self.evaluate()

    def _context(self) -> CheckContext:
        scripts = [s.name for s in self.step.scripts]
        events = list(self._events)
        servers = {name: session.name for name, session in self.servers.items()}
        index = None
        if MatchIndex.usable(events):
            index = self._index
            index.use((tuple(sorted(servers.items())), tuple(sorted(self.variables.items()))))
        return CheckContext(
            events=events, variables=self.variables, servers=servers,
            scripts=dict(self._results), probes=self._probes,
            default_script=scripts[0] if len(scripts) == 1 else None, index=index,
        )

    def ladder(self, check: CheckStatus) -> list[str]:
        """For a failing sequence check: the expected exchange and the observed one (diagnose.ladder)."""
        from .checks import SequenceCondition
        from .diagnose import ladder

        if check.passed:
            return []
        spec = next((c for c in self.step.checks if self.render(c.title) == check.title), None)
        if spec is None or not isinstance(spec.condition, SequenceCondition):
            return []
        try:
            return ladder(spec.condition, self._context())
        except UndefinedVariable:
            return []

    def evaluate(self) -> StepStatus:
        """Judge the step's checks now; records and announces a pass."""
        started = time.perf_counter()
        context = self._context()
        checks = []
        for check in self.step.checks:
            outcome = check.condition.evaluate(context)
            checks.append(CheckStatus(self.render(check.title), outcome.passed, outcome.detail,
                                      None if outcome.passed else outcome.diagnosis, check.id))
        answered = {q.id: self._answered.get(q.id, False) for q in self.step.questions}
        passed = self.step.checked and all(c.passed for c in checks) and all(answered.values())
        self.status.checks = checks
        self.status.answered = answered
        self.status.scripts = dict(self._results)
        if passed and not self._passed_now:
            self._passed_now = True
            self._record_pass(checks)
        self.status.passed = self._passed_now
        self._evaluate_cost = time.perf_counter() - started
        self._notify()
        return self.status

    def _record_pass(self, checks: list[CheckStatus] | None = None) -> None:
        step = self.step
        self._passed_now = True
        if self.progress is not None:
            self.progress.mark_passed(self.lab.id, step.id, all_steps=[s.id for s in self.lab.steps])
        self.session.emit("step", message=f"step {self.index + 1} passed: {step.title}",
                          meta={"lab": self.lab.id, "step": step.id, "index": self.index + 1, "status": "passed",
                                "checks": [{"title": c.title, "passed": c.passed, "detail": c.detail}
                                           for c in checks or []]})

    async def wait_passed(self, timeout: float) -> bool:
        """Until the step passes (re-judged as events arrive) or ``timeout`` seconds pass."""
        passed = asyncio.Event()
        unsubscribe = self.subscribe(lambda status: passed.set() if status.passed else None)
        try:
            if self.evaluate().passed:
                return True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await passed.wait()
            return self.evaluate().passed
        finally:
            unsubscribe()

    # -- the reference solution --------------------------------------------------------------------------
    async def solve_step(self, index: int) -> StepStatus:
        """Play the reference solution's part in step ``index`` and judge it with the real checks."""
        await self.goto(index, run=False)
        step = self.step
        timeout = max([c.timeout for c in step.checks] + [5.0])
        if self.max_wait is not None:
            timeout = min(timeout, self.max_wait)
        # The learner's servers first (actions may talk to them), then the learner's part played by
        # actions and solve commands (they may prepare what the scripts use), then the scripts.
        for spec in step.scripts:
            if spec.background:
                await self._start_background(spec)
        for action in step.actions:
            if action.solve and action.command:
                await self._run_command(action.command, 20.0, None, f"action {action.label!r}", on=action.on)
        for solve in step.solves:
            await self._run_command(solve.command, solve.timeout, solve.stdin, "solve command", on=solve.on)
        for spec in step.scripts:
            if not spec.background:
                await self._run_foreground(spec)
        for question in step.questions:
            self.answer(question.id, self.render(question.answers[0]) if question.answers else "")
        if any(isinstance(c, ProbeCondition) for check in step.checks for c in check.condition.walk()):
            await self.run_probes(time.monotonic() + timeout)
        await self.wait_passed(timeout)
        # Judged while the learner's servers still run; stopping them must not change the verdict.
        final = self.evaluate()
        verdict = dataclasses.replace(final, checks=list(final.checks), answered=dict(final.answered),
                                      scripts=dict(final.scripts))
        await self._stop_scripts()
        return verdict

    async def _run_command(self, argv: list[str], timeout: float, stdin: str | None, what: str,
                           on: str | None = None) -> None:
        command = [self.render(a) for a in argv]
        if command[0] == "netlab":
            command = [sys.executable, "-m", "netlab_tui", *command[1:]]
        command = place_command(self.hosts.place(on), command)  # on = "h2": in h2's namespace
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self.session.emit("info", message=f"{what}: {shlex.join(self.render(a) for a in argv)}",
                          meta={"lab": self.lab.id, "step": self.step.id, "command": command})
        try:
            process = await asyncio.create_subprocess_exec(
                *command, cwd=self.workspace.path, env=env,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            self.session.emit("error", message=f"{what}: cannot run {command[0]}: {exc.strerror or exc}")
            return
        try:
            async with asyncio.timeout(timeout):
                out, err = await process.communicate(self.render(stdin).encode() if stdin is not None else None)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            await process.wait()
            self.session.emit("error", message=f"{what} did not finish within {timeout:g}s")
            return
        if process.returncode:
            self.session.emit("error", message=f"{what} exited with {process.returncode}: "
                                               f"{shorten(err.decode(errors='replace').strip(), 200)}")

    async def solve(self, on_step: Callable[[StepStatus], None] | None = None) -> list[StepStatus]:
        """Install the reference solution in the workspace, then play and judge every step."""
        self.workspace.install_solution()
        results = []
        for index in range(len(self.lab.steps)):
            status = await self.solve_step(index)
            if not status.step.checked:
                self._record_pass()
                status.passed = True
            results.append(status)
            if on_step is not None:
                on_step(status)
        return results


def _env_name(name: str) -> str:
    return re.sub(r"\W", "_", name).upper()

