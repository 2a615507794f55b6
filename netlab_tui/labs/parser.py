"""Reading a lab file: TOML front matter, Markdown steps, and fenced ``lab:*`` blocks.

::

    +++
    id = "tcp-first-exchange"
    title = "First TCP exchange"
    summary = "Send bytes, read them back, and meet the recv loop."
    topics = ["tcp", "sockets"]
    level = "beginner"
    minutes = 20
    +++

    Intro prose. Servers declared here start with the lab.

    ```lab:server
    name = "echo"
    kind = "tcp-echo"
    ```

    ## Say hello {#hello}

    Prose, with run-time values such as {{ echo.port }}.

    ```lab:check
    title = "the echo server received Hello"
    event = {server = "echo", kind = "data", direction = "in", text = "Hello"}
    ```

Steps are ``##`` sections (``{#id}`` names one; otherwise its title does). Block kinds: ``server``,
``script``, ``action``, ``solve``, ``hint`` (Markdown), ``question``, ``check``. Every problem is reported
with its file and line, all at once, so an author fixes a file in one pass.

A translation sits beside the lab as ``lab.<lang>.md``: the same steps (by id) with translated prose, and
only the words of the blocks (hint text, question prompt/choices/explain, action label, check title),
matched by position; everything that runs comes from ``lab.md``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from .checks import CheckSyntaxError, parse_condition
from .model import (
    LEVELS,
    ActionSpec,
    CheckSpec,
    HintSpec,
    HostSpec,
    Lab,
    LabFileError,
    Problem,
    QuestionSpec,
    ScriptSpec,
    SegmentSpec,
    ServerSpec,
    SolveSpec,
    Step,
    WrongSpec,
)

FRONT_MATTER = "+++"
BLOCK_PREFIX = "lab:"
BLOCK_KINDS = ("server", "script", "action", "solve", "hint", "question", "check", "wrong", "host", "segment")
NAME = re.compile(r"[a-z][a-z0-9_-]*")
LAB_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
STEP_ID = re.compile(r"\s*\{#([A-Za-z0-9][\w-]*)\}\s*$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")

FRONT_KEYS = {"id", "title", "summary", "topics", "level", "minutes", "requires", "ports", "order"}
TRANSLATED_FRONT_KEYS = {"id", "title", "summary"}
# For each block kind: the keys a translation may carry.
TRANSLATED_KEYS = {"hint": set(), "question": {"prompt", "choices", "explain"}, "action": {"label"},
                   "check": {"title"}}


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "step"


@dataclass
class Block:
    kind: str
    content: str
    line: int  # of the opening fence, 1-based
    data: dict[str, Any] | None = None  # parsed TOML (None for hints)
    info: str = ""  # the rest of the fence's info string (``lab:hint when="no-traffic"``)

    def line_of(self, key: str | None) -> int:
        """The line where ``key`` is set in the block, or the fence's line."""
        if key:
            pattern = re.compile(rf"^\s*(\[+\s*)?\"?{re.escape(key)}\"?\s*(=|\])")
            for offset, text in enumerate(self.content.splitlines(), 1):
                if pattern.match(text):
                    return self.line + offset
            # Inside an inline table: the first line mentioning the key.
            inline = re.compile(rf"[{{,]\s*\"?{re.escape(key)}\"?\s*=")
            for offset, text in enumerate(self.content.splitlines(), 1):
                if inline.search(text):
                    return self.line + offset
        return self.line


@dataclass
class _Section:
    """The intro (``step`` None) or one step, as found in the file."""

    title: str
    id: str | None
    line: int
    prose: list[str]
    blocks: list[Block]


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.items: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.items.append(Problem(self.path, line, message))


