"""Hints that name the failure they answer, the solution text, lab:wrong blocks: parsed, checked, ordered."""

from __future__ import annotations

from netlab_tui.engine.core.journal import Journal
from netlab_tui.labs.diagnose import Diagnosis
from netlab_tui.labs.parser import lab_problems, parse_lab
from netlab_tui.labs.runner import CheckStatus, LabRunner
from netlab_tui.labs.validate import check_lab
from netlab_tui.labs.workspace import Workspace

from .test_parser import write_lab

BODY = '''
## Send {#send}

```lab:script
file = "client.py"
```

```lab:wrong
file = "client_str.py"
diagnosis = "script-error"
```

```lab:hint
Plain hint.
```

```lab:hint when="no-traffic"
Nothing arrived yet.
```

```lab:hint when="case"
Mind the case.
```

```lab:hint solution
The whole answer.
```

```lab:check
id = "got-it"
title = "got it"
script = { exit = 0 }
```
'''


def test_hint_when_solution_and_wrong_blocks_parse(tmp_path):
    lab = parse_lab(write_lab(tmp_path, BODY))
    step = lab.steps[0]
    assert [h.when for h in step.hints] == [(), ("no-traffic",), ("case",), ()]
    assert [h.solution for h in step.hints] == [False, False, False, True]
    (wrong,) = step.wrongs
    assert (wrong.file, wrong.replaces, wrong.diagnosis) == ("client_str.py", "client.py", "script-error")
    assert step.checks[0].id == "got-it"


def test_bad_when_and_diagnosis_and_missing_wrong_files_are_reported(tmp_path):
    body = BODY.replace('when="case"', 'when="typo"').replace('diagnosis = "script-error"', 'diagnosis = "oops"')
    path = write_lab(tmp_path, body)
    _lab, problems = lab_problems(path)
    messages = [p.message for p in problems]
    assert any("when = 'typo': not a diagnosis" in m for m in messages)
    assert any("diagnosis 'oops' is not one of" in m for m in messages)
    good = write_lab(tmp_path, BODY)
    (good.parent / "solution").mkdir()
    (good.parent / "solution" / "client.py").write_text("print('hi')\n")
    assert any("lab:wrong names wrong/client_str.py, which does not exist" in p.message for p in check_lab(good))


async def test_the_hint_that_fits_the_failure_comes_first_and_the_solution_last(tmp_path):
    lab = parse_lab(write_lab(tmp_path, BODY))
    runner = LabRunner(lab, Journal(), workspace=Workspace(lab, tmp_path / "ws"))
    runner.status.checks = [CheckStatus("got it", False, "…", Diagnosis("wrong-bytes", "…", ("case",)), "got-it")]
    assert runner.next_hint().text == "Mind the case." and runner.hint_fits(runner.next_hint())
    assert runner.reveal_hint(solution=True) is None  # not before a pass or every hint
    assert runner.reveal_hint().text == "Mind the case."
    runner.status.checks = [CheckStatus("got it", False, "…", Diagnosis("no-traffic", "…"), "got-it")]
    assert runner.reveal_hint().text == "Nothing arrived yet."
    from netlab_tui.labs.model import HintSpec

    assert runner.hint_fits(HintSpec("by check id", when=("check:got-it",)))
    assert runner.reveal_hint().text == "Plain hint."
    assert runner.solution_available and runner.reveal_hint().text == "The whole answer."
    assert runner.reveal_hint() is None and runner.hints_shown == 4 and runner.hint_count == 3
