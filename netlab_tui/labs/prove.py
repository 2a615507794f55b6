"""``netlab lab validate --prove``: a lab proven by running it three ways, against its own checks.

1. the **starter** files fail every step that has a script (a step the starter already passes teaches
   nothing: the lab is refused, naming the starter file);
2. the **reference solution** passes every step;
3. each **known mistake** (``lab:wrong``: a file of ``wrong/`` put in place of a workspace file over the
   solution) fails the step it targets *and* gets the diagnosis the lab declares for it.

One runner serves the three (the lab's servers start once); the starter and the mistakes are judged with
short waits (a failure is a failure as soon as the scripts are done), the solution with the checks' own
timeouts. Every problem is a ``Problem``: file, line (the step's or the ``lab:wrong`` block's), reason.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import SessionRegistry

from .model import Lab, Problem, Step, WrongSpec
from .runner import LabRunner, StepStatus
from .workspace import Workspace

FAIL_WAIT = 0.5  # seconds a starter or a mistake gets for its checks once its scripts are done
FAIL_SCRIPT_TIMEOUT = 3.0  # a starter or a mistake that hangs (a forgotten flush …) is stopped after this

# Steps whose starter is expected to pass, and why (the file was fixed in an earlier step).
STARTER_MAY_PASS = {
    ("ssh-remote", "trust"): "the code was fixed in the step before; this one is about fetching the host key",
}


def _failing_story(status: StepStatus) -> str:
    bad = [c for c in status.checks if not c.passed]
    if not bad:
        return "every check passed"
    return "; ".join(f"{c.title}: {c.detail}" for c in bad[:2])


async def prove_lab(lab: Lab, *, report: Callable[[str], None] | None = None) -> list[Problem]:
    """Run the lab's starter, its known mistakes and its solution; the problems found."""
    say = report or (lambda _line: None)
    problems: list[Problem] = []
    root = Path(tempfile.mkdtemp(prefix=f"netlab-prove-{lab.id}-"))
    journal = Journal()
    registry = SessionRegistry(journal)
    workspace = Workspace(lab, root / "ws")
    runner = LabRunner(lab, journal, registry, workspace=workspace, max_wait=FAIL_WAIT)
    runner.script_timeout = FAIL_SCRIPT_TIMEOUT
    try:
        await runner.start(run=False, enter=False)
        # 1. the starter
        workspace.prepare()
        for index, step in enumerate(lab.steps):
            if not step.scripts or (lab.id, step.id) in STARTER_MAY_PASS:
                continue
            files = [s.file for s in step.scripts if (lab.starter_dir / s.file).is_file()]
            if not files:
                continue
            status = await runner.solve_step(index)
            if status.passed:
                problems.append(Problem(str(lab.starter_dir / files[0]), step.line,
                                        f"step {index + 1} ({step.id}): the starter already passes it — "
                                        "it teaches nothing there (or its checks check too little)"))
            else:
                say(f"  starter fails step {index + 1} ({step.id}) as it should")
        # 2. the known mistakes, each over the solution
        for index, step in enumerate(lab.steps):
            for wrong in step.wrongs:
                problem = await _prove_wrong(lab, runner, workspace, index, step, wrong)
                if problem is None:
                    say(f"  wrong/{wrong.file} fails step {index + 1} ({step.id}) with {wrong.diagnosis}")
                else:
                    problems.append(problem)
        # 3. the solution
        shutil.rmtree(workspace.path, ignore_errors=True)
        workspace.install_solution()
        runner.max_wait = None
        runner.script_timeout = None
        for index, step in enumerate(lab.steps):
            status = await runner.solve_step(index)
            if step.checked and not status.passed:
                problems.append(Problem(str(lab.path), step.line,
                                        f"step {index + 1} ({step.id}): the reference solution fails — "
                                        f"{_failing_story(status)}"))
        if not any(p.message.startswith("step") and "reference solution" in p.message for p in problems):
            say(f"  the solution passes all {len(lab.steps)} steps")
    finally:
        await runner.stop()
        await registry.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    return problems


async def _prove_wrong(lab: Lab, runner: LabRunner, workspace: Workspace, index: int, step: Step,
                       wrong: WrongSpec) -> Problem | None:
    source = lab.wrong_dir / wrong.file
    where = str(source)
    if not source.is_file():
        return Problem(str(lab.path), wrong.line, f"lab:wrong names wrong/{wrong.file}, which does not exist")
    shutil.rmtree(workspace.path, ignore_errors=True)
    workspace.install_solution()
    target = workspace.path / wrong.replaces
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    status = await runner.solve_step(index)
    if status.passed:
        return Problem(where, wrong.line, f"step {index + 1} ({step.id}): this known mistake passes the step")
    failing = [c for c in status.checks if not c.passed]
    if wrong.check:
        failing = [c for n, c in enumerate(status.checks, 1)
                   if not c.passed and wrong.check in (c.id, str(n))]
        if not failing:
            return Problem(where, wrong.line, f"step {index + 1} ({step.id}): check {wrong.check!r} does not fail "
                                              f"({_failing_story(status)})")
    if any(c.diagnosis is not None and c.diagnosis.fits(wrong.diagnosis) for c in failing):
        return None
    got = ", ".join(sorted({c.diagnosis.kind for c in failing if c.diagnosis is not None})) or "none"
    return Problem(where, wrong.line, f"step {index + 1} ({step.id}): fails, but is diagnosed {got}, "
                                      f"not {wrong.diagnosis} ({_failing_story(status)})")


def undeclared_wrong_files(lab: Lab) -> list[Problem]:
    """Files of ``wrong/`` that no ``lab:wrong`` block names (they would never be proven)."""
    if not lab.wrong_dir.is_dir():
        return []
    declared = {w.file for step in lab.steps for w in step.wrongs}
    return [Problem(str(path), 1, f"wrong/{path.relative_to(lab.wrong_dir)} is not named by any lab:wrong block")
            for path in sorted(lab.wrong_dir.rglob("*"))
            if path.is_file() and str(path.relative_to(lab.wrong_dir)) not in declared
            and "__pycache__" not in path.parts]
