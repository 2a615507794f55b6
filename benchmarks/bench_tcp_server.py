"""netlab's TCP echo server (journal recording every chunk) against a bare asyncio streams echo server.

Each server runs alone in a child process; this process is the load. Two workloads, same for both:

- **messages**: one connection, then 50 at once, each sending 64-byte messages one at a time and
  waiting for the echo; figure: server CPU (user+system, from the kernel's accounting of the child) per
  echoed message. With one connection every message costs the server a full wake-up; with 50, a
  server that answers slower finds more messages per wake-up, so the two figures bracket the cost.
- **connections**: 2,000 short connections, 100 at a time: connect, send 16 bytes, read the echo, close;
  figures: connections handled per second (wall clock) and server CPU per connection.

Each workload runs twice per server, alternating, and the better round counts (the machine is shared).
The foundation's target: netlab spends at most 1.5x the CPU per message of the bare server.

    .venv/bin/python benchmarks/bench_tcp_server.py [--connections 50] [--messages 1000] [--short 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

MESSAGE = b"0123456789abcdef" * 4  # 64 bytes, a line of the course


# -- the servers (child processes; the port goes back through a queue, a stop event ends them) --------
def run_bare(queue: mp.Queue, stop: mp.Event) -> None:
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
        queue.put(server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        server.close()

    asyncio.run(main())


def run_netlab(queue: mp.Queue, stop: mp.Event) -> None:
    from netlab_tui.engine.catalog import server_kinds
    from netlab_tui.engine.journal import Journal
    from netlab_tui.engine.sessions import SessionRegistry

    async def main() -> None:
        journal = Journal()  # the default bounds, as `netlab serve` and the TUI use
        registry = SessionRegistry(journal)
        server = await registry.start(server_kinds()["tcp-echo"].create(journal, host="127.0.0.1", port=0))
        queue.put(server.port)
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        await registry.stop_all()

    asyncio.run(main())


class ServerProcess:
    def __init__(self, target) -> None:
        self.queue: mp.Queue = mp.Queue()
        self.stop_event = mp.Event()
        self.process = mp.Process(target=target, args=(self.queue, self.stop_event), daemon=True)
        self.process.start()
        self.port = self.queue.get(timeout=20)

    def cpu(self) -> tuple[float, float]:
        """(user, system) CPU seconds the child has used so far (/proc/PID/stat, in clock ticks)."""
        with open(f"/proc/{self.process.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def close(self) -> None:
        self.stop_event.set()
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


def measure(server: ServerProcess, workload) -> tuple[int, float, float, float]:
    """(count, wall seconds, server user CPU, server system CPU) for one run of ``workload(port)``."""
    time.sleep(0.2)  # let the child settle (imports, first accept)
    (user0, sys0), wall0 = server.cpu(), time.perf_counter()
    count = asyncio.run(workload(server.port))
    wall = time.perf_counter() - wall0
    time.sleep(0.3)  # the server finishes closing what the clients closed; clock ticks are 10 ms
    user1, sys1 = server.cpu()
    return count, wall, user1 - user0, sys1 - sys0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--messages", type=int, default=1000, help="per connection")
    parser.add_argument("--short", type=int, default=2000, help="short connections")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    results: dict[str, dict[str, list]] = {name: {"one": [], "msg": [], "conn": []} for name in ("bare", "netlab")}
    started = time.perf_counter()
    for _round in range(args.rounds):
        for name, target in (("bare", run_bare), ("netlab", run_netlab)):
            server = ServerProcess(target)
            try:
                results[name]["one"].append(measure(
                    server, lambda port: ping_pong(port, 1, args.messages * 10)))
                results[name]["msg"].append(measure(
                    server, lambda port: ping_pong(port, args.connections, args.messages)))
                results[name]["conn"].append(measure(
                    server, lambda port: short_connections(port, args.short, 100)))
            finally:
                server.close()

    def best_cpu_per_item(runs):  # the least-disturbed round
        return min((user + system) / count for count, _wall, user, system in runs)

    def best_user_per_item(runs):  # Python's own work, without the kernel's share (socket calls)
        return min(user / count for count, _wall, user, _system in runs)

    def best_rate(runs):
        return max(count / wall for count, wall, _user, _system in runs)

    print(f"TCP echo server: ping-pong messages of {len(MESSAGE)} B, 1 connection x {args.messages * 10} and "
          f"{args.connections} connections x {args.messages}; {args.short} short connections (100 at a time); "
          f"best of {args.rounds} rounds")
    print(f"{'server':<8} {'CPU/msg (1 conn)':>17} {'user part':>10} {'CPU/msg (' + str(args.connections) + ' conns)':>19} "
          f"{'messages/s':>11} {'CPU/connection':>15} {'connections/s':>14}")
    for name in ("bare", "netlab"):
        one, msg, conn = results[name]["one"], results[name]["msg"], results[name]["conn"]
        print(f"{name:<8} {best_cpu_per_item(one) * 1e6:>15.1f}us {best_user_per_item(one) * 1e6:>8.1f}us "
              f"{best_cpu_per_item(msg) * 1e6:>17.1f}us "
              f"{best_rate(msg):>11,.0f} {best_cpu_per_item(conn) * 1e6:>13.1f}us {best_rate(conn):>14,.0f}")
    one_ratio = best_cpu_per_item(results["netlab"]["one"]) / best_cpu_per_item(results["bare"]["one"])
    msg_ratio = best_cpu_per_item(results["netlab"]["msg"]) / best_cpu_per_item(results["bare"]["msg"])
    conn_ratio = best_cpu_per_item(results["netlab"]["conn"]) / best_cpu_per_item(results["bare"]["conn"])
    rate_ratio = best_rate(results["netlab"]["conn"]) / best_rate(results["bare"]["conn"])
    print(f"ratio netlab/bare: CPU per message {one_ratio:.2f}x with 1 connection, {msg_ratio:.2f}x with "
          f"{args.connections} (target <= 1.5x), "
          f"CPU per connection {conn_ratio:.2f}x, connections/s {rate_ratio:.2f}x")
    print(f"({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
