"""``netlab http METHOD URL`` as a user runs it, against a real ``netlab serve http``."""

from __future__ import annotations

import json

import pytest

from netlab_tui.engine.core.events import CONTRACT_KEYS
from tests.conftest import run_netlab


@pytest.fixture
def lab(serve, tmp_path):
    server = serve("http", "--port", "0", "--db", str(tmp_path / "lab.db"))
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def test_get_prints_status_headers_and_pretty_body(lab):
    done = run_netlab("http", "GET", f"{lab}/api/users/1")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert out.startswith("HTTP/1.1 200 OK\nServer: netlab/")
    assert "Content-Type: application/json\n" in out
    head, _, body = out.partition("\n\n")
    assert json.loads(body) == {"id": 1, "name": "alice", "status": "online"}
    assert done.stderr == b""


def test_exit_status_follows_the_http_status(lab):
    assert run_netlab("http", "GET", f"{lab}/status/404").returncode == 4
    assert run_netlab("http", "GET", f"{lab}/status/503").returncode == 5
    assert run_netlab("http", "GET", f"{lab}/status/302").returncode == 0
    missing = run_netlab("http", "GET", f"{lab}/api/users/77")
    assert missing.returncode == 4 and b"no user with id 77" in missing.stdout


def test_network_errors_are_one_line(lab):
    done = run_netlab("http", "GET", "http://127.0.0.1:1/")
    assert done.returncode == 1
    assert done.stderr.decode() == "netlab: connection refused by 127.0.0.1:1 (nothing is listening there)\n"
    timeout = run_netlab("http", "GET", f"{lab}/delay/3", "--timeout", "0.3")
    assert timeout.returncode == 1 and timeout.stderr.decode().startswith("netlab: no response from")
    assert b"Traceback" not in timeout.stderr


def test_bad_input_is_one_line(lab):
    done = run_netlab("http", "POST", f"{lab}/post", "--json-body", "{broken")
    assert done.returncode == 1 and done.stderr.count(b"\n") == 1
    assert b"not valid JSON" in done.stderr
    header = run_netlab("http", "GET", lab, "-H", "no colon here")
    assert header.returncode == 2 and b"expected 'Name: value'" in header.stderr
    scheme = run_netlab("http", "GET", "gopher://x/")
    assert scheme.returncode == 1 and b"unsupported scheme" in scheme.stderr


def test_json_body_form_headers_query_and_auth(lab):
    patched = run_netlab("http", "PATCH", f"{lab}/api/users/3", "--json-body", '{"status": "online"}')
    assert patched.returncode == 0 and '"status": "online"' in patched.stdout.decode()
    form = run_netlab("http", "POST", f"{lab}/post", "--form", "a=1", "--form", "b=x y", "-H", "X-From: cli",
                      "-q", "page=2")
    echoed = json.loads(form.stdout.decode().partition("\n\n")[2])
    assert echoed["form"] == {"a": "1", "b": "x y"} and echoed["args"] == {"page": "2"}
    assert echoed["headers"]["X-From"] == "cli"
    auth = run_netlab("http", "GET", f"{lab}/basic-auth/me/pw", "-u", "me:pw")
    assert auth.returncode == 0
    bearer = run_netlab("http", "GET", f"{lab}/bearer", "--bearer", "abc")
    assert '"token": "abc"' in bearer.stdout.decode()
    data = run_netlab("http", "PUT", f"{lab}/put", "--data", "-", input=b"from stdin")
    assert json.loads(data.stdout.decode().partition("\n\n")[2])["data"] == "from stdin"


def test_raw_prints_the_exact_bytes_both_ways(lab):
    done = run_netlab("http", "POST", f"{lab}/post", "--form", "k=v", "--raw")
    assert done.returncode == 0
    assert done.stdout.startswith(b"POST /post HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\n\r\nk=v\nHTTP/1.1 200 OK\r\nServer: netlab/" in done.stdout


def test_follow_redirects(lab):
    done = run_netlab("http", "GET", f"{lab}/redirect/2", "-L", "--raw")
    assert done.stdout.count(b"HTTP/1.1 302 Found") == 2 and done.stdout.count(b"HTTP/1.1 200 OK") == 1
    not_followed = run_netlab("http", "GET", f"{lab}/redirect/2")
    assert not_followed.stdout.startswith(b"HTTP/1.1 302 Found") and b"Location: /redirect/1" in not_followed.stdout


def test_json_events_follow_the_contract(lab):
    done = run_netlab("http", "GET", f"{lab}/ip", "--json")
    assert done.returncode == 0
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [e["kind"] for e in events] == ["connect", "request", "response"]
    for event in events:
        assert tuple(event) == CONTRACT_KEYS
        assert event["proto"] == "http"
    request, response = events[1:]
    assert request["direction"] == "out" and bytes.fromhex(request["hex"]).startswith(b"GET /ip HTTP/1.1")
    assert response["meta"]["status"] == 200 and response["conn"] == request["conn"]


def test_curl_option_prints_an_equivalent_command():
    done = run_netlab("http", "POST", "localhost:9/x", "--json-body", '{"a": 1}', "-u", "u:p")
    assert done.returncode == 1  # nothing listens on port 9
    curl = run_netlab("http", "POST", "localhost:9/x", "--json-body", '{"a": 1}', "-u", "u:p", "--curl")
    assert curl.returncode == 0
    assert curl.stdout.decode() == ("curl -H 'Content-Type: application/json' -u u:p --data-raw '{\"a\": 1}' "
                                    "--max-time 10 http://localhost:9/x\n")
