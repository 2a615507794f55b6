"""``netlab lab validate``: everything that can be known about a lab without running it.

Syntax comes from the parser; here: server kinds and their options exist, every ``{{ variable }}`` is
defined, the files scripts run are shipped, ``netlab`` commands in actions parse, check references
(servers, scripts) resolve, requirements are ones netlab knows.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterable
from pathlib import Path

from netlab_tui.engine.core.catalog import server_kinds

from .checks import EventCondition, ProbeCondition, ScriptCondition, SequenceCondition
from .model import Lab, Problem, Step
from .parser import lab_problems
from .templating import BUILTIN_VARIABLES, Variables, server_variable_names, variables_in

# What a lab may require, and the program whose presence satisfies it.
REQUIREMENTS = {
    "nmap": "nmap", "php": "php", "bc": "bc", "sshd": "sshd", "ssh": "ssh", "ssh-keyscan": "ssh-keyscan",
    "socat": "socat", "nc": "nc", "curl": "curl", "tshark": "tshark", "sqlite3": "sqlite3",
}
INTERPRETERS = {".py": "python", ".php": "php", ".sh": "sh"}


def defined_variables(lab: Lab) -> set[str]:
    names = set(BUILTIN_VARIABLES)
    for server in lab.all_servers():
        names.update(server_variable_names(server.name))
    names.update(f"ports.{port}" for port in lab.ports)
    for host in lab.hosts:  # a multi-host lab: {{ hosts.h1.ip }}
        names.update(f"hosts.{host.name}.{attribute}" for attribute in ("ip", "name"))
        segments = [s.name for s in lab.segments if host.name in s.hosts] or ["lan"]
        names.update(f"hosts.{host.name}.{segment}.ip" for segment in segments)
    return names


def validate_lab(lab: Lab) -> list[Problem]:
    """Problems beyond syntax, each at the file and line of the culprit."""
    path = str(lab.path)
    problems: list[Problem] = []

    def add(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    defined = defined_variables(lab)
    _check_text_variables(lab.path, defined, problems)
    for lang in lab.languages[1:]:
        _check_text_variables(lab.directory / f"lab.{lang}.md", defined, problems)
    kinds = server_kinds()
    for server in lab.all_servers():
        kind = kinds.get(server.kind)
        if kind is None:
            add(server.line, f"unknown server kind {server.kind!r} (netlab has: {', '.join(sorted(kinds))})")
            continue
        known = {o.dest for o in kind.options} | {o.name for o in kind.options}
        for option in server.options:
            if option not in known:
                add(server.line, f"server kind {server.kind} has no option {option!r}"
                                 + (f" (it has: {', '.join(sorted(o.name for o in kind.options))})"
                                    if kind.options else " (it takes none)"))
    for requirement in lab.requires:
        if requirement not in REQUIREMENTS:
            add(1, f"unknown requirement {requirement!r} (known: {', '.join(sorted(REQUIREMENTS))})")
    server_names = {s.name for s in lab.all_servers()}
    for step in lab.steps:
        _check_step(lab, step, server_names, defined, add)
    return problems


def _check_text_variables(path: Path, defined: set[str], problems: list[Problem]) -> None:
    """Variables anywhere in a lab file, reported at their own line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return
    for number, text in enumerate(lines, 1):
        for name, _ in variables_in(text):
            if name not in defined:
                problems.append(Problem(str(path), number, f"undefined variable {{{{ {name} }}}}"
                                                           + _suggest(name, defined)))


def _suggest(name: str, defined: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(defined), n=1)
    return f" (did you mean {{{{ {close[0]} }}}}?)" if close else ""


