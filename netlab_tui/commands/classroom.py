"""``netlab class``: serve a class from this machine — a login, one isolated netlab per learner, a dashboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netlab_tui.engine.core.netutil import is_all_interfaces
from netlab_tui.engine.core.sessions import NetlabError

from ._common import port_number


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "class",
        help="serve a class: learners log in, each gets an isolated netlab; the teacher sees progress",
        description="Serve netlab to a class over HTTP. Learners open the printed address, type their name and "
                    "the class code, and get their own netlab (own home, progress and network namespace). The "
                    "teacher opens /teacher with the printed password to follow everyone's labs. Ctrl+C stops.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8000, help="port to bind (default 8000)")
    parser.add_argument("--code", help="the class code learners type (default: random, kept in DIR)")
    parser.add_argument("--dir", default="netlab-class", type=Path,
                        help="the class's folder: secrets and one home per learner (default ./netlab-class)")
    parser.add_argument("--max-learners", type=_positive, default=30, help="learners at most (default 30)")
    parser.add_argument("--public-url", help="the address learners use, when behind a proxy (https://…)")
    parser.add_argument("--idle-timeout", type=_minutes, default=60, metavar="MINUTES",
                        help="stop a learner's netlab after this long without a keystroke (default 60)")
    parser.add_argument("--shared-network", action="store_true",
                        help="when learners cannot get their own network namespace: share this machine's")
    parser.set_defaults(handler=handle, parser=parser)


def handle(args: argparse.Namespace) -> int:
    if args.port == 0:
        args.parser.error("--port 0 is not supported here: the pages must know their own address")
    if args.code is not None and not (args.code.strip() and args.code.strip().isalnum()):
        args.parser.error("--code: letters and digits only")
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        args.parser.error("--public-url must start with http:// or https://")
    from netlab_tui.classroom.auth import ClassSecrets
    from netlab_tui.classroom.isolation import choose_network
    from netlab_tui.classroom.server import ClassConfig, ClassServer

    directory = args.dir.expanduser().resolve()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # learners reach their homes through
        # their own mount namespace (classroom._launch.make_reachable), never through this folder's mode
    except OSError as exc:
        raise NetlabError(f"cannot use {directory} as the class folder: {exc.strerror or exc}") from None
    isolation = choose_network(args.shared_network)
    secrets = ClassSecrets.load_or_create(directory, args.code.strip().upper() if args.code else None)

    if is_all_interfaces(args.host) or not args.host.startswith(("127.", "localhost", "::1")):
        print(f"netlab: warning: serving beyond loopback on {args.host} — anyone who reaches this port and "
              "knows the class code gets a netlab (with its shell)", file=sys.stderr)
    config = ClassConfig(directory=directory, host=args.host, port=args.port, max_learners=args.max_learners,
                         public_url=args.public_url, idle_timeout=args.idle_timeout * 60.0)
    url = (args.public_url or f"http://{'127.0.0.1' if is_all_interfaces(args.host) else args.host}:{args.port}")
    url = url.rstrip("/")

    def announce() -> None:  # once the server's signal handlers are in place: Ctrl+C then stops it cleanly
        print(f"netlab class: learners open {url}/ with class code {secrets.code}", flush=True)
        if secrets.created_password:
            print(f"netlab class: teacher: {url}/teacher password {secrets.teacher_password} "
                  f"(shown once; kept in {directory / 'class.json'}, mode 0600)", flush=True)
        else:
            print(f"netlab class: teacher: {url}/teacher with the password kept in {directory / 'class.json'}",
                  flush=True)
        print(f"netlab class: {isolation.describe()}; at most {args.max_learners} learners (Ctrl+C stops)",
              flush=True)

    server = ClassServer(config, isolation, secrets, on_ready=announce)
    try:
        server.serve()
    except OSError as exc:
        from netlab_tui.engine.core.netutil import bind_error

        raise bind_error(exc, f"{args.host}:{args.port}") from None
    return 0
