"""``netlab run -- COMMAND...``: run a local command, show its output, return its exit status.

Without a shell by default: the words after ``--`` are the program and its arguments exactly, so
``netlab run -- echo '$(id)'`` prints ``$(id)``. ``--shell`` hands one command line to ``/bin/sh -c``
(pipes, variables, globs — and injection, if any part of it came from someone else). ``--pipe`` runs
``A '|' B`` as a pipeline without a shell and records what each stage wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from ..engine.events import TrafficEvent
from ..engine.journal import Journal
from ..engine.sessions import NetlabError, SessionRegistry
from ..engine.shell import STATUS_TIMED_OUT, CommandNotExecutable, CommandNotFound, Pipeline, ProcessSession
from ._common import EventPrinter, die, positive_float, run
from ._stdin import StdinForwarder

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
    parser = subparsers.add_parser(
        "run",
        help="run a local command (no shell unless --shell) and log its output",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    journal = Journal()
    registry = SessionRegistry(journal)
    env = dict(args.env)
    if args.pipe:
        session: ProcessSession | Pipeline = Pipeline(journal, command, cwd=args.cwd, env=env, timeout=args.timeout)
        last_stage = len(command) - 1
    else:
        session = ProcessSession(journal, " ".join(command) if args.shell else command, shell=args.shell,
                                 cwd=args.cwd, env=env, timeout=args.timeout,
                                 stdin="null" if args.no_stdin else "pipe")
        last_stage = None
    if args.json:
        journal.subscribe(EventPrinter(True))
    else:
        journal.subscribe(_OutputWriter(last_stage), lambda e: e.kind in ("stdout", "stderr"))

    loop = asyncio.get_running_loop()
    interrupted: list[int] = []

    def on_signal(signum: int) -> None:
        interrupted.append(signum)
        loop.create_task(session.stop())

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):
            pass
    forwarder: StdinForwarder | None = None
    try:
        await registry.start(session)
        if args.no_stdin:
            await session.close_stdin()
        else:
            forwarder = StdinForwarder(session.write_stdin, session.close_stdin)
            forwarder.start()
        code = await session.wait()
        if interrupted:
            return 128 + interrupted[0]
        if session.timed_out:
            print(f"netlab: timed out after {args.timeout:g}s; killed the process group", file=sys.stderr)
            return STATUS_TIMED_OUT
        return code
    except NetlabError:
        raise
    finally:
        if forwarder is not None:
            await forwarder.stop()
        await registry.stop_all()
        for sig in installed:
            loop.remove_signal_handler(sig)


class _OutputWriter:
    """The child's stdout/stderr to ours, byte for byte (for a pipeline: the last stage's stdout)."""

    def __init__(self, last_stage: int | None) -> None:
        self.last_stage = last_stage
        self.silenced = False

    def __call__(self, event: TrafficEvent) -> None:
        if event.payload is None or self.silenced:
            return
        if event.kind == "stdout":
            stage = (event.meta or {}).get("stage")
            if self.last_stage is not None and stage != self.last_stage:
                return
            stream = sys.stdout.buffer
        else:
            stream = sys.stderr.buffer
        try:
            stream.write(event.payload)
            stream.flush()
        except BrokenPipeError:  # `netlab run ... | head`: stop printing, let the command finish
            self.silenced = True
            with contextlib.suppress(OSError):  # so the interpreter's final flush does not complain
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