def _check_step(lab: Lab, step: Step, server_names: set[str], defined: set[str], add) -> None:
    scripts = {s.name for s in step.scripts}
    for script in step.scripts:
        shipped = lab.solution_dir / script.file
        starter = lab.starter_dir / script.file
        if not shipped.is_file() and not starter.is_file():
            add(script.line, f"script file {script.file!r} is in neither starter/ nor solution/")
        elif not shipped.is_file():
            add(script.line, f"script file {script.file!r} has no reference solution (solution/{script.file})")
        suffix = Path(script.file).suffix
        if script.interpreter is None and suffix not in INTERPRETERS:
            add(script.line, f"cannot tell how to run {script.file!r}: set interpreter = \"...\" "
                             f"(known by extension: {', '.join(INTERPRETERS)})")
        if script.listen is not None and not _port_like(script.listen):
            add(script.line, f"listen = {script.listen!r} is neither a port nor a port variable")
    for action in step.actions:
        if action.command and action.command[0] == "netlab":
            error = netlab_command_error(action.command[1:], defined)
            if error:
                add(action.line, f"action command {shlex.join(action.command)!r} is not a valid netlab command: "
                                 f"{error}")
    for solve in step.solves:
        if solve.command and solve.command[0] == "netlab":
            error = netlab_command_error(solve.command[1:], defined)
            if error:
                add(solve.line, f"solve command {shlex.join(solve.command)!r} is not a valid netlab command: {error}")
    for check in step.checks:
        for condition in check.condition.walk():
            matchers = []
            if isinstance(condition, EventCondition):
                matchers = [condition.matcher]
            elif isinstance(condition, SequenceCondition):
                matchers = condition.matchers
            for matcher in matchers:
                if matcher.server is not None and matcher.server not in server_names:
                    add(check.line, f"check refers to server {matcher.server!r}, which this lab does not start"
                                    + (f" (servers: {', '.join(sorted(server_names))})" if server_names else ""))
            if isinstance(condition, ScriptCondition):
                if condition.name is None and len(scripts) != 1:
                    add(check.line, "a script check must name its script (this step has "
                                    f"{len(scripts)} scripts)" if scripts else
                                    "script check in a step that runs no script (add a lab:script block)")
                elif condition.name is not None and condition.name not in scripts:
                    add(check.line, f"script check names {condition.name!r}, which this step does not run"
                                    + (f" (it runs: {', '.join(sorted(scripts))})" if scripts else ""))
            if isinstance(condition, ProbeCondition) and not condition.target and not all(
                    "target" in a for a in condition.actions if "connect" in a or "http" in a):
                add(check.line, "a probe needs target = \"HOST:PORT\" (e.g. \"{{ host }}:{{ ports.mine }}\")")


def _port_like(value: str) -> bool:
    return value.isdigit() or re.fullmatch(r"\{\{\s*[\w.-]+\s*\}\}", value) is not None


def netlab_command_error(argv: list[str], defined: Iterable[str] = ()) -> str | None:
    """Why ``netlab ARGV`` would be rejected by netlab's own argument parser (None when it parses)."""
    from netlab_tui.cli import build_parser

    stand_ins = Variables({name: _stand_in(name) for name in defined})
    rendered = [stand_ins.render(arg, missing="0") for arg in argv]
    parser = build_parser()
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(rendered)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            lines = [ln for ln in errors.getvalue().strip().splitlines() if ln.strip()]
            return lines[-1].split("error: ", 1)[-1] if lines else "rejected"
    return None


def _stand_in(name: str) -> str:
    """A plausible value for a variable when checking commands that use it."""
    attribute = name.rsplit(".", 1)[-1]
    if name.startswith("ports.") or attribute == "port":
        return "40000"
    if attribute == "address":
        return "127.0.0.1:40000"
    if attribute == "url":
        return "http://127.0.0.1:40000"
    if attribute == "host" or name == "host":
        return "127.0.0.1"
    if name.startswith("hosts.") and attribute == "ip":
        return "10.213.7.1"
    return "x"


def check_lab(path: str | Path) -> list[Problem]:
    """Every problem of one lab (syntax, translations, semantics)."""
    lab, problems = lab_problems(path)
    if lab is not None:
        problems += validate_lab(lab)
    lab_dir = Path(path).parent
    if lab is not None:
        from .prove import undeclared_wrong_files

        problems += undeclared_wrong_files(lab)
        for step in lab.steps:
            for wrong in step.wrongs:
                if not (lab.wrong_dir / wrong.file).is_file():
                    problems.append(Problem(str(lab.path), wrong.line,
                                            f"lab:wrong names wrong/{wrong.file}, which does not exist"))
    for folder in ("starter", "solution"):
        directory = lab_dir / folder
        if directory.exists() and not directory.is_dir():
            problems.append(Problem(str(directory), 1, f"{folder} must be a folder"))
    return sorted(set(problems))
