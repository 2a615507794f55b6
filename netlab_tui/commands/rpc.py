"""``netlab rpc list|call URL ...``: call an XML-RPC or JSON-RPC server, optionally showing the wire.

Parameters are JSON when they parse (``2``, ``2.5``, ``'"2"'``, ``'[1, 2]'``) and text otherwise, so
``netlab rpc call URL add 2 3`` adds numbers and ``netlab rpc call URL add ab cd`` joins strings.
The protocol is JSON-RPC when the URL ends in /jsonrpc, XML-RPC otherwise (or say it with --protocol).
Exit status: 0 on success, 1 on a fault or when the call could not be made (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.rpc.client import RpcClient, RpcResult, parse_cli_value
from netlab_tui.engine.rpc.server import plain

from ._common import add_command_parser, new_journal, positive_float, run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command_parser(subparsers, "rpc", "list or call the methods of an XML-RPC / JSON-RPC server",
                                __doc__)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="system.listMethods", description="List the server's methods.")
    listing.add_argument("url", metavar="URL", help="e.g. http://127.0.0.1:8000/ or .../jsonrpc")
    call = add_command_parser(actions, "call", "call one method", __doc__)
    call.add_argument("url", metavar="URL", help="e.g. http://127.0.0.1:8000/ or .../jsonrpc")
    call.add_argument("method", metavar="METHOD", help="e.g. add, weather_forecast, system.methodHelp")
    call.add_argument("params", metavar="PARAM", nargs="*", help="positional parameters (JSON or text)")
    for sub in (listing, call):
        sub.add_argument("--protocol", choices=("xml-rpc", "json-rpc"), default=None,
                         help="default: json-rpc when the URL ends in /jsonrpc, xml-rpc otherwise")
        sub.add_argument("--wire", action="store_true", help="print the XML/JSON documents sent and received")
        sub.add_argument("--timeout", type=positive_float, default=10.0, metavar="SECONDS",
                         help="connect and read timeout (default 10)")
        sub.add_argument("--json", action="store_true", help="print events as JSON lines (the event contract)")
        sub.set_defaults(handler=handle, parser=sub)


def protocol_for(url: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    path = urllib.parse.urlsplit(url if "://" in url else f"http://{url}").path
    return "json-rpc" if path.rstrip("/").endswith("/jsonrpc") else "xml-rpc"


def handle(args: argparse.Namespace) -> int:
    return run(_rpc(args))


async def _rpc(args: argparse.Namespace) -> int:
    journal, registry = new_journal(args.json)
    client = RpcClient(journal, args.url, protocol_for(args.url, args.protocol), timeout=args.timeout)
    try:
        await registry.start(client)
        if args.action == "list":
            result = await client.call("system.listMethods", [])
        else:
            result = await client.call(args.method, [parse_cli_value(p) for p in args.params])
    finally:
        await registry.stop_all()
    if not args.json:
        if args.wire:
            _print_wire(result)
        if result.fault is None:
            if args.action == "list" and isinstance(result.value, list):
                print("\n".join(str(m) for m in result.value))
            else:
                print(json.dumps(plain(result.value), indent=2, ensure_ascii=False))
    if result.fault is not None:
        raise NetlabError(f"fault {result.fault.code}: {result.fault.message}")
    return 0


def _print_wire(result: RpcResult) -> None:
    hop = result.exchange
    out = sys.stdout
    out.write(f"--> POST {hop.url}  ({len(result.request_body)} bytes)\n")
    out.write(result.request_body.decode("utf-8", "replace").rstrip("\n") + "\n")
    out.write(f"<-- {hop.status} {hop.reason}  ({len(result.response_body)} bytes, {hop.total_ms:.1f} ms)\n")
    out.write(result.response_body.decode("utf-8", "replace").rstrip("\n") + "\n")
    out.flush()
