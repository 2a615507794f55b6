"""``netlab http METHOD URL``: one HTTP request, its response printed (status line, headers, body).

Exit status: 0 when the final status is below 400, 4 for a 4xx, 5 for a 5xx, 1 when the request could
not be made (refused, timed out, bad URL …; one line on stderr).
"""

from __future__ import annotations

import argparse
import sys

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.http.client import HttpClient, HttpExchange, HttpRequestSpec

from ._common import add_command_parser, new_journal, positive_float, run


def _pair(separator: str, what: str):
    def parse(value: str) -> tuple[str, str]:
        key, sep, rest = value.partition(separator)
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}")
        return key.strip(), rest.strip() if separator == ":" else rest

    return parse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command_parser(
        subparsers, "http", "send an HTTP request and print the response", __doc__,
        epilog="examples:\n"
               "  netlab http GET localhost:8080/api/users\n"
               "  netlab http PATCH localhost:8080/api/users/2 --json-body '{\"status\": \"away\"}'\n"
               "  netlab http POST localhost:8080/post --form name=netlab --raw",
    )
    parser.add_argument("method", metavar="METHOD", help="GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS …")
    parser.add_argument("url", metavar="URL", help="http://host:port/path (http:// may be left out)")
    parser.add_argument("-H", "--header", dest="headers", action="append", type=_pair(":", "'Name: value'"),
                        default=[], metavar="'K: V'", help="a request header (repeatable)")
    parser.add_argument("-q", "--query", dest="params", action="append", type=_pair("=", "KEY=VALUE"),
                        default=[], metavar="K=V", help="a query parameter (repeatable)")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--json-body", metavar="JSON", help="send this JSON (Content-Type: application/json)")
    body.add_argument("--form", action="append", type=_pair("=", "KEY=VALUE"), metavar="K=V",
                      help="a form field, sent URL-encoded (repeatable)")
    body.add_argument("--data", metavar="TEXT", help="send TEXT as the body, as is ('-' reads standard input)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("-u", "--user", metavar="USER:PASSWORD", help="basic authentication")
    auth.add_argument("--bearer", metavar="TOKEN", help="bearer token authentication")
    parser.add_argument("-L", "--follow", action="store_true", help="follow redirects")
    parser.add_argument("--max-redirects", type=int, default=10, metavar="N", help="with -L (default 10)")
    parser.add_argument("--timeout", type=positive_float, default=10.0, metavar="SECONDS",
                        help="connect and read timeout (default 10)")
    parser.add_argument("--raw", action="store_true", help="print the exact bytes sent and received instead")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines (the event contract)")
    parser.add_argument("--curl", action="store_true", help="print the request as a curl command; send nothing")
    parser.set_defaults(handler=handle, parser=parser)


def spec_from_args(args: argparse.Namespace) -> HttpRequestSpec:
    spec = HttpRequestSpec(method=args.method.upper(), url=args.url, params=list(args.params),
                           headers=list(args.headers), timeout=args.timeout, follow_redirects=args.follow,
                           max_redirects=args.max_redirects)
    if args.json_body is not None:
        spec.body_kind, spec.body = "json", args.json_body
    elif args.form:
        spec.body_kind, spec.form = "form", list(args.form)
    elif args.data is not None:
        spec.body_kind = "raw"
        spec.body = sys.stdin.read() if args.data == "-" else args.data
    if args.user is not None:
        user, sep, password = args.user.partition(":")
        if not sep:
            raise NetlabError("--user takes USER:PASSWORD")
        spec.auth_kind, spec.username, spec.password = "basic", user, password
    elif args.bearer is not None:
        spec.auth_kind, spec.token = "bearer", args.bearer
    return spec


def handle(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.curl:
        spec.build()  # the same validation as a real send
        print(spec.to_curl())
        return 0
    return run(_send(spec, args))


def exit_status(status: int) -> int:
    if status >= 500:
        return 5
    if status >= 400:
        return 4
    return 0


async def _send(spec: HttpRequestSpec, args: argparse.Namespace) -> int:
    journal, registry = new_journal(args.json)
    client = HttpClient(journal)
    try:
        await registry.start(client)
        result = await client.send(spec)
    finally:
        await registry.stop_all()
    if not args.json:
        out = sys.stdout.buffer
        if args.raw:
            for hop in result.hops:
                for chunk in (hop.raw_sent, hop.raw_received):
                    out.write(chunk)
                    if not chunk.endswith(b"\n"):
                        out.write(b"\n")
        else:
            out.write(format_response(result.final).encode("utf-8"))
        out.flush()
    return exit_status(result.status)


def format_response(hop: HttpExchange) -> str:
    lines = [f"HTTP/{hop.http_version.removeprefix('HTTP/')} {hop.status} {hop.reason}".rstrip()]
    lines += [f"{name}: {value}" for name, value in hop.response_headers]
    text = hop.pretty_body()
    if text:
        lines += ["", text]
    return "\n".join(lines) + "\n"
