"""``netlab run -- COMMAND...``: run a local command, show its output, return its exit status.

Without a shell by default: the words after ``--`` are the program and its arguments exactly, so
``netlab run -- echo '$(id)'`` prints ``$(id)``. ``--shell`` hands one command line to ``/bin/sh -c``
(pipes, variables, globs — and injection, if any part of it came from someone else). ``--pipe`` runs
``A '|' B`` as a pipeline without a shell and records what each stage wrote.
"""

from __future__ import annotations

import argparse
import sys

from netlab_tui.engine.shell.process import (
    STATUS_TIMED_OUT,
    CommandNotExecutable,
    CommandNotFound,
    Pipeline,
    ProcessSession,
)

from ._common import OutputWriter, add_command_parser, die, foreground, new_journal, positive_float, run

EPILOG = """\
exit status: the command's; 127 when it does not exist, 126 when it cannot be run, 124 when --timeout
killed it, 128+N when signal N ended it (130 after Ctrl+C, which kills the command's process group).

examples:
  netlab run -- ls -l /
  netlab run -- echo '$(id)'                 prints $(id): no shell, no expansion
  netlab run --shell -- 'ls -l / | sort -k 2 -n'
  netlab run --pipe -- ls -l / '|' sort -k 2 -n
  netlab run -- bc -q                        type 2+3, then quit
  netlab run --timeout 2 --json -- sleep 10
"""


def env_pair(value: str) -> tuple[str, str]:
    key, eq, val = value.partition("=")
    if not eq or not key or "\0" in value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    return key, val


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command_parser(subparsers, "run", "run a local command (no shell unless --shell) and log its output",
                                __doc__, epilog=EPILOG)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--shell", action="store_true",
                      help="run COMMAND through /bin/sh -c (never with text you did not write: injection)")
    mode.add_argument("--pipe", action="store_true",
                      help="split COMMAND at '|' words into a pipeline, run without a shell, every stage recorded")
    parser.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                        help="kill the command's process group after this long (exit status 124)")
    parser.add_argument("--cwd", metavar="DIR", help="working directory for the command")
    parser.add_argument("--env", type=env_pair, action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment variable (repeatable)")
    parser.add_argument("--no-stdin", action="store_true",
                        help="give the command no input instead of forwarding netlab's standard input")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines (the event contract)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND...",
                        help="the program and its arguments (after --)")
    parser.set_defaults(handler=handle, parser=parser)


def handle(args: argparse.Namespace) -> int:
    words = list(args.command)
    if words and words[0] == "--":
        words = words[1:]
    if not words:
        args.parser.error("no command given (netlab run -- COMMAND ARGS...)")
    if args.pipe:
        stages: list[list[str]] = [[]]
        for word in words:
            if word == "|":
                stages.append([])
            else:
                stages[-1].append(word)
        if any(not stage for stage in stages):
            args.parser.error("--pipe: empty stage (nothing between '|' words)")
        command: list[str] | list[list[str]] = stages
    else:
        command = words
    try:
        return run(_run(args, command))
    except CommandNotFound as exc:
        return die(str(exc), exc.status)
    except CommandNotExecutable as exc:
        return die(str(exc), exc.status)


async def _run(args: argparse.Namespace, command) -> int:
    journal, registry = new_journal(args.json)
    env = dict(args.env)
    if args.pipe:
        session: ProcessSession | Pipeline = Pipeline(journal, command, cwd=args.cwd, env=env, timeout=args.timeout)
        last_stage = len(command) - 1
    else:
        session = ProcessSession(journal, " ".join(command) if args.shell else command, shell=args.shell,
                                 cwd=args.cwd, env=env, timeout=args.timeout,
                                 stdin="null" if args.no_stdin else "pipe")
        last_stage = None
    if not args.json:
        journal.subscribe(OutputWriter(last_stage), lambda e: e.kind in ("stdout", "stderr"))
    async with foreground(registry, session, forward_stdin=not args.no_stdin) as interrupted:
        code = await session.wait()
        if interrupted:
            return 128 + interrupted[0]
        if session.timed_out:
            print(f"netlab: timed out after {args.timeout:g}s; killed the process group", file=sys.stderr)
            return STATUS_TIMED_OUT
        return code
