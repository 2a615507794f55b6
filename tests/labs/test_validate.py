"""Semantic validation: what parses but could not run."""

from __future__ import annotations

from pathlib import Path

from netlab_tui.labs.catalog import lab_files
from netlab_tui.labs.validate import check_lab, netlab_command_error

from .test_parser import FRONT, write_lab

BROKEN = """
```lab:server
name = "echo"
kind = "tcp-echoo"
```

```lab:server
name = "greet"
kind = "tcp-greet"
options = { colour = "red" }
```

## Step {#step}

Connect to {{ echo.prot }}.

```lab:script
file = "missing.py"
```

```lab:script
file = "notes.txt"
```

```lab:action
label = "Send"
command = ["netlab", "send", "tcp", "{{ echo.host }}", "not-a-port"]
```

```lab:check
title = "server"
event = { server = "nobody", kind = "data" }
```

```lab:check
title = "which script?"
script = { exit = 0 }
```

```lab:check
title = "named script"
script = { name = "ghost", exit = 0 }
```

```lab:check
title = "probe"
probe = [ {connect = "a"} ]
```

```lab:question
prompt = "Port?"
answer = "{{ ports.other }}"
```
"""


def test_every_semantic_problem_is_found_with_its_line(tmp_path):
    front = FRONT.replace('minutes = 5', 'minutes = 5\nrequires = ["nmap", "telepathy"]')
    path = write_lab(tmp_path, BROKEN, front=front)
    (path.parent / "solution").mkdir()
    (path.parent / "solution" / "notes.txt").write_text("hello")
    problems = {(p.line, p.message) for p in check_lab(path)}
    text = "\n".join(f"{line}: {message}" for line, message in sorted(problems))
    lines = path.read_text().splitlines()

    def line_of(fragment: str, start: int = 0) -> int:
        return next(n for n, t in enumerate(lines, 1) if fragment in t and n > start)

    assert any(line == line_of("```lab:server") and m.startswith("unknown server kind 'tcp-echoo' (netlab has: ")
               for line, m in problems), text
    assert any(m.startswith("server kind tcp-greet has no option 'colour' (it has: greeting)") for _, m in problems)
    assert (line_of("{{ echo.prot }}"), "undefined variable {{ echo.prot }} (did you mean {{ echo.port }}?)") in problems
    assert (line_of("{{ ports.other }}"), "undefined variable {{ ports.other }} (did you mean {{ ports.mine }}?)") \
        in problems
    assert any(line == 1 and m.startswith("unknown requirement 'telepathy' (known: bc, curl, nc, nmap, php,")
               for line, m in problems), text
    assert any("'missing.py' is in neither starter/ nor solution/" in m for _, m in problems), text
    assert any("cannot tell how to run 'notes.txt'" in m for _, m in problems), text
    assert any("is not a valid netlab command" in m and "not-a-port" in m for _, m in problems), text
    assert any("server 'nobody', which this lab does not start" in m for _, m in problems), text
    assert any("a script check must name its script (this step has 2 scripts)" in m for _, m in problems), text
    assert any("script check names 'ghost'" in m for _, m in problems), text
    assert any("a probe needs target" in m for _, m in problems), text
    # Each problem points at its own block, not at the top of the file.
    assert all(line > 9 for line, m in problems if "requirement" not in m), text


def test_netlab_commands_are_checked_by_netlabs_own_parser():
    assert netlab_command_error(["send", "tcp", "{{ echo.host }}", "{{ echo.port }}", "Hi"],
                                {"echo.host", "echo.port"}) is None
    assert "invalid choice" in netlab_command_error(["sned", "tcp"])
    assert netlab_command_error(["serve", "no-such-kind"]) is not None


def test_every_shipped_lab_is_valid():
    files = lab_files()
    assert files, "netlab ships labs"
    problems = [str(p) for path in files for p in check_lab(path)]
    assert problems == []


def test_a_translation_with_undefined_variables_is_caught(tmp_path):
    path = write_lab(tmp_path, "## Step {#step}\n\nText.\n")
    (path.parent / "lab.fr.md").write_text("+++\ntitle = \"Démo\"\n+++\n\n## Étape {#step}\n\nPort {{ nope.port }}.\n")
    problems = check_lab(path)
    assert [(Path(p.path).name, p.line) for p in problems] == [("lab.fr.md", 7)]
    assert "undefined variable {{ nope.port }}" in problems[0].message
