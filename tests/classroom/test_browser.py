"""A real browser (headless Chromium over DevTools) logs in, sees the TUI, types into it and sees the echo."""

from __future__ import annotations

import os
import shutil

import pyte
import pytest

from ._browser import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(not (shutil.which("chromium") or os.path.exists(CHROMIUM)),
                                reason="Debian's chromium is not installed (./dev installs it)")


async def test_browser_logs_in_sees_the_tui_and_its_echo(classroom, tmp_path):
    screen = pyte.Screen(200, 60)
    stream = pyte.ByteStream(screen)

    def text() -> str:
        return "\n".join(screen.display)

    async with chromium() as page:
        page.on_websocket_binary(stream.feed)
        await page.call("Page.navigate", url=classroom.url + "/")
        await page.wait_until("document.getElementById('code') !== null")
        await page.evaluate(f"""(() => {{
            document.getElementById('name').value = 'zoe';
            document.getElementById('code').value = '{classroom.code}';
            document.querySelector('form').submit(); return true; }})()""")
        await page.wait_until("location.pathname === '/app' && document.querySelector('.xterm-helper-textarea') !== null")
        # The cookie is HttpOnly: the page's own script cannot read it.
        assert await page.evaluate("document.cookie") == ""
        await page.wait_until("document.body.classList.contains('-first-byte')", timeout=40)
        await _until(lambda: "Tools" in text())
        await page.evaluate("document.querySelector('.xterm-helper-textarea').focus(), true")
        await page.key("p", "KeyP", 80, modifiers=2)  # Ctrl+P: netlab's command palette
        await _until(lambda: "🔎" in text())
        await page.call("Input.insertText", text="typed-in-chromium")
        await _until(lambda: "typed-in-chromium" in text())
        await page.screenshot(tmp_path / "browser.png")
        if os.environ.get("NETLAB_KEEP_SCREENSHOT"):
            shutil.copy(tmp_path / "browser.png", os.environ["NETLAB_KEEP_SCREENSHOT"])
        assert (tmp_path / "browser.png").stat().st_size > 10_000


async def _until(condition, timeout: float = 30.0) -> None:
    import asyncio

    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.1)
