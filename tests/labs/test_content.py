"""The shipped labs as teaching material: their starter files must not already pass what they teach."""

from __future__ import annotations

import pytest

from netlab_tui.labs.catalog import find_lab, lab_files, missing_requirements
from netlab_tui.labs.runner import LabRunner
from netlab_tui.labs.workspace import Workspace

# Steps whose starter is expected to pass, and why.
STARTER_MAY_PASS = {
    ("ssh-remote", "trust"): "the code was fixed in the step before; this one is about fetching the host key",
}
SCRIPTED = [path.parent.name for path in lab_files() if any(step.scripts for step in find_lab(path.parent.name).steps)]


@pytest.mark.parametrize("lab_id", SCRIPTED)
async def test_the_starter_files_do_not_pass_the_steps_they_teach(lab_id, journal, registry, tmp_path):
    """A lab whose starter already passes a scripted step teaches nothing there (or checks too little)."""
    lab = find_lab(lab_id)
    missing = missing_requirements(lab)
    if missing:
        pytest.skip(f"{lab_id} needs {', '.join(missing)}")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, tmp_path / "ws"), max_wait=1.0)
    runner.workspace.prepare()  # the starter only; no solution
    await runner.start(run=False, enter=False)
    try:
        passed = {}
        for index, step in enumerate(lab.steps):
            if step.scripts and (lab.starter_dir / step.scripts[0].file).exists():
                status = await runner.solve_step(index)
                passed[step.id] = status.passed
    finally:
        await runner.stop()
    unexpected = [step for step, ok in passed.items() if ok and (lab_id, step) not in STARTER_MAY_PASS]
    assert passed and not unexpected, f"{lab_id}: the starter already passes {unexpected}"
