"""Operations: --max-learners refuses a learner too many, --idle-timeout stops an idle learner's netlab."""

from __future__ import annotations

import asyncio
import time

import pytest

from ._class import client_session, learner_pids, login, open_terminal, start_class
from .conftest import start_or_skip


@pytest.fixture(scope="module")
def small_class():
    server = start_or_skip("--max-learners", "1", "--idle-timeout", "0.08")  # about 5 s
    yield server
    server.stop()


async def test_a_full_class_refuses_a_new_name_but_not_a_known_one(small_class):
    async with client_session() as first, client_session() as second, client_session() as again:
        assert (await login(first, small_class.url, "fay", small_class.code)).status == 303
        full = await login(second, small_class.url, "gus", small_class.code)
        assert full.status == 403 and "class is full" in await full.text() and not list(second.cookie_jar)
        assert (await login(again, small_class.url, "Fay", small_class.code)).status == 303


async def test_an_idle_learner_is_stopped_and_can_come_back(small_class):
    async with client_session() as http:
        await login(http, small_class.url, "fay", small_class.code)
        connected = time.monotonic()  # connecting counts as activity: the idle clock starts here
        terminal = await open_terminal(http, small_class.url)
        await terminal.wait_for("Tools", timeout=40)
        assert learner_pids(small_class.directory, "fay")
        await asyncio.wait_for(terminal.closed.wait(), 30)
        assert time.monotonic() - connected > 4.5  # 0.08 min = 4.8 s without a keystroke
        deadline = time.monotonic() + 10
        while learner_pids(small_class.directory, "fay") and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert learner_pids(small_class.directory, "fay") == []
        back = await open_terminal(http, small_class.url)  # a reload: a new netlab for the same learner
        await back.wait_for("Tools", timeout=40)
        await back.close()


@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="as root, learners still get their own uid")
async def test_shared_network_keeps_the_machines_network_but_not_root():
    import os

    server = start_class("--shared-network")
    try:
        async with client_session() as http:
            await login(http, server.url, "hal", server.code)
            terminal = await open_terminal(http, server.url)
            await terminal.wait_for("Tools", timeout=40)
            [pid] = learner_pids(server.directory, "hal")
            assert os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net")
            assert os.stat(f"/proc/{pid}").st_uid not in (0, os.getuid())
            await terminal.close()
    finally:
        server.stop()


async def test_guessing_the_code_is_slowed_down_but_the_class_still_gets_in(small_class):
    async with client_session() as http:
        for _ in range(10):
            assert (await login(http, small_class.url, "fay", "WRONG")).status == 403
        began = time.monotonic()
        slowed = await asyncio.gather(*(login(http, small_class.url, "fay", "WRONG") for _ in range(2)))
        assert [r.status for r in slowed] == [403, 403] and time.monotonic() - began >= 2.0  # one at a time, 1 s each
        assert (await login(http, small_class.url, "fay", small_class.code)).status == 303  # never locked out
