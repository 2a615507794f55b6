"""Helpers for the class tests: a real ``netlab class`` process and a learner driving it over the websocket."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pyte

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def screen_text(data: bytes) -> str:
    """The characters a terminal would show, escape sequences removed (rows run together)."""
    return ANSI.sub(b"", data).decode("utf-8", "replace")


class ClassRefused(RuntimeError):
    """``netlab class`` did not start (e.g. no network namespaces for learners here)."""


@dataclass
class ClassProcess:
    process: subprocess.Popen
    url: str
    code: str
    password: str
    directory: Path
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process.stdout.close()
        shutil.rmtree(self.directory.parent, ignore_errors=True)


def start_class(*extra: str, code: str = "TESTCODE") -> ClassProcess:
    """``netlab class`` on a free port, in a fresh class folder; returns once it answers."""
    base = Path(tempfile.mkdtemp(prefix="netlab-class-test-"))
    log = base / "server.log"
    port = free_port()
    directory = base / "class"
    process = subprocess.Popen(
        [sys.executable, "-m", "netlab_tui", "class", "--port", str(port), "--dir", str(directory),
         "--code", code, *extra],
        stdout=subprocess.PIPE, stderr=open(log, "wb"), text=True)
    lines = [process.stdout.readline() for _ in range(3)]
    if not all(lines):
        process.wait(20)
        problem = log.read_text(errors="replace").strip()
        shutil.rmtree(base, ignore_errors=True)
        raise ClassRefused(problem or f"netlab class exited with status {process.returncode}")
    password = next((m.group(1) for line in lines if (m := re.search(r"password (\S+)", line))), "")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return ClassProcess(process, url, code, password, directory, log)


async def login(session: aiohttp.ClientSession, url: str, name: str, code: str) -> aiohttp.ClientResponse:
    return await session.post(f"{url}/login", data={"name": name, "code": code}, allow_redirects=False)


class Learner:
    """A learner's terminal over the websocket: everything the TUI sent so far, and typing."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, width: int = 80, height: int = 24) -> None:
        self.ws = ws
        self.received = bytearray()
        self.screen = pyte.Screen(width, height)
        self._stream = pyte.ByteStream(self.screen)
        self._fed = 0  # bytes of ``received`` the emulator has seen: it is fed when the screen is read
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self._changed = asyncio.Event()

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.received += message.data
                self._changed.set()
        self.closed.set()
        self._changed.set()

    def text(self) -> str:
        if self._fed < len(self.received):
            self._stream.feed(bytes(self.received[self._fed:]))
            self._fed = len(self.received)
        return "\n".join(self.screen.display)

    async def wait_for_output(self, text: str, timeout: float = 30.0) -> float:
        """Seconds until ``text`` is in the output, escape sequences removed: cheaper than the emulator, and
        enough for a first screen (drawn whole), not for updates (drawn as differences)."""
        began = time.perf_counter()
        async with asyncio.timeout(timeout):
            while text not in screen_text(bytes(self.received)):
                if self.closed.is_set():
                    raise AssertionError(f"session closed before {text!r} showed")
                self._changed.clear()
                await self._changed.wait()
        return time.perf_counter() - began

    async def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """Seconds until ``text`` shows on the screen."""
        began = time.perf_counter()
        async with asyncio.timeout(timeout):
            while text not in self.text():
                if self.closed.is_set():
                    raise AssertionError(f"session closed before {text!r} showed")
                self._changed.clear()
                await self._changed.wait()
        return time.perf_counter() - began

    async def type(self, text: str) -> None:
        await self.ws.send_json(["stdin", text])

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def open_terminal(session: aiohttp.ClientSession, url: str, width: int = 80, height: int = 24) -> Learner:
    ws = await session.ws_connect(f"{url.replace('http', 'ws', 1)}/ws?width={width}&height={height}")
    await ws.send_json(["resize", {"width": width, "height": height}])
    return Learner(ws, width, height)


def learner_pids(directory: Path, name: str) -> list[int]:
    """Processes whose environment names this learner (NETLAB_LEARNER)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                env = Path(entry.path, "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"NETLAB_LEARNER={name}".encode() in env and b"-m" in Path(entry.path, "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def client_session() -> aiohttp.ClientSession:
    """A client that keeps cookies set by an IP-address host (127.0.0.1), as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
