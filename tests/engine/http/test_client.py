"""The HTTP client session against netlab's own lab server: the raw bytes it records are the bytes the
server journaled, hop by hop; bodies, auth, redirects, keep-alive, errors, history, copy as curl."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

import pytest

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.http.client import HttpClient, HttpRequestSpec
from netlab_tui.engine.http.lab import LabHttpApp
from netlab_tui.engine.http.server import HttpServer


@pytest.fixture
async def lab(journal, registry, tmp_path):
    server = HttpServer(journal, LabHttpApp(db=str(tmp_path / "lab.db")), "127.0.0.1", 0)
    await registry.start(server)
    return server


@pytest.fixture
async def client(journal, registry):
    session = HttpClient(journal)
    await registry.start(session)
    return session


def url(lab: HttpServer, path: str) -> str:
    return f"http://127.0.0.1:{lab.port}{path}"


def server_side(journal, lab: HttpServer, kind: str):
    return [e for e in journal.events() if e.source == lab.name and e.kind == kind]


async def test_raw_bytes_match_what_the_server_saw(lab, client, journal):
    result = await client.send(HttpRequestSpec("GET", url(lab, "/get"), params=[("q", "a b")],
                                               headers=[("X-Lab", "1")]))
    hop = result.final
    assert hop.status == 200 and hop.reason == "OK" and hop.ok
    assert hop.raw_sent.startswith(b"GET /get?q=a+b HTTP/1.1\r\n")
    assert b"\r\nX-Lab: 1\r\n" in hop.raw_sent and b"\r\nUser-Agent: netlab/" in hop.raw_sent
    [server_request] = server_side(journal, lab, "request")
    [server_response] = server_side(journal, lab, "response")
    assert hop.raw_sent == server_request.payload
    assert hop.raw_received == server_response.payload
    assert hop.json()["args"] == {"q": "a b"}
    assert hop.size == len(hop.raw_received) and hop.total_ms > 0 and hop.ttfb_ms is not None
    assert hop.local and hop.peer == f"127.0.0.1:{lab.port}"
    client_events = [e for e in journal.events() if e.source == client.name]
    assert [e.kind for e in client_events] == ["connect", "request", "response"]
    request_event, response_event = client_events[1:]
    assert request_event.direction == "out" and request_event.payload == hop.raw_sent
    assert response_event.direction == "in" and response_event.meta["status"] == 200
    assert request_event.conn == response_event.conn == hop.conn
    # journaled as they happened: the request leaves before the server sees it, the answer comes after
    assert request_event.seq < server_request.seq < server_response.seq < response_event.seq


async def test_json_form_and_raw_bodies(lab, client):
    sent = await client.send(HttpRequestSpec("POST", url(lab, "/post"), body_kind="json", body='{"a": [1, 2]}'))
    assert sent.final.json()["json"] == {"a": [1, 2]}
    assert b"Content-Type: application/json\r\n" in sent.final.raw_sent
    assert sent.final.raw_sent.endswith(b'\r\n\r\n{"a": [1, 2]}')
    form = await client.send(HttpRequestSpec("PUT", url(lab, "/put"), body_kind="form",
                                             form=[("name", "net lab"), ("x", "&")]))
    assert form.final.json()["form"] == {"name": "net lab", "x": "&"}
    assert form.final.raw_sent.endswith(b"name=net+lab&x=%26")
    raw = await client.send(HttpRequestSpec("PATCH", url(lab, "/patch"), body_kind="raw", body="plain words",
                                            headers=[("Content-Type", "text/plain")]))
    assert raw.final.json()["data"] == "plain words"


async def test_users_api_round_trip(lab, client):
    changed = await client.send(HttpRequestSpec("PATCH", url(lab, "/api/users/4"), body_kind="json",
                                                body='{"status": "online"}'))
    assert changed.status == 200 and changed.final.json()["status"] == "online"
    missing = await client.send(HttpRequestSpec("GET", url(lab, "/api/users/40")))
    assert missing.status == 404 and not missing.final.ok
    assert '"error": "no user with id 40"' in missing.final.pretty_body()


async def test_basic_and_bearer_auth(lab, client):
    ok = await client.send(HttpRequestSpec("GET", url(lab, "/basic-auth/ana/s3cret"), auth_kind="basic",
                                           username="ana", password="s3cret"))
    assert ok.status == 200 and b"Authorization: Basic YW5hOnMzY3JldA==\r\n" in ok.final.raw_sent
    wrong = await client.send(HttpRequestSpec("GET", url(lab, "/basic-auth/ana/s3cret"), auth_kind="basic",
                                              username="ana", password="nope"))
    assert wrong.status == 401
    bearer = await client.send(HttpRequestSpec("GET", url(lab, "/bearer"), auth_kind="bearer", token="tok"))
    assert bearer.final.json() == {"authenticated": True, "token": "tok"}
    with pytest.raises(NetlabError, match="needs a token"):
        await client.send(HttpRequestSpec("GET", url(lab, "/bearer"), auth_kind="bearer"))


async def test_redirects_hop_by_hop(lab, client, journal):
    not_followed = await client.send(HttpRequestSpec("GET", url(lab, "/redirect/2")))
    assert not_followed.status == 302 and len(not_followed.hops) == 1
    assert not_followed.final.header("location") == "/redirect/1"
    followed = await client.send(HttpRequestSpec("GET", url(lab, "/redirect/2"), follow_redirects=True))
    assert [h.status for h in followed.hops] == [302, 302, 200]
    assert [h.url.rsplit("/", 2)[-2:] for h in followed.hops][-1] == [f"127.0.0.1:{lab.port}", "get"]
    assert followed.hops[1].raw_sent.startswith(b"GET /redirect/1 HTTP/1.1\r\n")
    assert len({h.conn for h in followed.hops}) == 3
    posted = await client.send(HttpRequestSpec("POST", url(lab, "/redirect/1"), body_kind="json", body="{}",
                                               follow_redirects=True))
    assert posted.hops[-1].method == "GET"  # 302 turns a POST into a GET, as browsers do
    with pytest.raises(NetlabError, match="stopped after 2 redirects"):
        await client.send(HttpRequestSpec("GET", url(lab, "/redirect/5"), follow_redirects=True, max_redirects=2))


async def test_keep_alive_reuses_the_connection(lab, client, journal):
    first = await client.send(HttpRequestSpec("GET", url(lab, "/ip")))
    second = await client.send(HttpRequestSpec("GET", url(lab, "/ip")))
    assert not first.final.reused and second.final.reused and second.final.connect_ms is None
    assert first.final.local == second.final.local
    tcp = {e.meta["tcp"] for e in server_side(journal, lab, "request")}
    assert len(tcp) == 1


async def test_head_request(lab, client):
    result = await client.send(HttpRequestSpec("HEAD", url(lab, "/api/users")))
    assert result.status == 200 and result.final.body == b""
    assert int(result.final.header("content-length")) > 0


async def test_errors_are_one_line(lab, client, journal):
    with pytest.raises(NetlabError, match=r"connection refused by 127\.0\.0\.1:1 "):
        await client.send(HttpRequestSpec("GET", "http://127.0.0.1:1/"))
    with pytest.raises(NetlabError, match=r"no response from 127\.0\.0\.1:\d+ after 0\.3s"):
        await client.send(HttpRequestSpec("GET", url(lab, "/delay/2"), timeout=0.3))
    with pytest.raises(NetlabError, match="not valid JSON"):
        await client.send(HttpRequestSpec("POST", url(lab, "/post"), body_kind="json", body="{oops"))
    with pytest.raises(NetlabError, match="unsupported scheme 'ftp'"):
        await client.send(HttpRequestSpec("GET", "ftp://127.0.0.1/"))
    with pytest.raises(NetlabError, match="no URL"):
        await client.send(HttpRequestSpec("GET", "  "))
    with pytest.raises(NetlabError, match=r"not a valid URL: 'http://\[oops' \(Invalid IPv6 URL\)"):
        await client.send(HttpRequestSpec("GET", "http://[oops"))
    with pytest.raises(NetlabError, match=r"not a valid URL: .*\(no usable host name\)"):
        await client.send(HttpRequestSpec("GET", "http://127.0.0.1 x/"))
    with pytest.raises(NetlabError, match="invalid HTTP method"):
        await client.send(HttpRequestSpec("GE T", url(lab, "/")))
    errors = [e for e in journal.events() if e.source == client.name and e.kind == "error"]
    assert len(errors) == 2 and "refused" in errors[0].text


async def test_scheme_can_be_left_out(lab, client):
    result = await client.send(HttpRequestSpec("GET", f"127.0.0.1:{lab.port}/ip"))
    assert result.status == 200


async def test_history_keeps_what_was_sent(lab, client):
    spec = HttpRequestSpec("POST", url(lab, "/post"), body_kind="json", body='{"n": 1}')
    await client.send(spec)
    spec.body = '{"n": 2}'  # editing the form afterwards does not rewrite history
    await client.send(spec)
    assert [h.spec.body for h in client.history] == ['{"n": 1}', '{"n": 2}']
    resent = await client.send(client.history[0].spec.copy())
    assert resent.final.json()["json"] == {"n": 1}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed (./dev installs it)")
async def test_copy_as_curl_sends_the_same_request(lab, client):
    spec = HttpRequestSpec("PATCH", url(lab, "/anything/x"), params=[("a", "1 2")],
                           headers=[("X-Quote", "it's")], body_kind="json", body='{"msg": "hi there"}',
                           auth_kind="basic", username="u", password="p w")
    ours = (await client.send(spec)).final.json()
    command = spec.to_curl()
    assert command.startswith("curl -X PATCH ")
    done = await asyncio.to_thread(subprocess.run, command, shell=True, capture_output=True, timeout=10)
    theirs = json.loads(done.stdout)
    for key in ("args", "json", "method", "url", "data"):
        assert theirs[key] == ours[key], key
    assert theirs["headers"]["Authorization"] == ours["headers"]["Authorization"]
    assert theirs["headers"]["X-Quote"] == "it's"


def test_curl_forms():
    assert HttpRequestSpec("GET", "localhost:8080/x").to_curl() == "curl --max-time 10 http://localhost:8080/x"
    assert HttpRequestSpec("HEAD", "http://127.0.0.1/").to_curl().startswith("curl -I ")
    form = HttpRequestSpec("POST", "http://127.0.0.1/p", body_kind="form", form=[("a", "b c")]).to_curl()
    assert "-X" not in form and "--data-raw a=b+c" in form
    assert "Content-Type: application/x-www-form-urlencoded" in form
    bearer = HttpRequestSpec("GET", "http://127.0.0.1/", auth_kind="bearer", token="t", follow_redirects=True).to_curl()
    assert "'Authorization: Bearer t'" in bearer and "-L --max-redirs 10" in bearer
