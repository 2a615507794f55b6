"""``netlab web``: the TUI in a browser (textual-serve), one netlab process per browser tab."""

from __future__ import annotations

import argparse
import shlex
import sys

from netlab_tui.engine.core.netutil import is_all_interfaces

from ._common import port_number


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "web",
        help="serve the TUI to a web browser",
        description="Serve netlab's TUI over HTTP: open the printed address in a browser. Each tab runs "
                    "its own netlab. Ctrl+C stops.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8000, help="port to bind (default 8000)")
    parser.set_defaults(handler=handle, parser=parser)


def handle(args: argparse.Namespace) -> int:
    if args.port == 0:
        args.parser.error("--port 0 is not supported here: the page must know its own address")
    from textual_serve.server import Server

    if is_all_interfaces(args.host):
        print("netlab: warning: serving on all interfaces — anyone who can reach this machine gets a netlab "
              "(with its shell and SSH tools)", file=sys.stderr)
    command = shlex.join([sys.executable, "-m", "netlab_tui"])
    server = Server(command, host=args.host, port=args.port, title="netlab")
    print(f"netlab web: open http://{args.host}:{args.port}/ in a browser (Ctrl+C stops)", flush=True)
    try:
        server.serve()
    except OSError as exc:
        from netlab_tui.engine.core.netutil import bind_error

        raise bind_error(exc, f"{args.host}:{args.port}") from None
    return 0
