"""``netlab ssh [USER@]HOST -- COMMAND...``: run a command on another machine over SSH.

Host keys are checked like OpenSSH does: the host must be in ``~/.ssh/known_hosts`` or netlab's own
store (or the one file ``--known-hosts`` names). An unknown host is refused with its fingerprint;
``--trust`` accepts and remembers it. A *changed* key is always refused.

With several hosts (``--host A --host B`` or ``--host A,B``) the command runs on all of them at once
and the outputs are printed side by side, followed by a diff of each host against the first.
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import sys

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.ssh.client import (
    DEFAULT_TIMEOUT,
    KeyNeedsPassphrase,
    SshSession,
    SshTarget,
    UnknownHostKey,
    compare,
    load_private_key,
    parse_hosts,
    run_on_hosts,
)

from ._common import (
    OutputWriter,
    add_command_parser,
    foreground,
    new_journal,
    port_number,
    positive_float,
    run,
)

STATUS_SSH_ERROR = 255  # as OpenSSH: netlab's own failure, told apart from the remote command's status

EPILOG = """\
exit status: the remote command's; 255 when netlab could not connect, log in or verify the host.
With several hosts: 0 when every host ran the command with status 0, 1 when some did not, 255 when
some host could not be reached.

examples:
  netlab serve ssh --port 2222 &              a lab server (prints its password and fingerprint)
  netlab ssh 127.0.0.1 -p 2222 --password-prompt -- uname -a
  netlab ssh 127.0.0.1 -p 2222 --trust --password-prompt -- id      accept and remember its host key
  netlab ssh --host 127.0.0.1:2222 --host 127.0.0.1:2223 -i ~/.ssh/id_ed25519 -- cat /etc/hostname
"""


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--port", type=port_number, default=None, help="port (default 22)")
    parser.add_argument("-l", "--user", default=None, help="user name (default: USER@ in HOST, or yours)")
    parser.add_argument("-i", "--identity", dest="key_file", metavar="KEY", default=None,
                        help="private key file to log in with")
    parser.add_argument("--known-hosts", metavar="FILE", default=None,
                        help="check host keys against FILE only (and remember trusted ones there) instead of "
                             "~/.ssh/known_hosts plus netlab's store")
    parser.add_argument("--trust", action="store_true",
                        help="accept an UNKNOWN host key and remember it (a changed key is still refused)")
    parser.add_argument("--password-prompt", action="store_true",
                        help="ask for a password (not echoed, never logged)")
    parser.add_argument("--no-agent", action="store_true", help="do not use keys from ssh-agent")
    parser.add_argument("--no-keys", action="store_true", help="do not try the keys in ~/.ssh")
    parser.add_argument("-n", "--no-stdin", action="store_true",
                        help="send the remote command no input (default: netlab's standard input)")
    parser.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"connect/handshake/login timeout (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--host", dest="hosts", action="append", default=[], metavar="[USER@]HOST[:PORT]",
                        help="a host to run on; repeat it or give a comma list to compare several hosts")
    parser.add_argument("--width", type=int, default=None, help="side-by-side width (default: the terminal's)")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines (the event contract)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command_parser(
        subparsers, "ssh", "run a command over SSH (host keys checked; several hosts compared)", __doc__,
        epilog=EPILOG,
        usage="netlab ssh [USER@]HOST[:PORT] [options] -- COMMAND...\n"
              "       netlab ssh --host H1 --host H2 [options] -- COMMAND...",
    )
    _add_options(parser)
    parser.add_argument("rest", nargs=argparse.REMAINDER, metavar="[USER@]HOST -- COMMAND...",
                        help="the host, then the command after --")
    parser.set_defaults(handler=handle, parser=parser)


def _split(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(host specs, command words) from what argparse left in ``rest``.

    argparse stops reading options at the first positional word (the host), so options written after
    the host (``HOST -p 2222 -- CMD``) are parsed here, from the words before ``--``.
    """
    rest = list(args.rest)
    if "--" in rest:
        cut = rest.index("--")
        before, command = rest[:cut], rest[cut + 1 :]
    elif args.hosts:
        before, command = [], rest
    else:
        before, command = rest[:1], rest[1:]
    if before:
        helper = argparse.ArgumentParser(prog="netlab ssh", add_help=False)
        _add_options(helper)
        helper.add_argument("target", nargs="?")
        # Options given before the host are the defaults; those after it override (--host adds).
        helper.set_defaults(**{k: v for k, v in vars(args).items() if k not in ("rest", "handler", "parser")})
        parsed = helper.parse_args(before)
        for key, value in vars(parsed).items():
            if key != "target":
                setattr(args, key, value)
        if parsed.target:
            args.hosts = list(args.hosts) + [parsed.target]
    return list(args.hosts), command


