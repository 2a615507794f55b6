"""The lab HTTP server (``netlab serve http``): what the course's HTTP and REST pages need to hit.

- ``GET /``: an HTML page listing all of this.
- ``/api/random/int`` and ``/api/random/float`` (``?n=K`` for a list of K, 1 <= K <= 10000).
- The users/messages API of the course's exercise, on the SQLite file of ``lab_db.py`` (shared with
  PHP or any other program): ``GET /api/users``, ``GET|PATCH /api/users/{id}``, ``POST /api/messages``,
  ``GET /api/messages?to=ID``.
- An httpbin-like echo: ``/get``, ``/post``, ``/put``, ``/patch``, ``/delete``, ``/anything``,
  ``/status/{code}``, ``/headers``, ``/ip``, ``/user-agent``, ``/delay/{s}`` (at most 10 s),
  ``/redirect/{n}``, ``/basic-auth/{user}/{password}``, ``/bearer``, ``/stream/{n}`` (chunked).
- XML-RPC at ``POST /RPC2`` and JSON-RPC at ``POST /jsonrpc`` (see ``rpc.py``).
- ``/examples/``: the PHP and Python scripts shipped with netlab, to fetch with curl.
"""

from __future__ import annotations

import asyncio
import base64
import email.parser
import email.policy
import html
import json
import random
import sqlite3
import urllib.parse
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.rpc.server import RpcEndpoints

from .db import MAX_TEXT, STATUSES, LabDatabase
from .server import (
    HttpApp,
    HttpError,
    HttpRequest,
    HttpResponse,
    HttpServer,
    json_response,
    reason_phrase,
    text_response,
)

MAX_RANDOM = 10_000
MAX_DELAY = 10.0
MAX_REDIRECTS = 20
MAX_STREAM = 100
DB_POLL_SECONDS = 0.5
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_SUFFIXES = (".php", ".py", ".md", ".sh")


