"""The lab HTTP server on real loopback sockets: raw bytes (well-formed, malformed, slow, pipelined),
http.client and httpx as the course uses them, and the journal's exact copies of the wire."""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import sqlite3

import httpx
import pytest

from netlab_tui.engine.core.journal import by_kind
from netlab_tui.engine.http.lab import LabHttpApp
from netlab_tui.engine.http.server import HttpApp, HttpResponse, HttpServer, json_response


@pytest.fixture
async def lab(journal, registry, tmp_path):
    """A lab HTTP server on an ephemeral port, with its own database file."""
    server = HttpServer(journal, LabHttpApp(db=str(tmp_path / "lab.db")), "127.0.0.1", 0)
    await registry.start(server)
    return server


async def start_lab(registry, journal, tmp_path, **limits) -> HttpServer:
    server = HttpServer(journal, LabHttpApp(db=str(tmp_path / "lab.db")), "127.0.0.1", 0, **limits)
    await registry.start(server)
    return server


async def raw(port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send bytes, then read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        async with asyncio.timeout(timeout):
            return await reader.read(-1)
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One Content-Length-framed response: (head, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def events(journal, kind: str, proto: str = "http"):
    return [e for e in journal.events(by_kind(kind)) if e.proto == proto]


async def closed(journal, count: int = 1):
    """The close events, once ``count`` have arrived (the server closes after the client reads)."""
    for _ in range(100):
        found = events(journal, "close")
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} close events, got {len(events(journal, 'close'))}")


# -- the wire, exactly ---------------------------------------------------------------------------------------
async def test_journal_holds_the_exact_request_and_response_bytes(lab, journal):
    request = b"GET /get?x=1&x=2 HTTP/1.1\r\nHost: lab\r\nX-Mixed-Case: yes\r\nConnection: close\r\n\r\n"
    received = await raw(lab.port, request)
    assert status_of(received) == 200
    [req] = events(journal, "request")
    [resp] = events(journal, "response")
    assert req.payload == request and req.direction == "in"
    assert resp.payload == received and resp.direction == "out"
    assert req.conn == resp.conn and req.conn.startswith("http-")
    assert req.meta["method"] == "GET" and req.meta["path"] == "/get" and req.meta["target"] == "/get?x=1&x=2"
    assert resp.meta["status"] == 200 and resp.meta["method"] == "GET"
    body = json.loads(received.split(b"\r\n\r\n", 1)[1])
    assert body["args"] == {"x": ["1", "2"]}
    assert body["headers"]["X-Mixed-Case"] == "yes"
    assert body["url"] == "http://lab/get?x=1&x=2"


async def test_listen_event_comes_first_with_the_real_port(lab, journal):
    first = journal.events()[0]
    assert first.kind == "listen" and first.local == f"127.0.0.1:{lab.port}"
    assert first.meta["url"] == f"http://127.0.0.1:{lab.port}/"


async def test_keep_alive_serves_several_requests_on_one_connection(lab, journal):
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.port)
    for path in (b"/ip", b"/headers", b"/api/random/int"):
        writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: lab\r\n\r\n")
        head, body = await read_response(reader)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"connection: close" not in head.lower()
        json.loads(body)
    writer.close()
    responses = events(journal, "response")
    assert len(responses) == 3
    assert len({e.meta["tcp"] for e in responses}) == 1  # one TCP connection
    assert len({e.conn for e in responses}) == 3  # three exchanges


async def test_pipelined_requests_are_split_exactly(lab, journal):
    first = b"GET /ip HTTP/1.1\r\nHost: a\r\n\r\n"
    second = b"POST /post HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhello"
    third = b"GET /headers HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n"
    received = await raw(lab.port, first + second + third)
    assert received.count(b"HTTP/1.1 200 OK") == 3
    assert [e.payload for e in events(journal, "request")] == [first, second, third]
    assert b"".join(e.payload for e in events(journal, "response")) == received


async def test_chunked_request_body_is_decoded_and_the_framing_journaled(lab, journal):
    request = (b"POST /post HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"
               b"Connection: close\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n")
    received = await raw(lab.port, request)
    assert json.loads(received.split(b"\r\n\r\n", 1)[1])["data"] == "hello, world"
    [req] = events(journal, "request")
    assert req.payload == request
    assert req.meta["body_size"] == 12


