"""Requests per second of netlab's HTTP server (journaling every exchange) against Python's
``ThreadingHTTPServer`` serving the same JSON, with 50 keep-alive clients, in the same run.

Each server runs in its own process; the load comes from a third process (asyncio protocols, one
request in flight per connection). Figures: requests/s for each, and the ratios. Under a minute on 2 cores.

The baseline (the issue's goal: netlab >= 2x it while journaling every exchange) is ``ThreadingHTTPServer``
with an HTTP/1.1 handler as it is usually written: headers and body in two writes, so Nagle's algorithm
and delayed ACKs stall each keep-alive response. For information, the same handler tuned with
``disable_nagle_algorithm = True`` is measured too. netlab answers in one write and needs no such tuning.
The netlab server counts the responses its journal recorded, to show that none was skipped.

    .venv/bin/python benchmarks/bench_http_server.py [--clients 50] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

PAYLOAD = json.dumps({"id": 7, "name": "alice", "status": "online", "tags": ["lab", "http"]}).encode() + b"\n"


# -- the servers (each in a child process; the port goes back through a queue) ---------------------------
def run_baseline(queue: mp.Queue, nodelay: bool = True) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as netlab's server does
        # Headers and body leave in two writes; without TCP_NODELAY, Nagle plus delayed ACKs stall
        # each keep-alive response ~40 ms. Measured both ways: as usually written, and tuned.
        disable_nagle_algorithm = nodelay

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address) -> None:
            pass  # the load generator resets its connections at the end

    server = Server(("127.0.0.1", 0), Handler)
    queue.put(server.server_address[1])
    server.serve_forever()


def run_netlab(queue: mp.Queue) -> None:
    from netlab_tui.engine.core.journal import Journal
    from netlab_tui.engine.http.server import HttpApp, HttpResponse, HttpServer

    class BenchApp(HttpApp):
        kind = "http-bench"

        def __init__(self) -> None:
            super().__init__()
            self.router.add("/data", "GET", self.data)

        async def data(self, request) -> HttpResponse:
            return HttpResponse(200, PAYLOAD, "application/json")

    async def main() -> None:
        journal = Journal()
        journaled = [0]
        journal.subscribe(lambda event: journaled.__setitem__(0, journaled[0] + 1), lambda e: e.kind == "response")
        server = HttpServer(journal, BenchApp(), "127.0.0.1", 0)
        await server.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        queue.put((server.port, os.getpid()))
        try:
            await stop.wait()
        finally:
            await server.stop()
            queue.put(("journaled", journaled[0]))

    asyncio.run(main())


# -- the load ---------------------------------------------------------------------------------------------
class KeepAliveClient(asyncio.Protocol):
    """Sends the request again as soon as a whole response has arrived."""

    def __init__(self, request: bytes, counter: list[int]) -> None:
        self.request = request
        self.counter = counter
        self.buffer = bytearray()
        self.need: int | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                start = head.find(b"content-length:")
                length = int(head[start + 15:].split(b"\r\n", 1)[0])
                self.need = end + 4 + length
            if len(self.buffer) < self.need:
                return
            del self.buffer[:self.need]
            self.need = None
            self.counter[0] += 1
            assert self.transport is not None
            self.transport.write(self.request)


def load(port: int, path: str, clients: int, seconds: float, queue: mp.Queue) -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        counter = [0]
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n".encode()
        transports = []
        for _ in range(clients):
            transport, _ = await loop.create_connection(lambda: KeepAliveClient(request, counter), "127.0.0.1", port)
            transports.append(transport)
        await asyncio.sleep(0.5)  # warm up
        start, first = time.perf_counter(), counter[0]
        await asyncio.sleep(seconds)
        done = counter[0] - first
        elapsed = time.perf_counter() - start
        for transport in transports:
            transport.close()
        return int(done / elapsed), counter[0]

    queue.put(asyncio.run(main()))


def run_baseline_as_usually_written(queue: mp.Queue) -> None:
    run_baseline(queue, nodelay=False)


def measure(target, path: str, clients: int, seconds: float) -> tuple[float, int, int | None]:
    """(requests/s, responses the clients received in all, responses the server journaled or None)."""
    queue: mp.Queue = mp.Queue()
    server = mp.Process(target=target, args=(queue,), daemon=True)
    server.start()
    info = queue.get(timeout=20)
    port = info[0] if isinstance(info, tuple) else info
    loader = mp.Process(target=load, args=(port, path, clients, seconds, queue))
    loader.start()
    rate, received = queue.get(timeout=seconds + 30)
    loader.join()
    server.terminate()
    journaled = None
    if isinstance(info, tuple):  # netlab's server reports its journal on the way out
        _tag, journaled = queue.get(timeout=20)
    server.join()
    return rate, received, journaled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"{args.clients} keep-alive clients, {args.seconds:g} s each, {os.cpu_count()} CPUs, "
          f"{len(PAYLOAD)}-byte JSON body")
    usual, _, _ = measure(run_baseline_as_usually_written, "/data", args.clients, args.seconds)
    print(f"baseline: ThreadingHTTPServer, HTTP/1.1 handler as usually written: {usual:8.0f} req/s")
    ours, received, journaled = measure(run_netlab, "/data", args.clients, args.seconds)
    print(f"netlab HttpServer (h11), journaling every exchange:                 {ours:8.0f} req/s")
    print(f"  journal: {journaled:,} responses recorded; the clients received {received:,}")
    ratio = ours / usual
    print(f"RATIO netlab / baseline: {ratio:.2f}x  (goal >= 2x: {'met' if ratio >= 2 else 'NOT met'})")
    tuned, _, _ = measure(run_baseline, "/data", args.clients, args.seconds)
    print(f"for information: the baseline tuned with TCP_NODELAY:                {tuned:8.0f} req/s "
          f"(netlab / tuned: {ours / tuned:.2f}x)")


if __name__ == "__main__":
    main()
