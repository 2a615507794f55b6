"""What every Pilot test needs: the terminal size of the issue text and a bounded wait."""

from __future__ import annotations

import asyncio

SIZE = (140, 42)  # a real terminal's size: the "done when" of the foundation draws at 140x42


async def wait_for(pilot, condition, timeout=30.0, what="condition"):
    """Pause the app until ``condition()`` is true; fail after ``timeout`` seconds (generous: a loaded CI)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def settle(pilot):
    """Let the app finish starting before driving it."""
    await pilot.pause()
    await pilot.pause()


async def click_button(pilot, selector: str) -> None:
    """Click a button as a person does: not while it still shows the last click (a Button ignores clicks
    for the 0.2 s it looks pressed)."""
    await wait_for(pilot, lambda: not pilot.app.query_one(selector).has_class("-active"),
                   what=f"{selector} to be released")
    assert await pilot.click(selector)