def read_sections(path: Path, problems: _Problems) -> tuple[dict[str, Any], list[_Section]]:
    """Split a lab file into its front matter and sections (intro first)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.add(1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return {}, []
    except OSError as exc:
        problems.add(1, f"cannot read: {exc.strerror or exc}")
        return {}, []
    lines = text.splitlines()
    front: dict[str, Any] = {}
    body_start = 0
    if lines and lines[0].strip() == FRONT_MATTER:
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == FRONT_MATTER), None)
        if end is None:
            problems.add(1, f"front matter opened with {FRONT_MATTER} is never closed")
            return {}, []
        try:
            front = tomllib.loads("\n".join(lines[1:end]))
        except tomllib.TOMLDecodeError as exc:
            problems.add(_toml_line(exc, 1), f"front matter is not valid TOML: {_toml_message(exc)}")
        body_start = end + 1
    else:
        problems.add(1, f"a lab file starts with TOML front matter between {FRONT_MATTER} lines")

    body = "\n".join(lines[body_start:])
    tokens = MarkdownIt("commonmark").parse(body)
    sections = [_Section(title="", id=None, line=body_start + 1, prose=[], blocks=[])]
    # Source line ranges (body-relative) of each section's prose, lab blocks cut out.
    starts: list[int] = [0]
    cut: list[tuple[int, int]] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2" and token.map:
            inline = tokens[index + 1].content
            match = STEP_ID.search(inline)
            title = STEP_ID.sub("", inline).strip() if match else inline.strip()
            sections.append(_Section(title=title, id=match.group(1) if match else None,
                                     line=body_start + token.map[0] + 1, prose=[], blocks=[]))
            starts.append(token.map[0])
            cut.append((token.map[0], token.map[1]))
        elif token.type == "fence" and token.map:
            info = token.info.strip()
            if not info.startswith(BLOCK_PREFIX):
                continue
            kind = info[len(BLOCK_PREFIX):].split()[0] if info[len(BLOCK_PREFIX):].strip() else ""
            line = body_start + token.map[0] + 1
            cut.append((token.map[0], token.map[1]))
            if kind not in BLOCK_KINDS:
                problems.add(line, f"unknown block {info!r} (expected one of: "
                                   f"{', '.join(BLOCK_PREFIX + k for k in BLOCK_KINDS)})")
                continue
            block = Block(kind, token.content, line, info=info[len(BLOCK_PREFIX) + len(kind):].strip())
            if kind != "hint":
                try:
                    data = tomllib.loads(token.content)
                except tomllib.TOMLDecodeError as exc:
                    problems.add(_toml_line(exc, line), f"{info} block is not valid TOML: {_toml_message(exc)}")
                    continue
                block.data = data
            sections[-1].blocks.append(block)

    body_lines = body.split("\n")
    cut_lines = {n for start, end in cut for n in range(start, end)}
    bounds = [*starts[1:], len(body_lines)]
    for section, start, end in zip(sections, starts, bounds, strict=True):
        kept = [body_lines[n] for n in range(start, end) if n not in cut_lines]
        section.prose = _tidy(kept)
    return front, sections


def _tidy(lines: list[str]) -> list[str]:
    """Drop the blank runs left where blocks were cut out."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out


def _toml_line(exc: tomllib.TOMLDecodeError, fence_line: int) -> int:
    match = _TOML_POSITION.search(str(exc))
    return fence_line + int(match.group(1)) if match else fence_line


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    return _TOML_POSITION.sub("", str(exc)).strip()


