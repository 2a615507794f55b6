"""``netlab topo``: multi-host topologies as network namespaces.

    netlab topo up FILE [--name NAME] [--json]    build, print a ready line, hold until Ctrl+C/SIGTERM, tear down
    netlab topo exec NAME HOST -- COMMAND...      run a command on a host (exit status is the command's)
    netlab topo list [--json]                     the topologies running, and dead ones left behind
    netlab topo clean                             remove what dead runs left behind
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from netlab_tui.engine.core.place import HOST_ENV
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.topology import runs, userns
from netlab_tui.engine.topology.capture import TopologyCapture
from netlab_tui.engine.topology.model import load_topology
from netlab_tui.engine.topology.network import Network, require_privileges

STATUS_NOT_FOUND = 127
STATUS_NOT_EXECUTABLE = 126


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "topo",
        help="multi-host topologies: hosts as network namespaces (root)",
        description="Hosts as Linux network namespaces joined by veth pairs and a bridge per segment. "
                    "Nothing is added to this machine's own network namespace.",
    )
    sub = parser.add_subparsers(dest="topo_command", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="build a topology and hold it until Ctrl+C",
                        description="Build the topology described in FILE (TOML: [hosts.h1] ip = \"10.213.7.1/24\", "
                                    "[segments.lan] hosts = [\"h1\", \"h2\"]), print a ready line and hold it in "
                                    "the foreground; Ctrl+C or SIGTERM tears it down.")
    up.add_argument("file", help="the topology file (TOML)")
    up.add_argument("--name", help="the name `topo exec` uses (default: the file's name)")
    up.add_argument("--json", action="store_true", help="print the ready line as JSON: hosts and addresses")
    up.add_argument("--pcap", metavar="FILE", help="record every frame crossing a link (once) to a pcap file; "
                                                   "`netlab open FILE` shows it, flow graph included")
    up.set_defaults(handler=handle_up)
    ex = sub.add_parser("exec", help="run a command on a host of a running topology",
                        description="Run COMMAND inside HOST's network namespace; the exit status is the command's.")
    ex.add_argument("name", help="the topology's name (see `netlab topo list`)")
    ex.add_argument("host", help="the host, e.g. h1")
    ex.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND...", help="the command and its arguments")
    ex.set_defaults(handler=handle_exec)
    ls = sub.add_parser("list", help="the topologies running (and dead ones left behind)")
    ls.add_argument("--json", action="store_true", help="one JSON object a line")
    ls.set_defaults(handler=handle_list)
    clean = sub.add_parser("clean", help="remove the namespaces, links and processes dead runs left behind")
    clean.set_defaults(handler=handle_clean)


def default_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0].lower()
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in stem).strip("-._")[:32]
    return cleaned or "topo"


def ready_line(network: Network) -> str:
    hosts = ", ".join(f"{h['name']} {' '.join(i['address'] for i in h['interfaces'])}"
                      for h in network.describe()["hosts"])
    return (f"topology {network.name} up: {hosts} — `netlab topo exec {network.name} HOST -- COMMAND`; "
            "Ctrl+C tears it down")


def handle_up(args: argparse.Namespace) -> int:
    topology = load_topology(args.file)
    name = args.name or default_name(args.file)
    if os.geteuid() != 0:  # without root: again, inside user+net+mount namespaces of our own
        reason = userns.unavailable()
        if reason is not None:
            raise NetlabError(f"multi-host topologies need root, or unprivileged user namespaces: {reason}")
        argv = ["topo", "up", os.path.abspath(args.file), "--name", name]
        argv += ["--json"] if args.json else []
        argv += ["--pcap", os.path.abspath(args.pcap)] if args.pcap else []
        userns.reexec(argv)
    if userns.inside():
        userns.private_run(name)
    network = Network(topology, name, source=os.path.abspath(args.file))
    stop: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop.append(signum)

    # Installed before the first namespace exists: a signal during the build still ends in a teardown.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    capture = None
    try:
        network.up()
        if args.pcap:
            capture = TopologyCapture(network, args.pcap)
            try:
                capture.start()
            except OSError as exc:
                capture = None
                raise NetlabError(f"cannot write {args.pcap}: {exc.strerror or exc}") from None
        if args.json:
            print(json.dumps({"status": "up", **network.describe()}), flush=True)
        else:
            print(ready_line(network), flush=True)
        while not stop:
            signal.pause()
    finally:
        frames = capture.stop() if capture is not None else None
        network.down()
        if userns.inside():
            userns.forget(name)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.json:
        print(json.dumps({"status": "down", "name": network.name, "frames": frames}), flush=True)
    else:
        recorded = f"; {frames} frames crossing links written to {args.pcap}" if frames is not None else ""
        print(f"topology {network.name} torn down{recorded}", file=sys.stderr, flush=True)
    return 0


def live_record(name: str) -> dict:
    record = runs.find(name)
    if record is None or not runs.is_live(record):
        running = [r["name"] for r in runs.read_records() if runs.is_live(r)]
        hint = f" (running: {', '.join(running)})" if running else " (start one with `netlab topo up FILE`)"
        raise NetlabError(f"no running topology named {name!r}{hint}")
    return record


def handle_exec(args: argparse.Namespace) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise NetlabError("no command given: netlab topo exec NAME HOST -- COMMAND...")
    if os.geteuid() != 0:  # an unprivileged run of this user: join its namespaces, then exec there
        run = next((p for p in userns.pointers() if p.get("name") == args.name), None)
        if run is None:
            raise NetlabError(f"no running topology named {args.name!r} of yours (start one with `netlab topo up FILE`)")
        userns.join(run["pid"], ["topo", "exec", args.name, args.host, "--", *argv])
    require_privileges()
    record = live_record(args.name)
    path = (record.get("hosts") or {}).get(args.host)
    if not isinstance(path, str) or not os.path.exists(path):
        raise NetlabError(f"no host {args.host!r} in topology {args.name} "
                          f"(hosts: {', '.join(record.get('hosts') or {})})")
    from pyroute2 import netns

    # The main thread enters the host's namespace, then becomes the command: its exit status is ours.
    fd = os.open(path, os.O_RDONLY)
    try:
        netns.setns(fd, flags=0)
    finally:
        os.close(fd)
    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, HOST_ENV: args.host, "NETLAB_TOPO": args.name}
    try:
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        print(f"netlab: command not found: {argv[0]}", file=sys.stderr)
        return STATUS_NOT_FOUND
    except PermissionError:
        print(f"netlab: permission denied: {argv[0]} (not executable)", file=sys.stderr)
        return STATUS_NOT_EXECUTABLE
    except OSError as exc:
        print(f"netlab: cannot run {argv[0]}: {exc.strerror or exc}", file=sys.stderr)
        return STATUS_NOT_EXECUTABLE
    return 0  # pragma: no cover - execvp does not return


def handle_list(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        mine = userns.pointers()
        for run in mine:
            print(json.dumps({"name": run["name"], "pid": run["pid"], "live": True, "unprivileged": True})
                  if args.json else f"{run['name']:<20} pid {run['pid']}  up (unprivileged: `netlab topo exec "
                                    f"{run['name']} HOST -- COMMAND`)")
        if not mine and not args.json:
            print("no topology of yours running")
        return 0
    records = runs.read_records()
    if args.json:
        for record in records:
            print(json.dumps({"name": record["name"], "prefix": record.get("prefix"), "pid": record.get("pid"),
                              "live": runs.is_live(record), "source": record.get("source"),
                              "topology": record.get("topology")}))
        return 0
    if not records:
        print("no topology running")
        return 0
    print(f"{'NAME':<20} {'PREFIX':<8} {'PID':>7}  {'STATE':<7} HOSTS")
    for record in records:
        hosts = (record.get("topology") or {}).get("hosts") or {}
        listing = ", ".join(f"{n} {h.get('ip', '')}" for n, h in hosts.items())
        state = "up" if runs.is_live(record) else "dead"
        print(f"{record['name']:<20} {record.get('prefix', ''):<8} {record.get('pid', ''):>7}  {state:<7} {listing}")
    if any(not runs.is_live(r) for r in records):
        print("dead runs left objects behind: `netlab topo clean` removes them")
    return 0


def handle_clean(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print("nothing to clean: an unprivileged topology's namespaces end with its process "
              "(root's dead runs need `sudo netlab topo clean`)")
        return 0
    removed = runs.clean()
    if not (removed["runs"] or removed["namespaces"] or removed["processes"]):
        print("nothing to clean")
        return 0
    print(f"removed {len(removed['runs'])} dead run(s){' (' + ', '.join(removed['runs']) + ')' if removed['runs'] else ''}, "
          f"{len(removed['namespaces'])} namespace(s), {removed['processes']} process(es)")
    return 0
