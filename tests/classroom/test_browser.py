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


async def test_teacher_dashboard_in_a_browser_shows_a_passed_step_within_two_seconds(classroom):
    import time

    from netlab_tui.labs.progress import ProgressStore

    from ._class import client_session, login

    async with client_session() as http:
        await login(http, classroom.url, "yann", classroom.code)
    async with chromium() as page:
        await page.call("Page.navigate", url=classroom.url + "/teacher")
        await page.wait_until("document.getElementById('password') !== null")
        await page.evaluate(f"""(() => {{ document.getElementById('password').value = '{classroom.password}';
            document.querySelector('form').submit(); return true; }})()""")
        await page.wait_until("document.querySelector('#grid tr[data-learner=\"yann\"]') !== null")
        store = ProgressStore(classroom.directory / "learners" / "yann" / "progress.json")
        store.set_current("udp-datagrams", "hello")
        passed = time.monotonic()
        store.mark_passed("udp-datagrams", "hello")
        await page.wait_until("document.querySelectorAll('#grid tr[data-learner=\"yann\"] .s.p').length === 1",
                              timeout=2.0)
        assert time.monotonic() - passed < 2.0
        headers = await page.evaluate("[...document.querySelectorAll('#grid th.lab')].map(th => th.textContent)")
        assert "udp-datagrams" in headers
