"""The class server: textual-serve's ``Server`` with logins, one isolated netlab per learner, and a dashboard.

Routes (every one but the login pages needs a valid signed cookie; no tokens in URLs):

``GET /`` learner login · ``POST /login`` (name, code) → cookie, 303 to ``/app`` · ``POST /logout`` ·
``GET /app`` the terminal page · ``GET /ws`` the learner's netlab · ``GET /static/…``, ``/download/{key}`` ·
``GET /teacher`` dashboard (login form with 401 without the teacher cookie) · ``POST /teacher/login``
(password) · ``GET /teacher/progress.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from . import auth, pages
from .dashboard import LearnerInfo, class_progress, lab_outline
from .isolation import Isolation, process_group_kill

log = logging.getLogger("netlab.class")


@dataclass
class ClassConfig:
    directory: Path
    host: str = "127.0.0.1"
    port: int = 8000
    code: str | None = None
    max_learners: int = 30
    public_url: str | None = None
    idle_timeout: float = 3600.0  # seconds without a keystroke before a learner's netlab is stopped
    start_slots: int = 0  # netlab processes starting at once (0: one per CPU, at least 2)
    start_timeout: float = 60.0


class LearnerService(AppService):
    """textual-serve's app process, started as this learner: own home, environment, namespace, process group."""

    def __init__(self, argv: list[str], env: dict[str, str], *, on_input, **kwargs) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv, self.env, self.on_input = argv, env, on_input
        self.first_screen = asyncio.Event()
        self.pid: int | None = None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width, height)
        # Only what a learner's netlab needs: nothing of the server's own environment leaks to learners.
        keep = {k: env[k] for k in ("TEXTUAL_DRIVER", "TEXTUAL_FPS", "TEXTUAL_COLOR_SYSTEM", "TERM_PROGRAM",
                                     "TERM_PROGRAM_VERSION", "COLUMNS", "ROWS") if k in env}
        return {**keep, **self.env}

    async def _open_app_process(self, width: int = 80, height: int = 24):
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self._build_environment(width, height),
            start_new_session=True, cwd="/")
        self._stdin = process.stdin
        self.pid = process.pid
        return process

    async def on_data(self, payload: bytes) -> None:
        self.first_screen.set()
        await super().on_data(payload)

    async def send_bytes(self, data: bytes) -> bool:
        self.on_input()
        return await super().send_bytes(data)


class LearnerSession:
    def __init__(self, info: LearnerInfo, websocket: web.WebSocketResponse) -> None:
        self.info, self.websocket = info, websocket
        self.service: LearnerService | None = None
        self.done = asyncio.Event()

    async def end(self, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(message=reason.encode())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.done.wait(), 15)


