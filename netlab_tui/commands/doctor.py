"""``netlab doctor``: one line per tool netlab and its labs use — ok, or missing with the command that fixes it.

Exit status 0 when everything the shipped labs need is there (and loopback works), 1 otherwise. Tools
only some features use (tshark, raw sockets for SYN scans and wire captures, IPv6) are reported without
failing. ``--json`` prints the findings as one JSON array.
"""

from __future__ import annotations

import argparse
import json

from netlab_tui.labs.doctor import diagnose_environment


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the tools netlab and its labs use (nmap, ssh, php, tshark …)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the findings as a JSON array")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    findings = diagnose_environment()
    failing = [f for f in findings if f.required and not f.ok]
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=1))
    else:
        for finding in findings:
            print(finding.line())
        if failing:
            print(f"\n{len(failing)} thing{'s' if len(failing) != 1 else ''} the labs need "
                  f"{'are' if len(failing) != 1 else 'is'} missing: {', '.join(f.name for f in failing)}")
        else:
            print("\neverything the labs need is here")
    return 1 if failing else 0
