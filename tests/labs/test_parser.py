"""Reading lab files: the format, and every kind of mistake reported with its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from netlab_tui.labs.checks import AnyCondition, EventCondition, ProbeCondition, ScriptCondition, SequenceCondition
from netlab_tui.labs.model import LabFileError
from netlab_tui.labs.parser import lab_problems, parse_lab

FRONT = """+++
id = "demo"
title = "Demo lab"
summary = "A lab for the tests."
topics = ["tcp"]
level = "beginner"
minutes = 5
ports = ["mine"]
+++
"""


def write_lab(tmp_path: Path, body: str, front: str = FRONT, name: str = "lab.md") -> Path:
    folder = tmp_path / "demo"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(front + textwrap.dedent(body), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    _lab, problems = lab_problems(path)
    return [f"{p.line}: {p.message}" for p in problems]


GOOD = """
Intro with **Markdown**.

```lab:server
name = "echo"
kind = "tcp-echo"
```

## First step {#first}

Send to {{ echo.port }}.

```python
print("an ordinary code block stays in the prose")
```

```lab:action
label = "Open the client"
pane = "tcp-client"
command = ["netlab", "send", "tcp", "{{ echo.host }}", "{{ echo.port }}", "Hi"]

[fill]
host = "{{ echo.host }}"
```

```lab:hint
First hint.
```

```lab:hint
Second hint.
```

```lab:check
title = "the server got Hi"
event = { server = "echo", kind = "data", direction = "in", text = "Hi", min = 2 }
timeout = 3
```

```lab:check
title = "in order"
sequence = [ { kind = "accept" }, { kind = "data" } ]
same_conn = true
```

## Second step

```lab:script
file = "server.py"
args = ["--port", "{{ ports.mine }}"]
listen = "{{ ports.mine }}"
```

```lab:check
title = "either"
any = [ { script = { running = true } }, { event = { kind = "accept" } } ]
```

```lab:check
title = "roles"
target = "{{ host }}:{{ ports.mine }}"
probe = [ {connect = "a"}, {expect = "a", text = "primary"} ]
```

```lab:question
prompt = "Which?"
choices = ["this", "that"]
answer = "that"
explain = "Because."
```
"""


def test_a_well_formed_lab_parses_into_steps_and_blocks(tmp_path):
    lab = parse_lab(write_lab(tmp_path, GOOD))
    assert (lab.id, lab.title, lab.level, lab.minutes, lab.ports) == ("demo", "Demo lab", "beginner", 5, ["mine"])
    assert [s.id for s in lab.steps] == ["first", "second-step"]
    assert lab.intro == "Intro with **Markdown**."
    assert [s.name for s in lab.servers] == ["echo"]
    first, second = lab.steps
    assert "print(\"an ordinary code block stays in the prose\")" in first.body
    assert "lab:" not in first.body and "Send to {{ echo.port }}." in first.body
    assert [h.text for h in first.hints] == ["First hint.", "Second hint."]
    assert first.actions[0].fill == {"host": "{{ echo.host }}"} and first.actions[0].pane == "tcp-client"
    event, sequence = (c.condition for c in first.checks)
    assert isinstance(event, EventCondition) and event.min == 2 and event.matcher.text == ("Hi",)
    assert first.checks[0].timeout == 3
    assert isinstance(sequence, SequenceCondition) and sequence.same_conn and len(sequence.matchers) == 2
    assert second.scripts[0].name == "server" and second.scripts[0].background
    any_check = second.checks[0].condition
    assert isinstance(any_check, AnyCondition)
    assert isinstance(any_check.items[0], ScriptCondition) and any_check.items[0].running is True
    assert isinstance(second.checks[1].condition, ProbeCondition)
    question = second.questions[0]
    assert (question.id, question.choices, question.answers) == ("q1", ["this", "that"], ["that"])
    # Lines point into the file (1-based; the front matter takes 9 lines).
    assert first.line == GOOD.splitlines().index("## First step {#first}") + 10


@pytest.mark.parametrize(("body", "line", "message"), [
    ("## S\n\n```lab:chek\na = 1\n```\n", 12, "unknown block 'lab:chek'"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nevent = { kind = \"data\"\n```\n", 14, "not valid TOML"),
    ("## S\n\n```lab:check\nevent = { kind = \"data\" }\n```\n", 12, "needs title"),
    ("## S\n\n```lab:check\ntitle = \"t\"\n```\n", 12, "exactly one of event"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nevent = { kind = \"data\", colour = \"red\" }\n```\n", 14,
     "unknown key 'colour'"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nevent = { regex = \"(\" }\n```\n", 14, "invalid regular expression"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nevent = { direction = \"sideways\" }\n```\n", 14, "direction must be"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nevent = { min = 3, max = 1 }\n```\n", 14, "max (1) is less than min"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nsame_conn = true\nevent = {}\n```\n", 14, "same_conn only applies"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nprobe = [ {send = \"a\", text = \"x\"} ]\ntarget = \"1\"\n```\n", 14,
     "not connected by an earlier action"),
    ("## S\n\n```lab:check\ntitle = \"t\"\nall = []\n```\n", 14, "non-empty list"),
    ("## S\n\n```lab:script\nargs = [\"x\"]\n```\n", 12, "needs file"),
    ("## S\n\n```lab:script\nfile = \"../../etc/passwd\"\n```\n", 13, "inside the workspace"),
    ("## S\n\n```lab:question\nprompt = \"?\"\n```\n", 12, "needs answer"),
    ("## S\n\n```lab:question\nprompt = \"?\"\nchoices = [\"a\", \"b\"]\nanswer = \"c\"\n```\n", 15,
     "neither one of the choices"),
    ("## S\n\n```lab:action\nlabel = \"x\"\n```\n", 12, "needs a pane to open, a command"),
    ("```lab:check\ntitle = \"t\"\nevent = {}\n```\n\n## S\n", 10, "must be inside a step"),
    ("No steps at all.\n", 10, "at least one step"),
    ("## Same\n\n## Same\n", 12, "already used at line 10"),
    ("```lab:server\nname = \"Echo!\"\nkind = \"tcp-echo\"\n```\n## S\n", 11, "must be lowercase"),
])
def test_each_mistake_is_reported_at_its_line(tmp_path, body, line, message):
    found = problems_of(write_lab(tmp_path, body))
    assert any(p.startswith(f"{line}: ") and message in p for p in found), found


def test_front_matter_mistakes(tmp_path):
    front = '+++\nid = "Other Id"\ntitle = ""\nlevel = "expert"\ncolour = 1\nminutes = "ten"\n+++\n'
    found = problems_of(write_lab(tmp_path, "## S\n", front=front))
    assert "2: id 'Other Id' must be lowercase letters, digits and '-'" in found
    assert "2: id 'Other Id' differs from the lab's folder name 'demo'" in found
    assert "3: front matter needs title = \"...\"" in found
    assert any(p.startswith("1: front matter needs summary") for p in found)
    assert "4: level must be one of beginner, intermediate, advanced" in found
    assert any(p.startswith("5: unknown front matter key 'colour'") for p in found)
    assert "6: minutes must be a whole number" in found


def test_missing_or_unclosed_front_matter(tmp_path):
    assert any("starts with TOML front matter" in p for p in problems_of(write_lab(tmp_path, "## S\n", front="")))
    assert any("never closed" in p for p in problems_of(write_lab(tmp_path, "## S\n", front="+++\nid = 1\n")))


def test_parse_lab_raises_with_every_problem(tmp_path):
    path = write_lab(tmp_path, "## S\n\n```lab:nope\n```\n\n```lab:check\ntitle = \"t\"\n```\n")
    with pytest.raises(LabFileError) as caught:
        parse_lab(path)
    assert len(caught.value.problems) == 2
    assert str(caught.value).startswith(f"{path}:12: unknown block") and "(and 1 more)" in str(caught.value)


def test_a_binary_file_is_a_problem_not_a_crash(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "lab.md").write_bytes(b"+++\n\xff\xfe\x00garbage")
    assert any("not UTF-8" in p for p in problems_of(folder / "lab.md"))


TRANSLATION = """+++
title = "Lab de démo"
summary = "Un lab pour les tests."
+++

