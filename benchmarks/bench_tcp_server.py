"""netlab's TCP echo server (journal recording every chunk) against a bare asyncio streams echo server,
and ``netlab serve tcp-echo`` (the same plus its event printer, human lines or ``--json``, to a pipe).

Each server runs alone in a child process; this process is the load. Two workloads, same for both:

- **messages**: one connection, then 50 at once, each sending 64-byte messages one at a time and
  waiting for the echo; figure: server CPU (user + system, ``time.process_time`` in the server) per
  echoed message. With one connection every message costs the server a full wake-up; with 50, a
  server that answers slower finds more messages per wake-up, so the two figures bracket the cost.
- **connections**: 1,000 short connections, 100 at a time: connect, send 16 bytes, read the echo, close;
  figures: connections handled per second (wall clock) and server CPU per connection.

Both servers run side by side; each round runs every workload on one then the other (swapping who goes
first), and the figures are medians of the rounds, the ratios medians of the paired per-round ratios:
on a shared machine, what happens elsewhere then weighs on both alike. The foundation's target: netlab
spends at most 1.5x the CPU per message of the bare server.

    .venv/bin/python benchmarks/bench_tcp_server.py [--connections 50] [--messages 10000] [--short 1000] [--rounds 7] [--only serve,serve-json]
        [--old DIR]   # also the same servers with netlab imported from another checkout, in the same rounds
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

MESSAGE = b"0123456789abcdef" * 4  # 64 bytes, a line of the course


# -- the servers (child processes, driven through a pipe: see serve_until_told) ----------------------------
def serve_until_told(pipe, port: int) -> None:
    """In the child, from a thread: send the port, then answer "cpu" with this process's CPU seconds
    (``time.process_time``: nanosecond resolution, where /proc's clock ticks are 10 ms) until "stop"."""
    pipe.send(port)
    while (command := pipe.recv()) != "stop":
        assert command == "cpu"
        pipe.send(time.process_time())


def run_bare(pipe) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=512)
        port = server.sockets[0].getsockname()[1]
        await asyncio.get_running_loop().run_in_executor(None, serve_until_told, pipe, port)
        server.close()

    asyncio.run(main())


def run_netlab(pipe) -> None:
    from netlab_tui.engine.core.catalog import server_kinds
    from netlab_tui.engine.core.journal import Journal
    from netlab_tui.engine.core.sessions import SessionRegistry

    async def main() -> None:
        journal = Journal()  # the default bounds, as `netlab serve` and the TUI use
        registry = SessionRegistry(journal)
        server = await registry.start(server_kinds()["tcp-echo"].create(journal, host="127.0.0.1", port=0))
        await asyncio.get_running_loop().run_in_executor(None, serve_until_told, pipe, server.port)
        await registry.stop_all()

    asyncio.run(main())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_serve(pipe, as_json: bool) -> None:
    """``netlab serve tcp-echo`` itself (its event printer included), its stdout a pipe to ``cat``."""
    import signal
    import subprocess

    from netlab_tui.commands.serve import _serve
    from netlab_tui.engine.core.catalog import server_kinds

    drain = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    os.dup2(drain.stdin.fileno(), 1)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - a pipe: block-buffered
    port = _free_port()

    def report() -> None:
        serve_until_told(pipe, port)
        os.kill(os.getpid(), signal.SIGINT)  # serve's own stop: as Ctrl+C

    async def main() -> None:
        asyncio.get_running_loop().run_in_executor(None, report)
        await _serve(server_kinds()["tcp-echo"], "127.0.0.1", port, {}, as_json)

    asyncio.run(main())
    sys.stdout.flush()
    drain.stdin.close()
    drain.wait()


def run_serve(pipe) -> None:
    _run_serve(pipe, False)


def run_serve_json(pipe) -> None:
    _run_serve(pipe, True)


def from_checkout(target, src: str):
    """``target``, importing netlab from the checkout ``src`` (an older commit, for a same-run comparison)."""
    def run(pipe) -> None:
        sys.path.insert(0, os.path.abspath(src))
        import netlab_tui

        assert netlab_tui.__file__.startswith(os.path.abspath(src)), netlab_tui.__file__
        target(pipe)

    run.__name__ = f"{target.__name__} from {src}"
    return run


