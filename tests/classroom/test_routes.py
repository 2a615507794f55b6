"""Every route of ``netlab class`` and every refusal, against a real class server and real learner netlabs."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time

import aiohttp
import pytest

from netlab_tui.classroom import auth
from netlab_tui.labs.progress import ProgressStore

from ._class import client_session, learner_pids, login, open_terminal


async def test_login_page_and_wrong_code(classroom):
    async with client_session() as http:
        page = await http.get(classroom.url + "/")
        assert page.status == 200 and 'name="code"' in await page.text()
        wrong = await login(http, classroom.url, "eve", "NOPE")
        assert wrong.status == 403
        assert "wrong class code" in await wrong.text()
        assert "Set-Cookie" not in wrong.headers and not list(http.cookie_jar)
        bad_name = await login(http, classroom.url, "bad name/..", classroom.code)
        assert bad_name.status == 400 and not list(http.cookie_jar)


async def test_every_route_refuses_without_cookie(classroom):
    async with client_session() as http:
        for path in ("/app", "/static/js/textual.js", "/download/x", "/ws", "/anything"):
            response = await http.get(classroom.url + path)
            assert response.status == 401, path
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(classroom.url.replace("http", "ws") + "/ws")
        assert refused.value.status == 401
        for path in ("/teacher", "/teacher/progress.json"):
            assert (await http.get(classroom.url + path)).status == 401, path


async def test_forged_and_tampered_cookies_are_refused(classroom):
    forged = auth.CookieSigner("not the secret", classroom.code, "x").sign("learner", "alice")
    async with client_session() as http:
        await login(http, classroom.url, "mallory", classroom.code)
        good = next(c.value for c in http.cookie_jar if c.key == auth.LEARNER_COOKIE)
        payload, mac = good.split(".")
        tampered = auth._b64(json.dumps({"r": "learner", "n": "alice", "t": 0}).encode()) + "." + mac
        for value in (forged, tampered, "garbage", good + "x"):
            http.cookie_jar.clear()
            http.cookie_jar.update_cookies({auth.LEARNER_COOKIE: value}, response_url=aiohttp.client.URL(classroom.url))
            assert (await http.get(classroom.url + "/app")).status == 403, value
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(classroom.url.replace("http", "ws") + "/ws")
            assert refused.value.status == 403


async def test_login_sets_httponly_cookie_and_opens_the_terminal_page(classroom):
    async with client_session() as http:
        response = await login(http, classroom.url, "Alice", classroom.code.lower())
        assert response.status == 303 and response.headers["Location"] == "/app"
        cookie = response.cookies[auth.LEARNER_COOKIE]
        assert cookie["httponly"] and cookie["path"] == "/"
        page = await http.get(classroom.url + "/app")
        assert page.status == 200
        assert f'data-session-websocket-url="{classroom.url.replace("http", "ws")}/ws"' in await page.text()
        assert (await http.get(classroom.url + "/static/js/textual.js")).status == 200
        # Back to the login page with a valid cookie: straight to the terminal.
        again = await http.get(classroom.url + "/", allow_redirects=False)
        assert again.status == 303 and again.headers["Location"] == "/app"
    home = classroom.directory / "learners" / "alice"
    assert json.loads((home / "learner.json").read_text())["name"] == "Alice"
    if os.geteuid() == 0:
        info = home.stat()
        assert info.st_uid != 0 and stat.S_IMODE(info.st_mode) == 0o700


async def test_learner_cookie_does_not_open_teacher_routes(classroom):
    async with client_session() as http:
        await login(http, classroom.url, "bob", classroom.code)
        for path in ("/teacher", "/teacher/progress.json"):
            assert (await http.get(classroom.url + path)).status == 403, path
        wrong = await http.post(classroom.url + "/teacher/login", data={"password": "guess"}, allow_redirects=False)
        assert wrong.status == 403 and auth.TEACHER_COOKIE not in wrong.cookies
        forged = auth.CookieSigner("not the secret", classroom.code, classroom.password).sign("teacher")
        as_learner = next(c.value for c in http.cookie_jar if c.key == auth.LEARNER_COOKIE)
        for value in (forged, as_learner, "garbage"):
            http.cookie_jar.update_cookies({auth.TEACHER_COOKIE: value}, response_url=aiohttp.client.URL(classroom.url))
            for path in ("/teacher", "/teacher/progress.json"):
                assert (await http.get(classroom.url + path)).status == 403, (path, value)


async def test_cross_origin_websocket_is_refused(classroom):
    async with client_session() as http:
        await login(http, classroom.url, "carol", classroom.code)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(classroom.url.replace("http", "ws") + "/ws", origin="http://evil.example")
        assert refused.value.status == 403


async def test_websocket_session_gets_the_tui_types_and_resumes_in_another_browser(classroom):
    """A learner's first screen, an echo of typing, a reload that replaces the netlab, and an end that kills it."""
    async with client_session() as first, client_session() as second:
        await login(first, classroom.url, "dora", classroom.code)
        terminal = await open_terminal(first, classroom.url)
        await terminal.wait_for("Tools", timeout=40)
        await terminal.type("\x10")  # Ctrl+P: the command palette, whose input echoes what is typed
        await terminal.wait_for("🔎", timeout=10)
        await terminal.type("dora-was-here")
        await terminal.wait_for("dora-was-here", timeout=10)
        pids = learner_pids(classroom.directory, "dora")
        assert len(pids) == 1
        environ = open(f"/proc/{pids[0]}/environ", "rb").read().split(b"\0")
        home = str(classroom.directory / "learners" / "dora").encode()
        assert b"HOME=" + home in environ and b"NETLAB_STATE_DIR=" + home in environ

        # Dora passes a lab's first step (her netlab records it in her own progress store).
        progress = ProgressStore(classroom.directory / "learners" / "dora" / "progress.json")
        progress.mark_passed("tcp-first-exchange", "hello")
        owner = os.stat(classroom.directory / "learners" / "dora")
        for file in progress.path.parent.glob("progress.json*"):
            os.chown(file, owner.st_uid, owner.st_gid)

        # The same learner from another browser: the first terminal ends, the new one gets a fresh netlab
        # with the same home, and her Labs pane shows where she was.
        await login(second, classroom.url, "DORA", classroom.code)
        again = await open_terminal(second, classroom.url)
        await asyncio.wait_for(terminal.closed.wait(), 20)
        await again.wait_for("Tools", timeout=40)
        now = learner_pids(classroom.directory, "dora")
        assert len(now) == 1 and now != pids
        assert not os.path.exists(f"/proc/{pids[0]}")
        await again.type("\x1b[F")  # End: the last tool, Labs
        await again.wait_for("1/3", timeout=20)
        await again.close()
        deadline = time.monotonic() + 15
        while learner_pids(classroom.directory, "dora") and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert learner_pids(classroom.directory, "dora") == []