async def test_chunked_response_from_stream(lab):
    received = await raw(lab.port, b"GET /stream/3 HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body.endswith(b"0\r\n\r\n")
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{lab.port}/stream/3")
    assert [json.loads(line)["id"] for line in response.text.splitlines()] == [0, 1, 2]


async def test_head_has_the_length_of_get_but_no_body(lab):
    get = await raw(lab.port, b"GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    head = await raw(lab.port, b"HEAD / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    get_head, _, get_body = get.partition(b"\r\n\r\n")
    assert head.endswith(b"\r\n\r\n") and head.count(b"\r\n\r\n") == 1  # nothing after the headers
    assert f"Content-Length: {len(get_body)}".encode() in head
    assert b"<html" in get_body


async def test_expect_100_continue(lab, journal):
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.port)
    writer.write(b"POST /post HTTP/1.1\r\nHost: lab\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"data")
    head, body = await read_response(reader)
    writer.close()
    assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["data"] == "data"
    [resp] = events(journal, "response")
    assert resp.payload.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")


async def test_http_1_0_client_gets_the_connection_closed(lab):
    received = await raw(lab.port, b"GET /ip HTTP/1.0\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in received


async def test_options_lists_allowed_methods(lab):
    received = await raw(lab.port, b"OPTIONS /api/users/1 HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
    assert status_of(received) == 204
    assert b"Allow: GET, HEAD, OPTIONS, PATCH" in received


# -- bad requests get clear answers ------------------------------------------------------------------------
@pytest.mark.parametrize("request_bytes, status, words", [
    (b"HELLO\r\n\r\n", 400, b"not an HTTP request line"),
    (b"GET / HTTP/1.1\r\nHost: lab\r\nBad Header\r\n\r\n", 400, b"malformed request"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", 400, b"malformed"),
    (b"GET /nowhere HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n", 404, b"no route for /nowhere"),
    (b"DELETE /get HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n", 405, b"DELETE is not allowed"),
    (b"POST /post HTTP/1.1\r\nHost: lab\r\nContent-Length: 99999999\r\n\r\n", 413, b"99999999 bytes"),
])
async def test_bad_requests(lab, journal, request_bytes, status, words):
    received = await raw(lab.port, request_bytes)
    assert status_of(received) == status
    assert words in received
    body = json.loads(received.split(b"\r\n\r\n", 1)[1])
    assert body["status"] == status
    if status == 405:
        assert b"Allow: GET, HEAD, OPTIONS" in received
    # the server still serves
    assert status_of(await raw(lab.port, b"GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200


async def test_bad_request_bytes_are_journaled_with_the_error(lab, journal):
    await raw(lab.port, b"HELLO\r\n\r\n")
    [req] = events(journal, "request")
    assert req.payload == b"HELLO\r\n\r\n"
    assert "not an HTTP request line" in req.meta["error"]
    [resp] = events(journal, "response")
    assert resp.meta["status"] == 400
    [close] = await closed(journal)
    assert close.text == "closed after answering 400"


async def test_header_limit_gives_431(registry, journal, tmp_path):
    server = await start_lab(registry, journal, tmp_path, max_header_bytes=1024)
    big = b"GET / HTTP/1.1\r\nHost: lab\r\nX-Big: " + b"a" * 3000 + b"\r\n\r\n"
    assert status_of(await raw(server.port, big)) == 431
    endless = b"GET / HTTP/1.1\r\nHost: lab\r\n" + b"X-A: b\r\n" * 500  # never ends
    assert status_of(await raw(server.port, endless)) == 431


async def test_chunked_body_over_the_limit_gives_413(registry, journal, tmp_path):
    server = await start_lab(registry, journal, tmp_path, max_body_bytes=1000)
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    request = b"POST /post HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3 + b"0\r\n\r\n"
    received = await raw(server.port, request)
    assert status_of(received) == 413 and b"over 1000 bytes" in received


async def test_slow_client_gets_408(registry, journal, tmp_path):
    server = await start_lab(registry, journal, tmp_path, request_timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: la")  # ... and nothing more
    async with asyncio.timeout(5):
        received = await reader.read(-1)
    writer.close()
    assert status_of(received) == 408
    assert b"not complete after 0.5s" in received
    [close] = await closed(journal)
    assert close.text == "request timeout"


async def test_slow_body_gets_408(registry, journal, tmp_path):
    server = await start_lab(registry, journal, tmp_path, request_timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /post HTTP/1.1\r\nHost: lab\r\nContent-Length: 10\r\n\r\nabc")
    async with asyncio.timeout(5):
        received = await reader.read(-1)
    writer.close()
    assert status_of(received) == 408


async def test_idle_keep_alive_connection_is_closed_silently(registry, journal, tmp_path):
    server = await start_lab(registry, journal, tmp_path, keepalive_timeout=0.4)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /ip HTTP/1.1\r\nHost: lab\r\n\r\n")
    await read_response(reader)
    async with asyncio.timeout(5):
        assert await reader.read(-1) == b""  # closed, without another response
    writer.close()
    [close] = await closed(journal)
    assert "idle keep-alive timeout" in close.text
    assert close.meta["requests"] == 1


async def test_fuzzed_requests_never_break_the_server(lab, journal):
    rng = random.Random(4)
    pieces = [b"GET", b"POST", b" ", b"/", b"HTTP/1.1", b"HTTP/9", b"\r\n", b"\n", b":", b"Host", b"x" * 50,
              b"Content-Length: 3", b"Transfer-Encoding: chunked", b"\x00", b"\xff\xfe", b"%", b"\t", b"0\r\n"]
    for _ in range(40):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 25))) + b"\r\n\r\n"
        received = await raw(lab.port, data, timeout=5)
        if received:
            assert received.startswith(b"HTTP/1.1 ")
            assert 200 <= status_of(received) < 600
    assert not [e for e in journal.events(by_kind("error"))]
    assert status_of(await raw(lab.port, b"GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200


async def test_a_handler_bug_is_a_500_and_the_server_keeps_serving(journal, registry):
    class Buggy(HttpApp):
        def __init__(self) -> None:
            super().__init__()
            self.router.add("/boom", "GET", self.boom)
            self.router.add("/fine", "GET", self.fine)
            self.router.add("/bad-header", "GET", self.bad_header)

        async def boom(self, request):
            raise ZeroDivisionError("oops")

        async def fine(self, request):
            return json_response({"ok": True})

        async def bad_header(self, request):
            return HttpResponse(200, b"x", headers=[("X-Evil", "a\r\nSet-Cookie: injected")])

    server = HttpServer(journal, Buggy(), "127.0.0.1", 0)
    await registry.start(server)
    received = await raw(server.port, b"GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(received) == 500 and b"ZeroDivisionError" in received
    received = await raw(server.port, b"GET /bad-header HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(received) == 500 and b"injected" not in received
    assert status_of(await raw(server.port, b"GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200
    assert any("ZeroDivisionError" in e.text for e in journal.events(by_kind("error")))


async def test_stop_ends_requests_in_flight(lab, registry, journal):
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.port)
    writer.write(b"GET /delay/10 HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await registry.stop(lab)
    assert loop.time() - started < 4
    assert await reader.read(-1) == b""
    writer.close()
    assert any(e.text == "server stopped" for e in await closed(journal))


# -- the course's clients -----------------------------------------------------------------------------------
async def test_http_client_module_as_the_course_uses_it(lab):
    def course_script(port: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/random/int?n=5")
        first = conn.getresponse()
        numbers = json.loads(first.read())
        conn.request("GET", "/api/random/float")  # the same keep-alive connection
        second = conn.getresponse()
        number = json.loads(second.read())
        conn.request("GET", "/api/random/int?n=0")
        third = conn.getresponse()
        error = json.loads(third.read())
        conn.close()
        return first.status, numbers, second.status, number, third.status, error

    s1, numbers, s2, number, s3, error = await asyncio.to_thread(course_script, lab.port)
    assert s1 == 200 and len(numbers) == 5 and all(isinstance(n, int) and 0 <= n <= 100 for n in numbers)
    assert s2 == 200 and isinstance(number, float) and 0 <= number < 1
    assert s3 == 400 and "1 to 10000" in error["error"]


@pytest.mark.parametrize("query", ["n=10001", "n=abc", "n=-1"])
async def test_random_list_bounds(lab, query):
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{lab.port}/api/random/int?{query}")
    assert response.status_code == 400 and response.json()["status"] == 400
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{lab.port}/api/random/float?n=10000")
    assert len(response.json()) == 10000


async def test_users_and_messages_api(lab, tmp_path):
    base = f"http://127.0.0.1:{lab.port}"
    async with httpx.AsyncClient(base_url=base) as client:
        users = (await client.get("/api/users")).json()
        assert [u["name"] for u in users] == ["alice", "bob", "carol", "dave"]
        assert (await client.get("/api/users/2")).json() == {"id": 2, "name": "bob", "status": "offline"}
        changed = await client.patch("/api/users/2", json={"status": "away"})
        assert changed.status_code == 200 and changed.json()["status"] == "away"
        assert (await client.get("/api/users/2")).json()["status"] == "away"
        bad = await client.patch("/api/users/2", json={"status": "sleeping"})
        assert bad.status_code == 400 and "online, offline, away, busy" in bad.json()["error"]
        assert (await client.patch("/api/users/2", content=b"{nope")).status_code == 400
        assert (await client.patch("/api/users/2", json={"status": "away", "name": "x"})).status_code == 400
        assert (await client.patch("/api/users/42", json={"status": "away"})).status_code == 404
        assert (await client.get("/api/users/abc")).status_code == 400
        assert (await client.get("/api/users/9")).status_code == 404

        sent = await client.post("/api/messages", json={"from": 1, "to": 2, "text": "hello bob"})
        assert sent.status_code == 201
        assert sent.json()["from"] == 1 and sent.json()["to"] == 2 and sent.json()["text"] == "hello bob"
        await client.post("/api/messages", json={"from": 3, "to": 1, "text": "hi alice"})
        to_bob = (await client.get("/api/messages", params={"to": 2})).json()
        assert [m["text"] for m in to_bob] == ["hello bob"]
        assert len((await client.get("/api/messages")).json()) == 2
        assert (await client.get("/api/messages", params={"to": 99})).status_code == 404
        assert (await client.get("/api/messages", params={"to": "x"})).status_code == 400
        for body, status in [({"from": 1, "to": 2}, 400), ({"from": "1", "to": 2, "text": "x"}, 400),
                             ({"from": 1, "to": 2, "text": ""}, 400), ([1, 2], 400),
                             ({"from": 1, "to": 77, "text": "x"}, 404)]:
            response = await client.post("/api/messages", json=body)
            assert response.status_code == status, body
            assert response.json()["status"] == status
    # the state is in SQLite, where any program can read it
    with sqlite3.connect(tmp_path / "lab.db") as db:
        assert db.execute("SELECT status FROM users WHERE id = 2").fetchone() == ("away",)
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone() == (2,)


async def test_another_program_writing_the_database_is_journaled(lab, journal, tmp_path):
    def write_like_php() -> None:
        db = sqlite3.connect(tmp_path / "lab.db", timeout=5)
        with db:
            db.execute("INSERT INTO messages (from_id, to_id, text) VALUES (4, 1, 'from outside')")
        db.close()

    await asyncio.to_thread(write_like_php)
    for _ in range(50):
        changes = [e for e in journal.events() if e.proto == "fs" and e.kind == "modified"]
        if changes:
            break
        await asyncio.sleep(0.1)
    assert changes and changes[0].meta["messages"] == 1
    assert "changed by another program" in changes[0].text
    async with httpx.AsyncClient() as client:
        messages = (await client.get(f"http://127.0.0.1:{lab.port}/api/messages?to=1")).json()
    assert messages[0]["text"] == "from outside"


async def test_echo_routes(lab):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{lab.port}") as client:
        posted = (await client.post("/post?a=1", data={"name": "netlab", "x": "y"})).json()
        assert posted["form"] == {"name": "netlab", "x": "y"} and posted["args"] == {"a": "1"}
        assert posted["method"] == "POST" and posted["origin"] == "127.0.0.1"
        put = (await client.put("/put", json={"k": [1, 2]})).json()
        assert put["json"] == {"k": [1, 2]} and put["data"] == '{"k":[1,2]}'
        assert (await client.patch("/patch", content=b"raw text")).json()["data"] == "raw text"
        assert (await client.delete("/delete")).json()["method"] == "DELETE"
        files = (await client.post("/post", files={"f": ("a.txt", b"file body")}, data={"k": "v"})).json()
        assert files["files"] == {"f": "file body"} and files["form"] == {"k": "v"}
        binary = (await client.post("/anything/x/y", content=b"\xff\x00")).json()
        assert binary["data"].startswith("data:application/octet-stream;base64,")
        assert (await client.get("/headers", headers={"X-Test": "1"})).json()["headers"]["X-Test"] == "1"
        assert (await client.get("/ip")).json() == {"origin": "127.0.0.1"}
        assert (await client.get("/user-agent")).json()["user-agent"].startswith("python-httpx")
        teapot = await client.get("/status/418")
        assert teapot.status_code == 418 and teapot.json()["reason"] == "I'm a Teapot"
        assert (await client.post("/status/201")).status_code == 201
        assert (await client.get("/status/204")).content == b""
        assert (await client.get("/status/99")).status_code == 400
        assert (await client.get("/status/401")).headers["www-authenticate"].startswith("Basic")
        redirected = await client.get("/redirect/3", follow_redirects=True)
        assert redirected.status_code == 200 and len(redirected.history) == 3
        assert (await client.get("/redirect/0")).status_code == 400
        assert (await client.get("/basic-auth/u/p", auth=("u", "p"))).json() == {"authenticated": True, "user": "u"}
        assert (await client.get("/basic-auth/u/p", auth=("u", "wrong"))).status_code == 401
        bearer = await client.get("/bearer", headers={"Authorization": "Bearer t0k"})
        assert bearer.json() == {"authenticated": True, "token": "t0k"}
        assert (await client.get("/bearer")).status_code == 401
        assert (await client.get("/delay/11")).status_code == 400
        assert (await client.get("/delay/x")).status_code == 400
        loop = asyncio.get_running_loop()
        started = loop.time()
        delayed = await client.get("/delay/0.3")
        assert delayed.status_code == 200 and delayed.json()["delay"] == 0.3
        assert loop.time() - started >= 0.3
        assert b"netlab HTTP lab server" in (await client.get("/")).content


async def test_examples_are_served(lab):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{lab.port}") as client:
        listing = (await client.get("/examples/")).text
        assert "php/rest_client.php" in listing and "python/compute.py" in listing
        script = await client.get("/examples/php/rest_client.php")
        assert script.status_code == 200 and script.text.startswith("<?php")
        assert (await client.get("/examples/../http_lab.py")).status_code == 404


async def test_database_path_that_cannot_be_opened_fails_the_start(journal, registry, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    server = HttpServer(journal, LabHttpApp(db=str(blocker / "sub" / "lab.db")), "127.0.0.1", 0)
    from netlab_tui.engine.core.sessions import NetlabError

    with pytest.raises(NetlabError, match="cannot open the lab database"):
        await registry.start(server)


async def test_port_in_use_is_one_clear_error(lab, journal, registry, tmp_path):
    from netlab_tui.engine.core.sessions import NetlabError

    second = HttpServer(journal, LabHttpApp(db=str(tmp_path / "other.db")), "127.0.0.1", lab.port)
    with pytest.raises(NetlabError, match="address already in use"):
        await registry.start(second)


async def test_curl_against_netlab_serve(serve, tmp_path):
    import shutil
    import subprocess

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (./dev installs it)")
    server = serve("http", "--port", "0", "--db", str(tmp_path / "lab.db"))
    url = f"http://127.0.0.1:{server.port}"
    out = subprocess.run(["curl", "-s", "-i", "-X", "PATCH", f"{url}/api/users/3", "-H",
                          "Content-Type: application/json", "-d", '{"status": "busy"}'],
                         capture_output=True, timeout=10)
    assert out.stdout.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(out.stdout.split(b"\r\n\r\n", 1)[1])["status"] == "busy"
    assert server.stop() == 0
    found = [json.loads(line) for line in server.proc.stdout.read().splitlines()]
    request = next(e for e in found if e["kind"] == "request")
    response = next(e for e in found if e["kind"] == "response")
    assert bytes.fromhex(request["hex"]).startswith(b"PATCH /api/users/3 HTTP/1.1\r\n")
    assert bytes.fromhex(response["hex"]) == out.stdout
    assert request["meta"]["method"] == "PATCH" and response["meta"]["status"] == 200