class ServerProcess:
    def __init__(self, target) -> None:
        self.pipe, child_end = mp.Pipe()
        self.process = mp.Process(target=target, args=(child_end,), daemon=True)
        self.process.start()
        if not self.pipe.poll(20):
            raise SystemExit(f"{target.__name__} did not start")
        self.port = self.pipe.recv()
        time.sleep(0.5)  # serve binds after it reports its port

    def cpu(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        self.pipe.send("cpu")
        return self.pipe.recv()

    def close(self) -> None:
        self.pipe.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# -- the load --------------------------------------------------------------------------------------------
async def ping_pong(port: int, connections: int, messages: int) -> int:
    async def one() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(messages):
            writer.write(MESSAGE)
            await reader.readexactly(len(MESSAGE))
        writer.close()
        await writer.wait_closed()
        return messages

    return sum(await asyncio.gather(*(one() for _ in range(connections))))


async def short_connections(port: int, total: int, concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(MESSAGE[:16])
            await reader.readexactly(16)
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(one() for _ in range(total)))
    return total


def measure(server: ServerProcess, workload) -> tuple[int, float, float]:
    """(count, wall seconds, server CPU seconds) for one run of ``workload(port)``."""
    time.sleep(0.1)  # let the server finish closing what the last run closed
    cpu0, wall0 = server.cpu(), time.perf_counter()
    count = asyncio.run(workload(server.port))
    wall = time.perf_counter() - wall0
    time.sleep(0.1)
    return count, wall, server.cpu() - cpu0


WORKLOADS = ("one", "many", "short")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10000, help="messages per workload")
    parser.add_argument("--short", type=int, default=1000, help="short connections per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", default=None, metavar="NAMES",
                        help="measure only these against bare, comma-separated: netlab,serve,serve-json "
                             "(default: all; quicker while iterating)")
    parser.add_argument("--old", default=None, metavar="DIR",
                        help="also measure each of them with netlab imported from DIR (a checkout of another "
                             "commit, e.g. `git worktree add /tmp/old main`), as old-netlab …, in the same rounds")
    args = parser.parse_args()
    measured = ("netlab", "serve", "serve-json")
    only = measured if args.only is None else tuple(args.only.split(","))
    if not only or set(only) - set(measured):
        parser.error(f"--only takes names among {','.join(measured)}")
    per_conn = max(1, args.messages // args.connections)
    loads = {
        "one": lambda port: ping_pong(port, 1, args.messages),
        "many": lambda port: ping_pong(port, args.connections, per_conn),
        "short": lambda port: short_connections(port, args.short, 100),
    }

    started = time.perf_counter()
    targets = {"netlab": run_netlab, "serve": run_serve, "serve-json": run_serve_json}
    servers = {"bare": ServerProcess(run_bare)} | {name: ServerProcess(targets[name]) for name in measured
                                                     if name in only}
    if args.old is not None:
        if not os.path.isdir(os.path.join(args.old, "netlab_tui")):
            parser.error(f"--old: no netlab_tui package in {args.old}")
        servers |= {f"old-{name}": ServerProcess(from_checkout(targets[name], args.old)) for name in measured
                    if name in only}
    names = tuple(servers)
    # runs[workload][server] = [(count, wall, cpu), ...]; the two servers alternate within a
    # round (and swap who goes first), so a burst of load from elsewhere hits both alike.
    runs: dict[str, dict[str, list]] = {w: {name: [] for name in names} for w in WORKLOADS}
    try:
        for round_no in range(args.rounds):
            order = names if round_no % 2 == 0 else names[::-1]
            for workload in WORKLOADS:
                for name in order:
                    runs[workload][name].append(measure(servers[name], loads[workload]))
    finally:
        for server in servers.values():
            server.close()

    def cpu_per_item(run) -> float:
        count, _wall, cpu = run
        return cpu / count

    def median_cpu(workload: str, name: str) -> float:
        return statistics.median(cpu_per_item(r) for r in runs[workload][name])

    def median_rate(workload: str, name: str) -> float:
        return statistics.median(count / wall for count, wall, _cpu in runs[workload][name])

    def ratio(workload: str, name: str = "netlab") -> float:  # median of the per-round ratios (paired in time)
        return statistics.median(cpu_per_item(n) / cpu_per_item(b)
                                 for n, b in zip(runs[workload][name], runs[workload]["bare"]))

    print(f"TCP echo server, {len(MESSAGE)}-byte ping-pong messages: {args.messages} on 1 connection, "
          f"{per_conn * args.connections} over {args.connections} connections; {args.short} short connections "
          f"(100 at a time). Medians of {args.rounds} rounds; server CPU = its process's user + system time.")
    print(f"{'server':<14} {'CPU/msg 1 conn':>15} {'CPU/msg ' + str(args.connections) + ' conns':>17} "
          f"{'messages/s':>11} {'CPU/connection':>15} {'connections/s':>14}")
    for name in names:
        print(f"{name:<14} {median_cpu('one', name) * 1e6:>13.1f}us {median_cpu('many', name) * 1e6:>15.1f}us "
              f"{median_rate('many', name):>11,.0f} {median_cpu('short', name) * 1e6:>13.1f}us "
              f"{median_rate('short', name):>14,.0f}")
    if "netlab" in servers:
        rate_ratio = median_rate("short", "netlab") / median_rate("short", "bare")
        print(f"ratio netlab/bare: CPU per message {ratio('one'):.2f}x on 1 connection, {ratio('many'):.2f}x on "
              f"{args.connections} (target <= 1.5x); CPU per connection {ratio('short'):.2f}x; "
              f"connections/s {rate_ratio:.2f}x")
    for name in ("serve", "serve-json"):
        if name not in servers:
            continue
        print(f"ratio `netlab serve tcp-echo{' --json' if name == 'serve-json' else ''}` (every event printed to a "
              f"pipe)/bare: CPU per message {ratio('one', name):.2f}x on 1 connection, {ratio('many', name):.2f}x "
              f"on {args.connections} (target <= 1.5x); CPU per connection {ratio('short', name):.2f}x")
    for name in measured:
        if f"old-{name}" in servers:
            print(f"ratio old-{name}/bare (netlab from {args.old}): CPU per message {ratio('one', 'old-' + name):.2f}x "
                  f"on 1 connection, {ratio('many', 'old-' + name):.2f}x on {args.connections}; CPU per connection "
                  f"{ratio('short', 'old-' + name):.2f}x")
    print(f"({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