class LabHttpApp(HttpApp):
    kind = "http"
    title = "HTTP lab server"

    def __init__(self, db: str | None = None) -> None:
        super().__init__()
        self.db_path = db
        self.db: LabDatabase | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._watch_task: asyncio.Task | None = None
        self.rpc = RpcEndpoints(self)
        self._routes()

    def _routes(self) -> None:
        add = self.router.add
        add("/", "GET", self.index)
        add("/api/random/int", "GET", self.random_int)
        add("/api/random/float", "GET", self.random_float)
        add("/api/users", "GET", self.list_users)
        add("/api/users/{id}", "GET", self.get_user)
        add("/api/users/{id}", "PATCH", self.patch_user)
        add("/api/messages", "GET", self.list_messages)
        add("/api/messages", "POST", self.post_message)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            add(f"/{method.lower()}", method, self.echo)
        add("/anything", "*", self.echo)
        add("/anything/{rest:path}", "*", self.echo)
        add("/status/{code}", "*", self.status)
        add("/headers", "GET", self.headers)
        add("/ip", "GET", self.ip)
        add("/user-agent", "GET", self.user_agent)
        add("/delay/{seconds}", "*", self.delay)
        add("/redirect/{n}", "*", self.redirect)
        add("/basic-auth/{user}/{password}", "GET", self.basic_auth)
        add("/bearer", "GET", self.bearer)
        add("/stream/{n}", "GET", self.stream)
        add("/examples/", "GET", self.examples)
        add("/examples/{rest:path}", "GET", self.example)
        self.rpc.mount()

    # -- lifecycle -----------------------------------------------------------------------------------
    async def on_start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netlab-http-db")
        try:
            self.db = await self._in_db_thread(LabDatabase, self.db_path)
        except OSError as exc:
            self._executor.shutdown(wait=False)
            raise NetlabError(str(exc)) from None

    async def on_listening(self) -> None:
        assert self.db is not None
        self.server.emit("info", message=f"users and messages stored in {self.db.path}",
                         meta={"db": str(self.db.path)})
        self._watch_task = asyncio.get_running_loop().create_task(self._watch_db())

    async def on_stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        if self.db is not None:
            await self._in_db_thread(self.db.close)
            self.db = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    async def _in_db_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _db(self, method: str, *args: Any) -> Any:
        if self.db is None:
            raise HttpError(503, "the lab database is not open")
        try:
            return await self._in_db_thread(getattr(self.db, method), *args)
        except sqlite3.OperationalError as exc:
            raise HttpError(503, f"the lab database is busy or unavailable: {exc}") from None

    async def _watch_db(self) -> None:
        """Tell the journal when another program (PHP, the sqlite3 shell …) commits to the database."""
        while self.db is not None:
            await asyncio.sleep(DB_POLL_SECONDS)
            try:
                changed = await self._in_db_thread(self.db.changed_elsewhere)
                if not changed:
                    continue
                counts = await self._in_db_thread(self.db.counts)
            except (sqlite3.Error, RuntimeError):
                continue
            self.server.emit(
                "modified", proto="fs",
                message=f"{self.db.path.name} changed by another program: {counts['users']} users, "
                        f"{counts['messages']} messages",
                meta={"path": str(self.db.path), **counts})

    # -- pages ---------------------------------------------------------------------------------------
    async def index(self, request: HttpRequest) -> HttpResponse:
        rows = []
        for pattern, methods in self.router.patterns():
            link = pattern if "{" not in pattern and "GET" in methods else None
            cell = f'<a href="{html.escape(link)}">{html.escape(pattern)}</a>' if link else html.escape(pattern)
            shown = "any" if "*" in methods else " ".join(methods)
            rows.append(f"<tr><td>{shown}</td><td><code>{cell}</code></td></tr>")
        db = html.escape(str(self.db.path)) if self.db else "(not open)"
        page = _INDEX.format(rows="\n".join(rows), db=db, host=html.escape(request.host),
                             statuses=", ".join(STATUSES))
        return HttpResponse(200, page.encode("utf-8"), "text/html; charset=utf-8")

    # -- random numbers ------------------------------------------------------------------------------
    def _count(self, request: HttpRequest) -> int | None:
        raw = request.arg("n")
        if raw is None:
            return None
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if not 1 <= n <= MAX_RANDOM:
            raise HttpError(400, f"n must be an integer from 1 to {MAX_RANDOM}, got {raw!r}")
        return n

    async def random_int(self, request: HttpRequest) -> HttpResponse:
        n = self._count(request)
        if n is None:
            return json_response(random.randint(0, 100))
        return json_response([random.randint(0, 100) for _ in range(n)])

    async def random_float(self, request: HttpRequest) -> HttpResponse:
        n = self._count(request)
        if n is None:
            return json_response(random.random())
        return json_response([random.random() for _ in range(n)])

    # -- users and messages --------------------------------------------------------------------------
    async def _user(self, raw_id: str) -> dict[str, Any]:
        try:
            user_id = int(raw_id)
        except ValueError:
            raise HttpError(400, f"a user id is a number, got {raw_id!r}") from None
        user = await self._db("user", user_id)
        if user is None:
            raise HttpError(404, f"no user with id {user_id}")
        return user

    async def list_users(self, request: HttpRequest) -> HttpResponse:
        return json_response(await self._db("users"))

    async def get_user(self, request: HttpRequest, id: str) -> HttpResponse:
        return json_response(await self._user(id))

    async def patch_user(self, request: HttpRequest, id: str) -> HttpResponse:
        user = await self._user(id)
        body = request.json()
        if not isinstance(body, dict) or "status" not in body:
            raise HttpError(400, 'send a JSON object with a "status", e.g. {"status": "away"}')
        extra = sorted(set(body) - {"status"})
        if extra:
            raise HttpError(400, f"only the status can be changed, not {', '.join(extra)}")
        status = body["status"]
        if status not in STATUSES:
            raise HttpError(400, f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        return json_response(await self._db("set_status", user["id"], status))

    async def post_message(self, request: HttpRequest) -> HttpResponse:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, 'send a JSON object {"from": ID, "to": ID, "text": "..."}')
        missing = [k for k in ("from", "to", "text") if k not in body]
        if missing:
            raise HttpError(400, f"missing {', '.join(missing)}: send {{\"from\": ID, \"to\": ID, \"text\": \"...\"}}")
        for key in ("from", "to"):
            if not isinstance(body[key], int) or isinstance(body[key], bool):
                raise HttpError(400, f'"{key}" must be a user id (a number), got {body[key]!r}')
        text = body["text"]
        if not isinstance(text, str) or not text.strip():
            raise HttpError(400, '"text" must be a non-empty string')
        if len(text) > MAX_TEXT:
            raise HttpError(400, f'"text" is {len(text)} characters; the most is {MAX_TEXT}')
        for key in ("from", "to"):
            if await self._db("user", body[key]) is None:
                raise HttpError(404, f'no user with id {body[key]} ("{key}")')
        message = await self._db("add_message", body["from"], body["to"], text)
        return json_response(message, 201)

    async def list_messages(self, request: HttpRequest) -> HttpResponse:
        to = request.arg("to")
        if to is None:
            return json_response(await self._db("messages", None))
        user = await self._user(to)
        return json_response(await self._db("messages", user["id"]))

    # -- echo (httpbin-like) -------------------------------------------------------------------------
    async def echo(self, request: HttpRequest, rest: str | None = None) -> HttpResponse:
        return json_response(echo_document(request))

    async def headers(self, request: HttpRequest) -> HttpResponse:
        return json_response({"headers": _header_dict(request)})

    async def ip(self, request: HttpRequest) -> HttpResponse:
        return json_response({"origin": _origin(request)})

    async def user_agent(self, request: HttpRequest) -> HttpResponse:
        return json_response({"user-agent": request.header("user-agent")})

    async def status(self, request: HttpRequest, code: str) -> HttpResponse:
        try:
            status = int(code)
        except ValueError:
            status = 0
        if not 200 <= status <= 599:
            raise HttpError(400, f"the status must be a number from 200 to 599, got {code!r}")
        headers: list[tuple[str, str]] = []
        if 300 <= status < 400 and status != 304:
            headers.append(("Location", "/get"))
        elif status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="netlab"'))
        elif status == 405:
            headers.append(("Allow", "GET"))
        if status in (204, 304):
            return HttpResponse(status, headers=headers)
        return json_response({"status": status, "reason": reason_phrase(status)}, status, headers)

    async def delay(self, request: HttpRequest, seconds: str) -> HttpResponse:
        try:
            value = float(seconds)
        except ValueError:
            value = -1.0
        if not 0 <= value <= MAX_DELAY:
            raise HttpError(400, f"the delay must be from 0 to {MAX_DELAY:g} seconds, got {seconds!r}")
        await asyncio.sleep(value)
        return json_response({**echo_document(request), "delay": value})

    async def redirect(self, request: HttpRequest, n: str) -> HttpResponse:
        try:
            count = int(n)
        except ValueError:
            count = 0
        if not 1 <= count <= MAX_REDIRECTS:
            raise HttpError(400, f"the number of redirects must be from 1 to {MAX_REDIRECTS}, got {n!r}")
        location = "/get" if count == 1 else f"/redirect/{count - 1}"
        return json_response({"redirect": location}, 302, [("Location", location)])

    async def basic_auth(self, request: HttpRequest, user: str, password: str) -> HttpResponse:
        given = _basic_credentials(request.header("authorization"))
        if given != (user, password):
            return json_response({"authenticated": False, "error": "send Basic credentials "
                                  f"{user}:{password}"}, 401, [("WWW-Authenticate", 'Basic realm="netlab"')])
        return json_response({"authenticated": True, "user": user})

    async def bearer(self, request: HttpRequest) -> HttpResponse:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return json_response({"authenticated": False, "error": "send Authorization: Bearer <token>"}, 401,
                                 [("WWW-Authenticate", "Bearer")])
        return json_response({"authenticated": True, "token": token.strip()})

    async def stream(self, request: HttpRequest, n: str) -> HttpResponse:
        try:
            count = int(n)
        except ValueError:
            count = 0
        if not 1 <= count <= MAX_STREAM:
            raise HttpError(400, f"the number of lines must be from 1 to {MAX_STREAM}, got {n!r}")

        async def lines() -> AsyncIterator[bytes]:
            for i in range(count):
                yield json.dumps({"id": i, "url": request.url, "origin": _origin(request)}).encode() + b"\n"
                await asyncio.sleep(0)

        return HttpResponse(200, content_type="application/json", stream=lines())

    # -- the shipped example scripts -----------------------------------------------------------------
    async def examples(self, request: HttpRequest) -> HttpResponse:
        names = [str(p.relative_to(EXAMPLES_DIR)) for p in _example_files()]
        lines = ["netlab's example scripts. Fetch one: curl -O http://" + request.host + "/examples/NAME", ""]
        lines += names
        return text_response("\n".join(lines) + "\n")

    async def example(self, request: HttpRequest, rest: str) -> HttpResponse:
        for path in _example_files():
            if str(path.relative_to(EXAMPLES_DIR)) == rest:
                return text_response(path.read_text(encoding="utf-8"))
        raise HttpError(404, f"no example {rest!r}; GET /examples/ lists them")