# -- field readers ---------------------------------------------------------------------------------------
class _Fields:
    """Typed access to a block's TOML table, recording a problem for each bad or unknown key."""

    def __init__(self, block: Block, problems: _Problems, allowed: set[str]) -> None:
        self.block = block
        self.data = block.data or {}
        self.problems = problems
        self.ok = True
        for key in self.data:
            if key not in allowed:
                self.error(key, f"unknown key {key!r} in lab:{block.kind} "
                                f"(expected {', '.join(sorted(allowed))})")

    def error(self, key: str | None, message: str) -> None:
        self.ok = False
        self.problems.add(self.block.line_of(key), message)

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        if key not in self.data:
            if required:
                self.error(None, f"lab:{self.block.kind} needs {key} = \"...\"")
            return default
        value = self.data[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(key, f"{key} must be a non-empty string")
            return default
        return value

    def strings(self, key: str) -> list[str]:
        value = self.data.get(key, [])
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            self.error(key, f"{key} must be a list of strings")
            return []
        return [str(v) for v in value]

    def number(self, key: str, default: float, *, minimum: float = 0.0, maximum: float = 3600.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
            self.error(key, f"{key} must be a number from {minimum:g} to {maximum:g}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.error(key, f"{key} must be true or false")
            return default
        return value

    def table(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.error(key, f"{key} must be a table")
            return {}
        return dict(value)

    def name(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.string(key, default, required=required)
        if value is not None and value != default and not NAME.fullmatch(value):
            self.error(key, f"{key} {value!r} must be lowercase letters, digits, '-' or '_', starting with a letter")
            return default
        return value


def _server(block: Block, problems: _Problems) -> ServerSpec | None:
    f = _Fields(block, problems, {"name", "kind", "host", "port", "options"})  # host: an address or a lab:host
    name = f.name("name", required=True)
    kind = f.string("kind", required=True)
    host = f.string("host", "127.0.0.1")
    port_range = None
    if isinstance(f.data.get("port"), str):  # "40000-40999": somewhere in there, to be found by a scan
        match = re.fullmatch(r"(\d+)-(\d+)", f.data["port"].strip())
        low, high = (int(match.group(1)), int(match.group(2))) if match else (0, -1)
        if not 1 <= low <= high <= 65535:
            f.error("port", "port must be a number, or a range such as \"40000-40999\"")
        port_range = (low, high)
        port = 0.0
    else:
        port = f.number("port", 0, maximum=65535)
    options = f.table("options")
    if not f.ok or name is None or kind is None:
        return None
    return ServerSpec(name=name, kind=kind, host=host or "127.0.0.1", port=int(port), options=options,
                      port_range=port_range, line=block.line)


def _script(block: Block, problems: _Problems) -> ScriptSpec | None:
    f = _Fields(block, problems, {"name", "file", "args", "stdin", "timeout", "env", "interpreter", "listen",
                                  "background", "on"})
    file = f.string("file", required=True)
    default_name = re.sub(r"[^a-z0-9_-]+", "-", Path(file).stem.lower()).strip("-") or "script" if file else None
    name = f.name("name", default_name)
    args = f.strings("args")
    stdin = f.string("stdin")
    timeout = f.number("timeout", 10.0, minimum=0.1, maximum=600)
    env = f.table("env")
    interpreter = f.string("interpreter")
    background = f.boolean("background", False)
    listen = f.data.get("listen")
    if listen is not None and not isinstance(listen, (str, int)):
        f.error("listen", "listen must be a port (a number or a variable such as \"{{ ports.mine }}\")")
    if file is not None and (Path(file).is_absolute() or ".." in Path(file).parts):
        f.error("file", f"file {file!r} must be a path inside the workspace")
    if not f.ok or file is None or name is None:
        return None
    return ScriptSpec(name=name, file=file, args=args, stdin=stdin, timeout=timeout,
                      env={str(k): str(v) for k, v in env.items()}, interpreter=interpreter,
                      listen=str(listen) if listen is not None else None,
                      background=background or listen is not None, line=block.line, on=f.name("on"))


def _action(block: Block, problems: _Problems) -> ActionSpec | None:
    f = _Fields(block, problems, {"label", "pane", "fill", "command", "solve", "on"})
    label = f.string("label", required=True)
    pane = f.string("pane")
    fill = f.table("fill")
    command = f.strings("command")
    solve = f.boolean("solve", True)
    if pane is None and not command:
        f.error(None, "lab:action needs a pane to open, a command to show, or both")
    if pane is None and fill:
        f.error("fill", "fill needs a pane")
    if not f.ok or label is None:
        return None
    return ActionSpec(label=label, pane=pane, fill=fill, command=command, solve=solve, line=block.line,
                      on=f.name("on"))


def _solve(block: Block, problems: _Problems) -> SolveSpec | None:
    f = _Fields(block, problems, {"command", "timeout", "stdin", "on"})
    command = f.strings("command")
    timeout = f.number("timeout", 20.0, minimum=0.1, maximum=600)
    stdin = f.string("stdin")
    if not command:
        f.error("command", "lab:solve needs command = [\"netlab\", ...] (or another program)")
    if not f.ok:
        return None
    return SolveSpec(command=command, timeout=timeout, stdin=stdin, line=block.line, on=f.name("on"))


def _question(block: Block, problems: _Problems, number: int) -> QuestionSpec | None:
    f = _Fields(block, problems, {"id", "prompt", "answer", "regex", "choices", "explain"})
    qid = f.name("id", f"q{number}")
    prompt = f.string("prompt", required=True)
    answers = f.strings("answer")
    regex = f.string("regex")
    choices = f.strings("choices")
    explain = f.string("explain", "") or ""
    if not answers:
        f.error(None, "lab:question needs answer = \"...\" (or a list; a regex may accept more)")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            f.error("regex", f"invalid regular expression: {exc}")
    if choices:
        for answer in answers:
            if answer not in choices and not (answer.isdigit() and 1 <= int(answer) <= len(choices)):
                f.error("answer", f"answer {answer!r} is neither one of the choices nor a choice number")
    if not f.ok or prompt is None or qid is None:
        return None
    return QuestionSpec(id=qid, prompt=prompt, answers=answers, regex=regex, choices=choices, explain=explain,
                        line=block.line)


def _check(block: Block, problems: _Problems) -> CheckSpec | None:
    data = block.data or {}
    title = data.get("title")
    ok = True
    if not isinstance(title, str) or not title.strip():
        problems.add(block.line_of("title" if "title" in data else None),
                     "lab:check needs title = \"...\" (what the learner sees)")
        ok = False
    timeout = data.get("timeout", 5.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        problems.add(block.line_of("timeout"), "timeout must be seconds, from 0 to 600")
        ok = False
    check_id = data.get("id", "")
    if not isinstance(check_id, str):
        problems.add(block.line_of("id"), "id must be a short name such as \"greets\"")
        ok = False
    try:
        condition = parse_condition(data, allowed={"title", "timeout", "id"})
    except CheckSyntaxError as exc:
        problems.add(block.line_of(exc.key), f"bad check: {exc}")
        return None
    if not ok:
        return None
    return CheckSpec(title=str(title), condition=condition, timeout=float(timeout), line=block.line, id=check_id)


# -- hints that answer a failure, and known mistakes (issue 13) ----------------------------------------------
_INFO_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"|(\w+)')


def _hint(block: Block, problems: _Problems) -> HintSpec:
    """``lab:hint``, ``lab:hint when="no-traffic wrong-port"``, ``lab:hint solution``."""
    from .diagnose import KINDS, TAGS

    when: tuple[str, ...] = ()
    solution = False
    for match in _INFO_ATTR.finditer(block.info):
        key, value, flag = match.groups()
        if flag == "solution":
            solution = True
        elif key == "when":
            when = tuple(value.replace(",", " ").split())
            for name in when:
                if name not in KINDS and name not in TAGS and not name.startswith("check:"):
                    problems.add(block.line, f"when = {name!r}: not a diagnosis ({', '.join(KINDS + TAGS)}) "
                                             "nor check:ID")
        else:
            problems.add(block.line, f"lab:hint takes when=\"...\" or solution (found {match.group(0)!r})")
    if not block.content.strip():
        problems.add(block.line, "empty hint")
    return HintSpec(block.content.strip(), block.line, when=when, solution=solution)


def _wrong(block: Block, problems: _Problems, step: Step) -> WrongSpec | None:
    """``lab:wrong``: file = "client_str.py" (in wrong/), replaces = "client.py", diagnosis = "script-error"."""
    from .diagnose import KINDS, TAGS

    f = _Fields(block, problems, {"file", "replaces", "diagnosis", "check"})
    file = f.string("file", required=True)
    replaces = f.string("replaces")
    diagnosis = f.string("diagnosis", required=True)
    check = f.string("check")
    if replaces is None:
        if len(step.scripts) == 1:
            replaces = step.scripts[0].file
        else:
            f.error(None, "lab:wrong needs replaces = \"FILE\" (the step has "
                          f"{len(step.scripts)} scripts; put lab:wrong after its lab:script)")
    if diagnosis is not None and diagnosis not in KINDS and diagnosis not in TAGS:
        f.error("diagnosis", f"diagnosis {diagnosis!r} is not one of {', '.join(KINDS + TAGS)}")
    if not f.ok or file is None or replaces is None or diagnosis is None:
        return None
    return WrongSpec(file=file, replaces=replaces, diagnosis=diagnosis, check=check, line=block.line)


# -- the lab -----------------------------------------------------------------------------------------------
def _front(front: dict[str, Any], path: Path, problems: _Problems, text_lines: list[str]) -> dict[str, Any]:
    def line_of(key: str) -> int:
        for number, text in enumerate(text_lines[:200], 1):
            if re.match(rf"\s*{re.escape(key)}\s*=", text):
                return number
        return 1

    for key in front:
        if key not in FRONT_KEYS:
            problems.add(line_of(key), f"unknown front matter key {key!r} (expected {', '.join(sorted(FRONT_KEYS))})")
    out: dict[str, Any] = {}
    for key in ("id", "title", "summary"):
        value = front.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.add(line_of(key), f"front matter needs {key} = \"...\"")
        else:
            out[key] = value.strip()
    if "id" in out and not LAB_ID.fullmatch(out["id"]):
        problems.add(line_of("id"), f"id {out['id']!r} must be lowercase letters, digits and '-'")
    if "id" in out and path.name == "lab.md" and path.parent.name != out["id"]:
        problems.add(line_of("id"), f"id {out['id']!r} differs from the lab's folder name {path.parent.name!r}")
    for key in ("topics", "requires", "ports"):
        value = front.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.add(line_of(key), f"{key} must be a list of strings")
            value = []
        out[key] = list(value)
    for port in out["ports"]:
        if not NAME.fullmatch(port):
            problems.add(line_of("ports"), f"port name {port!r} must be lowercase letters, digits, '-' or '_'")
    level = front.get("level", "beginner")
    if level not in LEVELS:
        problems.add(line_of("level"), f"level must be one of {', '.join(LEVELS)}")
        level = "beginner"
    out["level"] = level
    for key, default in (("minutes", 15), ("order", 100)):
        value = front.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.add(line_of(key), f"{key} must be a whole number")
            value = default
        out[key] = value
    return out


def parse_lab(path: str | Path, lang: str | None = None) -> Lab:
    """Read ``lab.md`` (and ``lab.<lang>.md`` when asked for and present). LabFileError lists every problem."""
    lab, problems = _parse(Path(path))
    if problems:
        raise LabFileError(problems)
    assert lab is not None
    if lang and lang != "en" and lang in lab.languages:
        translation = lab.directory / f"lab.{lang}.md"
        problems = apply_translation(lab, translation)
        if problems:
            raise LabFileError(problems)
    return lab


def lab_problems(path: str | Path) -> tuple[Lab | None, list[Problem]]:
    """Parse without raising: the lab (when usable) and the syntax problems of it and its translations."""
    path = Path(path)
    lab, problems = _parse(path)
    if lab is not None:
        for lang in lab.languages[1:]:
            copy, _ = _parse(path)
            assert copy is not None
            problems += apply_translation(copy, lab.directory / f"lab.{lang}.md")
    return lab, problems


def _parse(path: Path) -> tuple[Lab | None, list[Problem]]:
    problems = _Problems(path)
    front, sections = read_sections(path, problems)
    if not sections:
        return None, problems.items
    try:
        text_lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        text_lines = []
    meta = _front(front, path, problems, text_lines)
    lab = Lab(
        id=meta.get("id", path.parent.name), title=meta.get("title", ""), summary=meta.get("summary", ""),
        path=path, topics=meta["topics"], level=meta["level"], minutes=meta["minutes"], requires=meta["requires"],
        ports=meta["ports"], order=meta["order"],
    )
    lab.languages = ["en", *sorted(p.name.split(".")[1] for p in path.parent.glob("lab.*.md")
                                   if len(p.name.split(".")) == 3)]
    intro, *steps = sections
    lab.intro = "\n".join(intro.prose)
    for block in intro.blocks:
        if block.kind == "server":
            if (server := _server(block, problems)) is not None:
                lab.servers.append(server)
        elif block.kind in ("host", "segment"):
            _topology_block(lab, block, problems)
        else:
            problems.add(block.line, f"lab:{block.kind} must be inside a step (after a ## heading)")
    if not steps:
        problems.add(intro.line, "a lab needs at least one step (a ## heading)")
    seen_ids: dict[str, int] = {}
    for section in steps:
        step_id = section.id or slugify(section.title)
        if step_id in seen_ids:
            problems.add(section.line, f"step id {step_id!r} is already used at line {seen_ids[step_id]}")
        seen_ids.setdefault(step_id, section.line)
        if not section.title:
            problems.add(section.line, "a step needs a title")
        step = Step(id=step_id, title=section.title, body="\n".join(section.prose), line=section.line)
        for block in section.blocks:
            if block.kind == "server":
                if (server := _server(block, problems)) is not None:
                    step.servers.append(server)
            elif block.kind == "script":
                if (script := _script(block, problems)) is not None:
                    if any(s.name == script.name for s in step.scripts):
                        problems.add(block.line, f"script name {script.name!r} is used twice in this step")
                    step.scripts.append(script)
            elif block.kind == "action":
                if (action := _action(block, problems)) is not None:
                    step.actions.append(action)
            elif block.kind == "solve":
                if (solve := _solve(block, problems)) is not None:
                    step.solves.append(solve)
            elif block.kind == "hint":
                step.hints.append(_hint(block, problems))
            elif block.kind == "wrong":
                if (wrong := _wrong(block, problems, step)) is not None:
                    step.wrongs.append(wrong)
            elif block.kind == "question":
                if (question := _question(block, problems, len(step.questions) + 1)) is not None:
                    if any(q.id == question.id for q in step.questions):
                        problems.add(block.line, f"question id {question.id!r} is used twice in this step")
                    step.questions.append(question)
            elif block.kind == "check":
                if (check := _check(block, problems)) is not None:
                    step.checks.append(check)
            elif block.kind in ("host", "segment"):
                problems.add(block.line, f"lab:{block.kind} belongs before the first step (with the lab's servers)")
        lab.steps.append(step)
    names: dict[str, int] = {}
    for server in lab.all_servers():
        if server.name in names:
            problems.add(server.line, f"server name {server.name!r} is already used at line {names[server.name]}")
        names.setdefault(server.name, server.line)
    _check_topology(lab, problems)
    return lab, problems.items


# -- multi-host labs: lab:host / lab:segment, host = "h1" on servers, on = "h2" on scripts and actions ------

def _topology_block(lab: Lab, block: Block, problems: _Problems) -> None:
    if block.kind == "host":
        f = _Fields(block, problems, {"name", "ip"})
        name = f.name("name", required=True)
        ip = f.strings("ip")
        if not ip:
            f.error("ip", "lab:host needs ip = \"10.213.7.1/24\" (an address with its prefix)")
        if f.ok and name is not None:
            lab.hosts.append(HostSpec(name=name, ip=ip, line=block.line, ip_line=block.line_of("ip")))
    else:
        f = _Fields(block, problems, {"name", "hosts"})
        name = f.name("name", "lan")
        hosts = f.strings("hosts")
        if not hosts:
            f.error("hosts", "lab:segment needs hosts = [\"h1\", \"h2\"]")
        if f.ok and name is not None:
            lab.segments.append(SegmentSpec(name=name, hosts=hosts, line=block.line,
                                            hosts_line=block.line_of("hosts")))


def _check_topology(lab: Lab, problems: _Problems) -> None:
    """The hosts and segments make a topology netlab can build; every host = / on = names one of them."""
    from netlab_tui.engine.topology.model import TopologyError, topology_from_dict

    lines = {**{f"host:{h.name}": h.ip_line or h.line for h in lab.hosts},
             **{f"segment:{s.name}": s.hosts_line or s.line for s in lab.segments}}
    if lab.hosts:
        data = {"hosts": {h.name: {"ip": h.ip if len(h.ip) > 1 else h.ip[0]} for h in lab.hosts},
                "segments": {s.name: {"hosts": s.hosts} for s in lab.segments}}
        for spec in [*lab.hosts, *lab.segments]:
            same = [o for o in (lab.hosts if isinstance(spec, HostSpec) else lab.segments) if o.name == spec.name]
            if same[0] is not spec:
                problems.add(spec.line, f"{'host' if isinstance(spec, HostSpec) else 'segment'} name {spec.name!r} "
                                        f"is already used at line {same[0].line}")

        def line_of(needle: str) -> int:
            return lines.get(f"host:{needle}") or lines.get(f"segment:{needle}") or next(
                (h.ip_line or h.line for h in lab.hosts if any(needle in ip for ip in h.ip)), lab.hosts[0].line)

        try:
            topology_from_dict(data, str(lab.path), line_of)
        except TopologyError as exc:
            where, _, message = str(exc).partition(": ")
            problems.add(int(where.rsplit(":", 1)[1]) if where.rsplit(":", 1)[-1].isdigit() else lab.hosts[0].line,
                         message)
    elif lab.segments:
        problems.add(lab.segments[0].line, "lab:segment without any lab:host")
    names = {h.name for h in lab.hosts}
    owner = {ip.split("/")[0]: h.name for h in lab.hosts for ip in h.ip}
    for server in lab.all_servers():
        if server.host in names:  # host = "h1": on h1, bound to its first address
            server.on = server.host
        elif server.host in owner:  # host = "10.213.2.1": on the host that has this address
            server.on = owner[server.host]
    for step in lab.steps:
        for spec in [*step.scripts, *step.actions, *step.solves]:
            if spec.on is not None and spec.on not in names:
                problems.add(spec.line, f"on = {spec.on!r} names no host of this lab"
                                        + (f" (hosts: {', '.join(sorted(names))})" if names else
                                           " (declare hosts with lab:host blocks)"))


def apply_translation(lab: Lab, path: Path) -> list[Problem]:
    """Overlay a ``lab.<lang>.md`` on a parsed lab; the problems found (file and line of the translation)."""
    problems = _Problems(path)
    front, sections = read_sections(path, problems)
    if not sections:
        return problems.items
    for key in front:
        if key not in TRANSLATED_FRONT_KEYS:
            problems.add(1, f"a translation only translates {', '.join(sorted(TRANSLATED_FRONT_KEYS))} "
                            f"(found {key!r}; everything else comes from lab.md)")
    if front.get("id", lab.id) != lab.id:
        problems.add(1, f"id {front.get('id')!r} differs from lab.md's {lab.id!r}")
    for key in ("title", "summary"):
        if isinstance(front.get(key), str) and front[key].strip():
            setattr(lab, key, front[key].strip())
    intro, *steps = sections
    lab.intro = "\n".join(intro.prose)
    by_id = {step.id: step for step in lab.steps}
    seen = set()
    for section in steps:
        step_id = section.id or slugify(section.title)
        step = by_id.get(step_id)
        if step is None:
            problems.add(section.line, f"step {step_id!r} is not in lab.md (give it the same {{#id}})")
            continue
        seen.add(step_id)
        step.title = section.title or step.title
        step.body = "\n".join(section.prose)
        _translate_blocks(step, section.blocks, problems)
    for step in lab.steps:
        if step.id not in seen:
            problems.add(intro.line, f"step {step.id!r} of lab.md is missing from this translation")
    lang = path.name.split(".")[1] if path.name.count(".") == 2 else "en"
    lab.lang = lang
    return problems.items


def _translate_blocks(step: Step, blocks: list[Block], problems: _Problems) -> None:
    targets: dict[str, list[Any]] = {"hint": step.hints, "question": step.questions, "action": step.actions,
                                     "check": step.checks}
    counts = dict.fromkeys(targets, 0)
    for block in blocks:
        if block.kind not in targets:
            problems.add(block.line, f"lab:{block.kind} cannot be translated (it comes from lab.md)")
            continue
        items = targets[block.kind]
        index = counts[block.kind]
        counts[block.kind] += 1
        if index >= len(items):
            problems.add(block.line, f"this step has {len(items)} lab:{block.kind} block(s) in lab.md; "
                                     f"this is number {index + 1}")
            continue
        item = items[index]
        if block.kind == "hint":
            item.text = block.content.strip()
            continue
        data = block.data or {}
        for key, value in data.items():
            if key not in TRANSLATED_KEYS[block.kind]:
                problems.add(block.line_of(key), f"{key!r} cannot be translated in lab:{block.kind} "
                                                 f"(only {', '.join(sorted(TRANSLATED_KEYS[block.kind]))})")
            elif key == "choices":
                if not isinstance(value, list) or len(value) != len(item.choices):
                    problems.add(block.line_of(key), f"choices must list {len(item.choices)} translated choices")
                else:
                    # Answers given as choice text follow the translation; numbers stay as they are.
                    mapping = dict(zip(item.choices, (str(v) for v in value), strict=True))
                    item.answers = [a if a.isdigit() else str(item.choices.index(a) + 1) for a in item.answers]
                    item.choices = [mapping[c] for c in item.choices]
            elif not isinstance(value, str) or not value.strip():
                problems.add(block.line_of(key), f"{key} must be a non-empty string")
            else:
                setattr(item, key, value)
    for kind, items in targets.items():
        if counts[kind] and counts[kind] < len(items):
            problems.add(blocks[-1].line if blocks else step.line,
                         f"step {step.id!r}: {counts[kind]} of {len(items)} lab:{kind} block(s) translated")
