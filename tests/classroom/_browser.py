"""A real headless Chromium driven over the DevTools protocol (a websocket), for the class's browser test."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import aiohttp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


class Page:
    """One tab: ``call`` sends a DevTools command, events are queued by name for ``wait_event``."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self.listeners: list = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._pending:
                self._pending.pop(data["id"]).set_result(data)
            else:
                for listener in self.listeners:
                    listener(data.get("method"), data.get("params", {}))

    async def call(self, method: str, **params) -> dict:
        number = next(self._ids)
        future = self._pending[number] = asyncio.get_running_loop().create_future()
        await self.ws.send_json({"id": number, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    async def wait_until(self, expression: str, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not await self.evaluate(expression):
                await asyncio.sleep(0.1)

    def on_websocket_binary(self, callback) -> None:
        """``callback(bytes)`` for every binary frame the page's websockets receive (the TUI's output)."""
        def listener(method, params):
            if method == "Network.webSocketFrameReceived" and params["response"].get("opcode") == 2:
                callback(base64.b64decode(params["response"]["payloadData"]))
        self.listeners.append(listener)

    async def key(self, key: str, code: str, keycode: int, modifiers: int = 0) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            await self.call("Input.dispatchKeyEvent", type=kind, key=key, code=code, modifiers=modifiers,
                            windowsVirtualKeyCode=keycode, nativeVirtualKeyCode=keycode)

    async def screenshot(self, path: Path) -> None:
        data = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))


@contextlib.asynccontextmanager
async def chromium(width: int = 1280, height: int = 800):
    """A fresh headless Chromium (empty profile) and its first tab, closed afterwards."""
    profile = tempfile.mkdtemp(prefix="netlab-chromium-")
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank",
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        async with asyncio.timeout(30):
            while True:
                line = (await process.stderr.readline()).decode()
                if not line:
                    raise RuntimeError("chromium exited before its DevTools address")
                if match := re.search(r"DevTools listening on ws://([^/]+)/", line):
                    address = match.group(1)
                    break
        drain = asyncio.create_task(process.stderr.read())
        async with aiohttp.ClientSession() as http:
            targets = await (await http.get(f"http://{address}/json/list")).json()
            target = next(t for t in targets if t["type"] == "page")
            ws = await http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
            page = Page(ws)
            await page.call("Page.enable")
            await page.call("Network.enable")
            await page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                            deviceScaleFactor=1, mobile=False)
            try:
                yield page
            finally:
                await ws.close()
                drain.cancel()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        shutil.rmtree(profile, ignore_errors=True)