Intro en **français**.

## Première étape {#first}

Envoyez à {{ echo.port }}.

```lab:action
label = "Ouvrir le client"
```

```lab:hint
Premier indice.
```

```lab:hint
Deuxième indice.
```

```lab:check
title = "le serveur a reçu Hi"
```

```lab:check
title = "dans l'ordre"
```

## Deuxième étape {#second-step}

```lab:check
title = "l'un ou l'autre"
```

```lab:check
title = "rôles"
```

```lab:question
prompt = "Lequel ?"
choices = ["ceci", "cela"]
```
"""


def test_a_translation_replaces_the_words_and_keeps_what_runs(tmp_path):
    path = write_lab(tmp_path, GOOD)
    (path.parent / "lab.fr.md").write_text(TRANSLATION, encoding="utf-8")
    lab = parse_lab(path, "fr")
    assert lab.languages == ["en", "fr"] and lab.lang == "fr"
    assert (lab.title, lab.intro) == ("Lab de démo", "Intro en **français**.")
    first, second = lab.steps
    assert first.title == "Première étape" and first.body == "Envoyez à {{ echo.port }}."
    assert [h.text for h in first.hints] == ["Premier indice.", "Deuxième indice."]
    assert first.actions[0].label == "Ouvrir le client" and first.actions[0].pane == "tcp-client"
    assert first.checks[0].title == "le serveur a reçu Hi"
    assert isinstance(first.checks[0].condition, EventCondition)  # the check itself comes from lab.md
    question = second.questions[0]
    assert question.choices == ["ceci", "cela"] and question.answers == ["2"]
    assert parse_lab(path).title == "Demo lab"  # English by default
    assert parse_lab(path, "de").title == "Demo lab"  # no German: English


def test_translation_mistakes_are_reported_in_the_translation(tmp_path):
    path = write_lab(tmp_path, GOOD)
    bad = TRANSLATION.replace("{#second-step}", "{#deuxieme}").replace('label = "Ouvrir le client"',
                                                                        'label = "x"\npane = "other"')
    bad = bad.replace('+++\ntitle', '+++\nlevel = "advanced"\ntitle')
    translation = path.parent / "lab.fr.md"
    translation.write_text(bad, encoding="utf-8")
    _lab, problems = lab_problems(path)
    found = [(Path(p.path).name, p.message) for p in problems]
    assert all(name == "lab.fr.md" for name, _ in found)
    messages = " | ".join(m for _, m in found)
    assert "only translates id, summary, title" in messages
    assert "'pane' cannot be translated" in messages
    assert "step 'deuxieme' is not in lab.md" in messages
    assert "step 'second-step' of lab.md is missing" in messages