def handle(args: argparse.Namespace) -> int:
    hosts, words = _split(args)
    if not hosts:
        args.parser.error("no host given (netlab ssh [USER@]HOST -- COMMAND...)")
    if not words:
        args.parser.error("no command given (interactive shells are not supported: netlab ssh HOST -- COMMAND...)")
    command = " ".join(words)  # as OpenSSH does: the remote shell splits it again
    try:
        defaults = dict(user=args.user, key_file=args.key_file, known_hosts=args.known_hosts, trust=args.trust,
                        agent=not args.no_agent, look_for_keys=not args.no_keys, timeout=args.timeout)
        if args.port is not None:
            defaults["port"] = args.port
        targets = parse_hosts(hosts, **defaults)
        if args.key_file:
            _unlock_key(targets, args.key_file)
        if args.password_prompt:
            password = _prompt(f"{targets[0].label}'s password: " if len(targets) == 1
                               else f"password for {len(targets)} hosts: ")
            for target in targets:
                target.password = password
        if len(targets) == 1:
            return run(_single(args, targets[0], command))
        return run(_several(args, targets, command))
    except UnknownHostKey as exc:
        print(f"netlab: {exc}; to accept it, run again with --trust", file=sys.stderr)
        return STATUS_SSH_ERROR
    except NetlabError as exc:
        print(f"netlab: {exc}", file=sys.stderr)
        return STATUS_SSH_ERROR


def _prompt(text: str) -> str:
    try:
        return getpass.getpass(text)
    except (EOFError, OSError):
        raise NetlabError("no password given (the prompt needs a terminal)") from None


def _unlock_key(targets: list[SshTarget], key_file: str) -> None:
    """Ask for the key's passphrase up front if it is encrypted (prompting never happens in a thread)."""
    try:
        load_private_key(key_file)
        return
    except KeyNeedsPassphrase:
        if not sys.stdin.isatty():
            raise
    passphrase = _prompt(f"passphrase for {key_file}: ")
    load_private_key(key_file, passphrase)  # a wrong passphrase is one clear line here
    for target in targets:
        target.passphrase = passphrase


async def _single(args: argparse.Namespace, target: SshTarget, command: str) -> int:
    journal, registry = new_journal(args.json)
    if not args.json:
        journal.subscribe(OutputWriter(), lambda e: e.kind in ("stdout", "stderr") and e.proto == "ssh")
    session = SshSession(journal, target, command)
    async with foreground(registry, session, forward_stdin=not args.no_stdin) as interrupted:
        code = await session.wait()
        if interrupted:
            return 128 + interrupted[0]
        if session.error_message:
            raise NetlabError(session.error_message)
        if code is None:
            raise NetlabError("the remote command ended without an exit status (killed by a signal?)")
        return code


async def _several(args: argparse.Namespace, targets: list[SshTarget], command: str) -> int:
    journal, registry = new_journal(args.json)
    results = await run_on_hosts(journal, targets, command, registry=registry)
    comparison = compare(results)
    summary = {
        "command": command,
        "hosts": [r.label for r in results],
        "codes": [r.code for r in results],
        "errors": [r.error for r in results],
        "identical": comparison.identical,
        "diff": [line for _a, _b, lines in comparison.diffs for line in lines],
    }
    journal.publish(TrafficEvent(
        source="ssh compare", proto="ssh", kind="compare", meta=summary,
        message=f"{len(results)} hosts: outputs {'identical' if comparison.identical else 'differ'}",
    ))
    if not args.json:
        width = args.width or shutil.get_terminal_size((120, 24)).columns
        out = sys.stdout
        out.write("\n".join(comparison.side_by_side(width)) + "\n\n")
        if comparison.identical:
            out.write(f"outputs identical on all {len(results)} hosts\n")
        else:
            for a, b, lines in comparison.diffs:
                out.write(f"diff {a} → {b}: " + ("identical\n" if not lines else "\n"))
                for line in lines:
                    out.write(line + "\n")
        out.flush()
        for result in results:
            if result.error:
                print(f"netlab: {result.label}: {result.error}", file=sys.stderr)
    if any(r.error for r in results):
        return STATUS_SSH_ERROR
    return 0 if all(r.code == 0 for r in results) else 1