class ClassServer(Server):
    def __init__(self, config: ClassConfig, isolation: Isolation, secrets: auth.ClassSecrets,
                 on_ready=None) -> None:
        super().__init__("netlab", host=config.host, port=config.port, title="netlab", public_url=config.public_url)
        self.config, self.isolation, self.secrets = config, isolation, secrets
        self.explicit_public_url = config.public_url.rstrip("/") if config.public_url else None
        self.signer = auth.CookieSigner(secrets.secret, secrets.code, secrets.teacher_password)
        self.learners_dir = config.directory / "learners"
        self.learners: dict[str, LearnerInfo] = {}
        self.sessions: dict[str, LearnerSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        slots = config.start_slots or max(2, os.cpu_count() or 2)
        self._start_slots = asyncio.Semaphore(slots)
        self._throttle = auth.Throttle()
        self._outline: list[dict[str, Any]] | None = None
        self._secure = (self.explicit_public_url or "").startswith("https")
        self._on_ready = on_ready

    # -- the application ----------------------------------------------------------------------------------
    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_login_page, name="index"),
            web.post("/login", self.handle_login),
            web.post("/logout", self.handle_logout),
            web.get("/app", self.handle_app, name="app"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
            web.get("/teacher", self.handle_dashboard),
            web.post("/teacher/login", self.handle_teacher_login),
            web.post("/teacher/logout", self.handle_teacher_logout),
            web.get("/teacher/progress.json", self.handle_progress),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def on_startup(self, app: web.Application) -> None:
        self.learners_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._on_ready is not None:
            self._on_ready()

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(s.end("the class server is stopping") for s in list(self.sessions.values())),
                             return_exceptions=True)

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.INFO, format="netlab class: %(message)s", stream=sys.stderr)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # one line per request: too many for a class

    # -- who is asking --------------------------------------------------------------------------------------
    _PUBLIC = {("GET", "/"), ("POST", "/login"), ("POST", "/teacher/login")}

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        if (request.method, request.path) in self._PUBLIC:
            return await handler(request)
        if request.path == "/teacher" or request.path.startswith("/teacher/"):
            teacher = request.cookies.get(auth.TEACHER_COOKIE)
            if self.signer.verify("teacher", teacher) is None:
                status = 403 if teacher or self._learner(request) else 401
                if request.path == "/teacher" and request.method == "GET":
                    return _html(pages.teacher_login_page(
                        "" if status == 401 else "this page is for the teacher: log in with the teacher password"),
                        status)
                return web.json_response({"error": "the teacher's cookie is required"}, status=status)
            return await handler(request)
        learner = self._learner(request)
        if learner is None:
            status = 403 if request.cookies.get(auth.LEARNER_COOKIE) else 401
            if request.path == "/app":
                return _html(pages.login_page("your session has expired: log in again" if status == 403 else ""),
                             status)
            return web.Response(status=status, text="log in first: open / and join the class\n")
        request["learner"] = learner
        return await handler(request)

    def _learner(self, request: web.Request) -> LearnerInfo | None:
        key = self.signer.verify("learner", request.cookies.get(auth.LEARNER_COOKIE))
        if not key:
            return None
        info = self.learners.get(key)
        if info is None:
            home = self.learners_dir / key
            if not (home / "learner.json").exists():
                return None  # a cookie for a learner this class directory does not know
            info = self.learners[key] = LearnerInfo(name=_read_name(home, key), key=key)
        return info

    def _set_cookie(self, response: web.StreamResponse, name: str, value: str) -> None:
        response.set_cookie(name, value, httponly=True, samesite="Lax", secure=self._secure, path="/")

    # -- learners -------------------------------------------------------------------------------------------
    async def handle_login_page(self, request: web.Request) -> web.StreamResponse:
        if self._learner(request) is not None:
            raise web.HTTPSeeOther("/app")
        return _html(pages.login_page())

    async def handle_login(self, request: web.Request) -> web.StreamResponse:
        who = request.remote or "?"
        form = await request.post()
        raw_name, code = str(form.get("name", "")), str(form.get("code", "")).strip().upper()
        async with self._throttle.attempt(who):
            if not hmac.compare_digest(code.encode(), self.secrets.code.upper().encode()):
                self._throttle.failed(who)
                return _html(pages.login_page("wrong class code", raw_name), 403)
        try:
            name, key = auth.learner_name(raw_name)
        except ValueError as exc:
            return _html(pages.login_page(str(exc), raw_name), 400)
        home = self.learners_dir / key
        if not (home / "learner.json").exists():
            joined = sum(1 for p in self.learners_dir.iterdir() if (p / "learner.json").exists())
            if joined >= self.config.max_learners:
                return _html(pages.login_page(
                    f"the class is full ({self.config.max_learners} learners): ask your teacher", raw_name), 403)
            self._create_home(home, name, joined)
        info = self.learners.setdefault(key, LearnerInfo(name=_read_name(home, name), key=key))
        response = web.HTTPSeeOther("/app")
        self._set_cookie(response, auth.LEARNER_COOKIE, self.signer.sign("learner", info.key))
        log.info("%s logged in from %s", info.name, who)
        raise response

    def _create_home(self, home: Path, name: str, index: int) -> None:
        taken = set()
        for other in self.learners_dir.glob("*/learner.json"):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                taken.add(int(json.loads(other.read_text(encoding="utf-8"))["uid"]))
        uid = self.secrets.uid_base + index
        while uid in taken:  # a learner's folder was removed by hand: never hand out a uid twice
            uid += 1
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "learner.json").write_text(json.dumps({"name": name, "uid": uid, "joined": time.time()}),
                                           encoding="utf-8")
        if self.isolation.drop_uid:
            os.chown(home, uid, uid)
            os.chmod(home, 0o700)

    def learner_uid(self, key: str) -> int | None:
        if not self.isolation.drop_uid:
            return None
        return int(json.loads((self.learners_dir / key / "learner.json").read_text(encoding="utf-8"))["uid"])

    async def handle_logout(self, request: web.Request) -> web.StreamResponse:
        info: LearnerInfo = request["learner"]
        if session := self.sessions.get(info.key):
            await session.end("logged out")
        response = web.HTTPSeeOther("/")
        response.del_cookie(auth.LEARNER_COOKIE, path="/")
        raise response

    async def handle_app(self, request: web.Request) -> web.StreamResponse:
        base = self._base_url(request)
        scheme, rest = base.split(":", 1)
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ("wss:" if scheme == "https" else "ws:") + rest + "/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": f"netlab — {request['learner'].name}"},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _base_url(self, request: web.Request) -> str:
        return self.explicit_public_url or f"{request.scheme}://{request.host}"

    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if not origin:
            return True  # not a browser (scripts, the benchmark): the cookie alone decides
        allowed = {request.host}
        if self.explicit_public_url:
            allowed.add(urlsplit(self.explicit_public_url).netloc)
        return urlsplit(origin).netloc in allowed

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        info: LearnerInfo = request["learner"]
        if not self._same_origin(request):
            return web.Response(status=403, text="cross-origin websocket refused\n")
        async with self._locks.setdefault(info.key, asyncio.Lock()):
            if old := self.sessions.get(info.key):  # a reload or another browser: this one takes over
                await old.end("opened elsewhere")
            if len(self.sessions) >= self.config.max_learners:
                return web.Response(status=503, text="the class is full: try again later\n")
            # A ping every 30 s (textual-serve: 15): a class server on 2 busy cores must not drop learners
            # whose pong is a little late.
            websocket = web.WebSocketResponse(heartbeat=30)
            session = self.sessions[info.key] = LearnerSession(info, websocket)
        try:
            await websocket.prepare(request)
            await self._run_learner(request, session)
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - one learner's failure must not take the class down
            log.exception("%s: session failed", info.name)
        finally:
            await self._end_learner(session)
        return websocket

    async def _run_learner(self, request: web.Request, session: LearnerSession) -> None:
        info, websocket = session.info, session.websocket
        uid = self.learner_uid(info.key)
        home = self.learners_dir / info.key
        argv = self.isolation.launch_command([sys.executable, "-m", "netlab_tui"], uid, uid, home)

        def touched() -> None:
            info.last_input = time.time()

        service = session.service = LearnerService(
            argv, self._learner_env(info, home, uid), on_input=touched, write_bytes=websocket.send_bytes,
            write_str=websocket.send_str, close=websocket.close, download_manager=self.download_manager)
        info.online, info.sessions = True, info.sessions + 1
        info.last_input = time.time()  # connecting is activity: a returning learner is not idle at once
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        # Staggered start: a few netlabs start at a time, each holding its slot until its first screen, so
        # thirty learners joining at once all get a screen instead of all timing out together.
        async with self._start_slots:
            if websocket.closed:
                return
            await service.start(width, height)
            log.info("%s: netlab started (pid %s)", info.name, service.pid)
            waiter = asyncio.ensure_future(service.first_screen.wait())
            await asyncio.wait({waiter, service._task}, timeout=self.config.start_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        if not service.first_screen.is_set():
            log.warning("%s: netlab did not draw a screen", info.name)
        idle = asyncio.create_task(self._idle_watch(session))
        try:
            await self._process_messages(websocket, service)
        finally:
            idle.cancel()

    def _learner_env(self, info: LearnerInfo, home: Path, uid: int | None) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "TERM": "xterm-256color",
            "HOME": str(home),
            "USER": info.key,
            "LOGNAME": info.key,
            "NETLAB_LEARNER": info.name,
            "NETLAB_STATE_DIR": str(home),
            "NETLAB_LEARNER_HOME": str(home),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        for name in ("NETLAB_LANG", "NETLAB_LABS_DIR", "LC_ALL", "TZ"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    async def _idle_watch(self, session: LearnerSession) -> None:
        timeout = self.config.idle_timeout
        while True:
            last = session.info.last_input or time.time()
            remaining = last + timeout - time.time()
            if remaining <= 0:
                log.info("%s: idle for %g min, stopping their netlab", session.info.name, round(timeout / 60, 2))
                await session.websocket.close(message=b"idle timeout")
                return
            await asyncio.sleep(min(remaining + 0.05, 30))

    async def _end_learner(self, session: LearnerSession) -> None:
        info, service = session.info, session.service
        try:
            if service is not None and service._task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(service.stop()), 3)
            if service is not None and service.pid:
                uid = self.learner_uid(info.key)
                await asyncio.to_thread(process_group_kill, service.pid, uid)
                if service._task is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(service._task, 5)
                log.info("%s: netlab stopped", info.name)
        finally:
            if self.sessions.get(info.key) is session:
                del self.sessions[info.key]
                info.online = False
            with contextlib.suppress(Exception):
                await session.websocket.close()
            session.done.set()

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        try:
            meta = await self.download_manager.get_download_metadata(request.match_info["key"])
        except KeyError:
            raise web.HTTPNotFound(text="no such download") from None
        session = self.sessions.get(request["learner"].key)
        if session is None or meta.app_service is not session.service:
            raise web.HTTPForbidden(text="not your download")
        return await super().handle_download(request)

    # -- the teacher ----------------------------------------------------------------------------------------
    async def handle_teacher_login(self, request: web.Request) -> web.StreamResponse:
        who = request.remote or "?"
        form = await request.post()
        password = str(form.get("password", ""))
        async with self._throttle.attempt(who):
            if not hmac.compare_digest(password.encode(), self.secrets.teacher_password.encode()):
                self._throttle.failed(who)
                return _html(pages.teacher_login_page("wrong password"), 403)
        response = web.HTTPSeeOther("/teacher")
        self._set_cookie(response, auth.TEACHER_COOKIE, self.signer.sign("teacher"))
        raise response

    async def handle_teacher_logout(self, request: web.Request) -> web.StreamResponse:
        response = web.HTTPSeeOther("/teacher")
        response.del_cookie(auth.TEACHER_COOKIE, path="/")
        raise response

    async def handle_dashboard(self, request: web.Request) -> web.StreamResponse:
        response = _html(pages.dashboard_page(self._base_url(request) + "/", self.secrets.code))
        response.headers["Cache-Control"] = "no-store"
        return response

    async def handle_progress(self, request: web.Request) -> web.StreamResponse:
        if self._outline is None:
            self._outline = await asyncio.to_thread(lab_outline)
        data = await asyncio.to_thread(class_progress, self.learners_dir, self._outline, dict(self.learners))
        return web.json_response(data, headers={"Cache-Control": "no-store"})


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _read_name(home: Path, default: str) -> str:
    try:
        return json.loads((home / "learner.json").read_text(encoding="utf-8"))["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return default