def _example_files() -> list[Path]:
    if not EXAMPLES_DIR.is_dir():
        return []
    return sorted(p for p in EXAMPLES_DIR.rglob("*") if p.is_file() and p.suffix in EXAMPLE_SUFFIXES)


# -- echo helpers ----------------------------------------------------------------------------------------
def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _header_dict(request: HttpRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = _title(name)
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers


def _multi(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``[(a, 1), (a, 2), (b, 3)]`` → ``{a: [1, 2], b: 3}`` (httpbin's shape)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            existing = result[key]
            result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[key] = value
    return result


def _origin(request: HttpRequest) -> str | None:
    if request.peer is None:
        return None
    return request.peer.rpartition(":")[0].strip("[]")


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _multipart(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    head = f"Content-Type: {request.header('content-type')}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        raise HttpError(400, "the multipart body could not be parsed (check its boundary)")
    form: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        content = part.get_payload(decode=True) or b""
        text = _body_text(content)
        (files if part.get_filename() is not None else form).append((str(name), text))
    return _multi(form), _multi(files)


def _body_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return "data:application/octet-stream;base64," + base64.b64encode(body).decode("ascii")


def echo_document(request: HttpRequest) -> dict[str, Any]:
    """What httpbin answers: the request as the server understood it."""
    form: dict[str, Any] = {}
    files: dict[str, Any] = {}
    data = ""
    parsed_json = None
    content_type = request.content_type
    if content_type == "application/x-www-form-urlencoded":
        pairs = urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        form = _multi(pairs)
    elif content_type == "multipart/form-data":
        form, files = _multipart(request)
    elif request.body:
        data = _body_text(request.body)
        try:
            parsed_json = json.loads(request.body)
        except ValueError:
            parsed_json = None
    return {
        "args": _multi(request.query),
        "data": data,
        "files": files,
        "form": form,
        "headers": _header_dict(request),
        "json": parsed_json,
        "method": request.method,
        "origin": _origin(request),
        "url": request.url,
    }


_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>netlab HTTP lab server</title>
<style>body{{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.4}}
td{{padding:.1em .8em}} code{{background:#eee;padding:0 .2em}}</style></head>
<body>
<h1>netlab HTTP lab server</h1>
<p>Every request and response is recorded byte for byte in netlab's journal.</p>
<h2>Routes</h2>
<table>
{rows}
</table>
<h2>Users and messages</h2>
<p>Stored in the SQLite file <code>{db}</code> (tables <code>users(id, name, status)</code> and
<code>messages(id, from_id, to_id, text, created_at)</code>): any program may open it.
A status is one of {statuses}.</p>
<pre>curl http://{host}/api/users
curl -X PATCH http://{host}/api/users/2 -H 'Content-Type: application/json' -d '{{"status": "online"}}'
curl http://{host}/api/messages -H 'Content-Type: application/json' -d '{{"from": 1, "to": 2, "text": "hi"}}'
curl 'http://{host}/api/messages?to=2'</pre>
<h2>Other clients</h2>
<p>PHP and Python scripts that talk to this server: <a href="/examples/">/examples/</a>.
XML-RPC: <code>POST /RPC2</code>; JSON-RPC 2.0: <code>POST /jsonrpc</code>.</p>
<form method="post" action="/post"><input name="name" value="netlab"> <button>POST a form to /post</button></form>
</body></html>
"""


def make_server(journal: Journal, host: str = "127.0.0.1", port: int = 0, db: str | None = None) -> HttpServer:
    """The ``http`` kind's server (registered in ``kind.py``)."""
    return HttpServer(journal, LabHttpApp(db=db), host, port)
