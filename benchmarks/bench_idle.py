"""An idle netlab: CPU in a real terminal, and bytes sent to a browser by ``netlab web``, against a bare
Textual app measured the same way in the same run.

- **terminal**: ``netlab`` (no server, no traffic) in a tmux 80x24 terminal; after the first screen and a
  settling time, the process's CPU (user + system from /proc) over ``--seconds`` (default 10), as % of a
  core. Target: <= 1 %.
- **browser**: ``netlab web`` on a free port and a websocket client on loopback, as the browser page
  connects (``/ws?width=..&height=..``); after the first screen and the same settling time, the bytes the
  session sends over ``--seconds``. Target: nothing. (textual-serve's websocket heartbeat, a ping every
  15 s, is a control frame, not counted.)

``--before DIR`` also measures the netlab in DIR (a checkout or ``git archive`` of an older commit, run
with ``PYTHONPATH=DIR``) in the same run.

    .venv/bin/python benchmarks/bench_idle.py [--seconds 10] [--settle 8] [--before DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("bare app ready")
Bare().run()
"""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its threads, from /proc (10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def python_pid(pid: int) -> int:
    """The python process under the pane's shell (``sh -c`` may or may not exec it)."""
    for _ in range(5):
        if "python" in Path(f"/proc/{pid}/comm").read_text():
            return pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            break
        pid = int(children[0])
    raise SystemExit(f"no python process under pane pid {pid}")


def idle_cpu(command: str, marker: str, settle: float, seconds: float) -> float:
    session = f"netlab-idle-{os.getpid()}-{time.monotonic_ns()}"
    for attempt in range(5):  # the tmux server may be exiting with the last session killed: try again
        if subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command]).returncode == 0:
            break
        time.sleep(0.3)
    try:
        deadline = time.monotonic() + 30
        while marker not in tmux("capture-pane", "-p", "-t", session):
            if time.monotonic() > deadline:
                raise SystemExit(f"never saw {marker!r}")
            time.sleep(0.05)
        pid = python_pid(int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0]))
        time.sleep(settle)
        before, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        return (cpu_seconds(pid) - before) / (time.monotonic() - t0) * 100
    finally:
        tmux("kill-session", "-t", session)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def web_idle_bytes(command: list[str], settle: float, seconds: float, env=None) -> tuple[int, int]:
    """(bytes of the first ``settle`` seconds, bytes of the next ``seconds``) sent to one browser session."""
    import aiohttp

    port = free_port()
    proc = subprocess.Popen([*command, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            async with http.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24", autoping=True) as ws:
                counts = [0, 0]
                phase = 0
                loop = asyncio.get_running_loop()
                start = loop.time()
                while (now := loop.time() - start) < settle + seconds:
                    phase = 0 if now < settle else 1
                    try:
                        message = await asyncio.wait_for(ws.receive(), settle + seconds - now)
                    except TimeoutError:
                        break
                    if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                        data = message.data
                        counts[0 if loop.time() - start < settle else 1] += len(data)
                    elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
                del phase
                return counts[0], counts[1]
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=8.0, help="after the first screen (the heap keeper "
                        "settles, freezes and cleans up in the first seconds)")
    parser.add_argument("--before", metavar="DIR", help="also measure the netlab package found in DIR")
    args = parser.parse_args()
    netlabs = {"netlab": None}
    if args.before:
        netlabs["netlab before"] = {**os.environ, "PYTHONPATH": os.path.abspath(args.before)}
    cpu: dict[str, float] = {}
    web: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        cpu["bare Textual app"] = idle_cpu(f"{sys.executable} {bare}", "bare app ready", args.settle, args.seconds)
        for name, env in netlabs.items():
            prefix = f"env PYTHONPATH={env['PYTHONPATH']} " if env else ""
            cpu[name] = idle_cpu(f"{prefix}{sys.executable} -m netlab_tui", "sessions", args.settle, args.seconds)
        serve = ("import sys; from textual_serve.server import Server; "
                 "Server(sys.argv[1], port=int(sys.argv[2])).serve()")
        web["bare Textual app"] = asyncio.run(web_idle_bytes(
            [sys.executable, "-c", serve, f"{sys.executable} {bare}"], args.settle, args.seconds))
        for name, env in netlabs.items():  # `netlab web` itself
            web[name] = asyncio.run(web_idle_bytes([sys.executable, "-m", "netlab_tui", "web", "--port"],
                                                   args.settle, args.seconds, env))
    print(f"idle in a tmux 80x24 terminal, CPU over {args.seconds:g} s after {args.settle:g} s of settling:")
    for name, value in cpu.items():
        print(f"  {name:<17} {value:5.2f} % of a core" + ("  (target <= 1 %)" if name == "netlab" else ""))
    print(f"idle browser session (80x24), bytes sent: first screen + {args.settle:g} s / next {args.seconds:g} s:")
    for name, (first, idle) in web.items():
        print(f"  {name:<17} {first:8,} / {idle:,} B" + ("  (target: nothing after the first screen)"
                                                        if name == "netlab" else ""))


if __name__ == "__main__":
    main()