async def test_teacher_dashboard_and_progress_json_follow_a_step_within_two_seconds(classroom):
    async with client_session() as learner, client_session() as teacher:
        await login(learner, classroom.url, "erin", classroom.code)
        login_page = await teacher.get(classroom.url + "/teacher")
        assert login_page.status == 401 and 'name="password"' in await login_page.text()
        response = await teacher.post(classroom.url + "/teacher/login", data={"password": classroom.password},
                                      allow_redirects=False)
        assert response.status == 303 and response.cookies[auth.TEACHER_COOKIE]["httponly"]
        page = await teacher.get(classroom.url + "/teacher")
        assert page.status == 200 and "/teacher/progress.json" in await page.text()
        data = await (await teacher.get(classroom.url + "/teacher/progress.json")).json()
        erin = next(item for item in data["learners"] if item["key"] == "erin")
        assert erin["labs"] == {} and erin["online"] is False
        lab = data["labs"][0]
        assert lab["steps"]

        # What the learner's netlab does when a step passes: their own progress store, in their home.
        store = ProgressStore(classroom.directory / "learners" / "erin" / "progress.json")
        store.set_current(lab["id"], lab["steps"][1]["id"])
        store.set_hints(lab["id"], lab["steps"][1]["id"], 2)
        passed_at = time.monotonic()
        store.mark_passed(lab["id"], lab["steps"][0]["id"])
        while True:
            data = await (await teacher.get(classroom.url + "/teacher/progress.json")).json()
            record = next(item for item in data["learners"] if item["key"] == "erin")["labs"].get(lab["id"])
            if record and record["passed"] == [lab["steps"][0]["id"]]:
                break
            assert time.monotonic() - passed_at < 2.0
            await asyncio.sleep(0.2)
        assert record["current"] == lab["steps"][1]["id"] and record["hints_used"] == 2
        # The learner's cookie still opens nothing of the teacher's.
        assert (await learner.get(classroom.url + "/teacher/progress.json")).status == 403
        # The dashboard's Log out button.
        out = await teacher.post(classroom.url + "/teacher/logout", allow_redirects=False)
        assert out.status == 303
        assert (await teacher.get(classroom.url + "/teacher/progress.json")).status == 401


def test_class_secrets_file_is_private(classroom):
    path = classroom.directory / "class.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["teacher_password"] == classroom.password and data["code"] == classroom.code
