"""The ``netlab`` command: the TUI with no arguments, one sub-command per tool otherwise."""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .engine.core.sessions import NetlabError

# Sub-command modules (netlab_tui.commands.<name>), in --help order. Each has add_parser(subparsers).
COMMAND_MODULES: tuple[str, ...] = (
    "serve",
    "send",
    "http",
    "rpc",
    "run",
    "ssh",
    "scan",
    "watch",
    "open",
    "lab",
    "doctor",
    "web",
    "classroom",
    "topo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netlab",
        description="netlab — a terminal networking lab. Without a command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"netlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMAND_MODULES:
        importlib.import_module(f".commands.{name}", __package__).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    from .engine.core.place import place_from_environment

    place_from_environment(dict(os.environ))  # inside `netlab topo exec`: events name the host
    # `netlab` alone opens the TUI without building the parser: that imports every command's module
    # (paramiko, httpx …), a second of start-up before the first frame for nothing.
    args = build_parser().parse_args(argv) if (sys.argv[1:] if argv is None else argv) else None
    try:
        if args is None or args.command is None:
            from .ui.app import run_tui

            return run_tui()
        return int(args.handler(args) or 0)
    except NetlabError as exc:
        print(f"netlab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    sys.exit(main())
