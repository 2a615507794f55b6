"""``netlab rpc list|call`` against a real ``netlab serve xmlrpc``."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_netlab


@pytest.fixture
def service(serve):
    server = serve("xmlrpc", "--port", "0")
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def test_serve_xmlrpc_prints_listen_first(serve):
    server = serve("xmlrpc", "--port", "0")
    assert server.listen["kind"] == "listen" and server.listen["meta"]["kind"] == "xmlrpc"
    assert server.stop() == 0


def test_list(service):
    done = run_netlab("rpc", "list", f"{service}/")
    assert done.returncode == 0
    assert done.stdout.decode().splitlines()[:3] == ["add", "current_time", "double"]


def test_call_numbers_and_strings(service):
    assert run_netlab("rpc", "call", service, "add", "2", "3").stdout == b"5\n"
    assert run_netlab("rpc", "call", service, "add", "ab", "cd").stdout == b'"abcd"\n'
    forecast = run_netlab("rpc", "call", f"{service}/jsonrpc", "weather_forecast", "2")
    assert forecast.returncode == 0 and len(json.loads(forecast.stdout)) == 2


def test_wire_shows_the_documents(service):
    xml = run_netlab("rpc", "call", f"{service}/RPC2", "double", "4", "--wire").stdout.decode()
    assert "--> POST " in xml and "<methodName>double</methodName>" in xml and "<int>8</int>" in xml
    assert xml.endswith("\n8\n")
    js = run_netlab("rpc", "call", f"{service}/jsonrpc", "double", "4", "--wire").stdout.decode()
    assert '"method": "double"' in js and '"result": 8' in js


def test_fault_is_one_line_and_exit_1(service):
    done = run_netlab("rpc", "call", service, "add", "1", "x")
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode() == ("netlab: fault -32602: add needs two numbers or two strings, "
                                    "got int and string\n")


def test_unreachable(service):
    done = run_netlab("rpc", "list", "http://127.0.0.1:1/")
    assert done.returncode == 1 and b"connection refused" in done.stderr and b"Traceback" not in done.stderr


def test_json_events(service):
    done = run_netlab("rpc", "call", service, "sub", "5", "2", "--json")
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    rpc = [e for e in events if e["proto"] == "rpc"]
    assert [e["kind"] for e in rpc] == ["request", "response"]
    assert rpc[1]["meta"]["result"] == 3
