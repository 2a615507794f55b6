"""The XML-RPC service driven by Python's own xmlrpc.client (as the course does), the same methods over
JSON-RPC 2.0, the rpc events in the journal, and netlab's RPC client."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import xmlrpc.client

import httpx
import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.http.lab import LabHttpApp
from netlab_tui.engine.http.server import HttpServer
from netlab_tui.engine.rpc.client import RpcClient, parse_cli_value
from netlab_tui.engine.rpc.server import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcApp,
    RpcService,
)


@pytest.fixture
async def rpc_server(journal, registry):
    server = HttpServer(journal, RpcApp(), "127.0.0.1", 0)
    await registry.start(server)
    return server


def proxy(server: HttpServer, path: str = "/") -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{server.port}{path}", allow_none=True)


async def in_thread(fn, *args):
    """xmlrpc.client blocks; the server runs on this test's loop."""
    return await asyncio.to_thread(fn, *args)


async def test_xmlrpc_kind_is_registered():
    kind = server_kinds()["xmlrpc"]
    assert kind.proto == "http" and kind.default_port == 8000
    assert "http" in server_kinds()


async def test_introspection_and_methods_with_xmlrpc_client(rpc_server):
    p = proxy(rpc_server)

    def session():
        return (p.system.listMethods(), p.add(2, 3), p.add(2.5, 0.25), p.add("ab", "cd"), p.sub(10, 4),
                p.double(21), p.double("ha"), p.double(1.5), p.current_time(), p.weather_forecast(3),
                p.system.methodHelp("double"), p.system.methodSignature("add"))

    (methods, add_int, add_float, add_str, sub, double_int, double_str, double_float, now, forecast, help_text,
     signature) = await in_thread(session)
    assert methods == ["add", "current_time", "double", "sub", "system.listMethods", "system.methodHelp",
                       "system.methodSignature", "system.multicall", "weather_forecast"]
    assert (add_int, add_float, add_str, sub) == (5, 2.75, "abcd", 6)
    assert (double_int, double_str, double_float) == (42, "haha", 3.0)
    assert isinstance(now, xmlrpc.client.DateTime)
    delta = abs(dt.datetime.strptime(now.value, "%Y%m%dT%H:%M:%S") - dt.datetime.now())
    assert delta < dt.timedelta(seconds=30)
    assert len(forecast) == 3 and set(forecast[0]) == {"date", "summary", "temp_min", "temp_max", "rain_mm"}
    assert forecast[0]["date"] == dt.date.today().isoformat()
    assert forecast[0]["temp_min"] <= forecast[0]["temp_max"]
    assert "twice a number" in help_text
    assert ["string", "string", "string"] in signature


@pytest.mark.parametrize("call, code, words", [
    (lambda p: p.add(1, "x"), INVALID_PARAMS, "two numbers or two strings, got int and string"),
    (lambda p: p.sub("a", "b"), INVALID_PARAMS, "sub needs two numbers"),
    (lambda p: p.double([1]), INVALID_PARAMS, "got array"),
    (lambda p: p.add(1), INVALID_PARAMS, "add takes (a, b); got 1 argument"),
    (lambda p: p.weather_forecast(0), INVALID_PARAMS, "from 1 to 14"),
    (lambda p: p.weather_forecast(15), INVALID_PARAMS, "from 1 to 14"),
    (lambda p: p.weather_forecast("3"), INVALID_PARAMS, "must be an integer"),
    (lambda p: p.weather_forecast(True), INVALID_PARAMS, "got boolean"),
    (lambda p: p.nothing_here(), METHOD_NOT_FOUND, "no method 'nothing_here'"),
    (lambda p: p.system.methodHelp("nope"), METHOD_NOT_FOUND, "no method"),
    (lambda p: p.double(2**30), INVALID_PARAMS, "32-bit"),
])
async def test_bad_arguments_are_faults(rpc_server, call, code, words):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        await in_thread(call, proxy(rpc_server))
    assert fault.value.faultCode == code
    assert words in fault.value.faultString


async def test_multicall(rpc_server):
    def session():
        multi = xmlrpc.client.MultiCall(proxy(rpc_server))
        multi.add(1, 2)
        multi.double("x")
        multi.sub("a", 1)
        results = multi()
        return [results[0], results[1]], results

    (three, xx), results = await in_thread(session)
    assert (three, xx) == (3, "xx")
    with pytest.raises(xmlrpc.client.Fault, match="sub needs two numbers"):
        results[2]


async def test_malformed_xml_is_a_parse_fault(rpc_server):
    async with httpx.AsyncClient() as client:
        response = await client.post(f"http://127.0.0.1:{rpc_server.port}/RPC2", content=b"<methodCall><oops")
    assert response.status_code == 200
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(response.content)
    assert fault.value.faultCode == PARSE_ERROR


async def test_rpc_events_carry_the_xml_documents(rpc_server, journal):
    await in_thread(lambda: proxy(rpc_server, "/RPC2").add(4, 5))
    rpc_events = [e for e in journal.events() if e.proto == "rpc"]
    assert [(e.kind, e.direction) for e in rpc_events] == [("request", "in"), ("response", "out")]
    request, response = rpc_events
    assert b"<methodName>add</methodName>" in request.payload
    assert request.meta == {"protocol": "xml-rpc", "method": "add", "params": [4, 5], "result": 9}
    assert xmlrpc.client.loads(response.payload)[0] == (9,)
    http_request = next(e for e in journal.events() if e.proto == "http" and e.kind == "request")
    assert http_request.conn == request.conn
    assert http_request.payload.endswith(request.payload)  # the XML is the HTTP body, byte for byte


async def test_get_on_the_service_explains_itself(rpc_server):
    async with httpx.AsyncClient() as client:
        page = await client.get(f"http://127.0.0.1:{rpc_server.port}/")
    assert page.status_code == 200 and "weather_forecast(days)" in page.text


# -- JSON-RPC 2.0 --------------------------------------------------------------------------------------------
async def jsonrpc(server: HttpServer, document) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return await client.post(f"http://127.0.0.1:{server.port}/jsonrpc", content=body,
                                 headers={"Content-Type": "application/json"})


async def test_jsonrpc_calls(rpc_server):
    reply = (await jsonrpc(rpc_server, {"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 7})).json()
    assert reply == {"jsonrpc": "2.0", "result": 3, "id": 7}
    named = (await jsonrpc(rpc_server, {"jsonrpc": "2.0", "method": "sub", "params": {"a": 9, "b": 2},
                                        "id": "x"})).json()
    assert named["result"] == 7 and named["id"] == "x"
    now = (await jsonrpc(rpc_server, {"jsonrpc": "2.0", "method": "current_time", "id": 1})).json()
    assert dt.datetime.fromisoformat(now["result"])


async def test_jsonrpc_batch_and_notifications(rpc_server):
    batch = [
        {"jsonrpc": "2.0", "method": "double", "params": ["ab"], "id": 1},
        {"jsonrpc": "2.0", "method": "double", "params": [5]},  # a notification: no reply
        {"jsonrpc": "2.0", "method": "nope", "id": 3},
        {"method": "add", "id": 4},
    ]
    replies = (await jsonrpc(rpc_server, batch)).json()
    assert replies[0] == {"jsonrpc": "2.0", "result": "abab", "id": 1}
    assert replies[1]["error"]["code"] == METHOD_NOT_FOUND and replies[1]["id"] == 3
    assert replies[2]["error"]["code"] == INVALID_REQUEST and replies[2]["id"] == 4
    assert len(replies) == 3
    only_notification = await jsonrpc(rpc_server, {"jsonrpc": "2.0", "method": "add", "params": [1, 1]})
    assert only_notification.status_code == 204 and only_notification.content == b""


@pytest.mark.parametrize("document, code", [
    (b"{not json", PARSE_ERROR),
    ([], INVALID_REQUEST),
    ({"jsonrpc": "1.0", "method": "add", "id": 1}, INVALID_REQUEST),
    ({"jsonrpc": "2.0", "method": "add", "params": "12", "id": 1}, INVALID_PARAMS),
    ({"jsonrpc": "2.0", "method": "add", "params": {"x": 1}, "id": 1}, INVALID_PARAMS),
    ({"jsonrpc": "2.0", "method": "add", "params": [1, "a"], "id": 1}, INVALID_PARAMS),
])
async def test_jsonrpc_errors(rpc_server, document, code):
    reply = (await jsonrpc(rpc_server, document)).json()
    assert reply["error"]["code"] == code and reply["jsonrpc"] == "2.0"


async def test_lab_http_server_also_speaks_rpc(journal, registry, tmp_path):
    server = HttpServer(journal, LabHttpApp(db=str(tmp_path / "lab.db")), "127.0.0.1", 0)
    await registry.start(server)
    assert await in_thread(lambda: proxy(server, "/RPC2").double(8)) == 16
    assert (await jsonrpc(server, {"jsonrpc": "2.0", "method": "add", "params": ["a", "b"], "id": 1})).json()[
        "result"] == "ab"


# -- netlab's client ----------------------------------------------------------------------------------------
async def test_rpc_client_xmlrpc(rpc_server, journal, registry):
    client = RpcClient(journal, f"http://127.0.0.1:{rpc_server.port}/RPC2")
    await registry.start(client)
    assert "weather_forecast" in await client.list_methods()
    result = await client.call("add", [2, 3])
    assert result.ok and result.value == 5
    assert result.request_body.startswith(b"<?xml") and b"<int>2</int>" in result.request_body
    assert result.response_body == result.exchange.body and b"<int>5</int>" in result.response_body
    assert result.exchange.raw_sent.endswith(result.request_body)
    fault = await client.call("add", [1, "x"])
    assert not fault.ok and fault.fault.code == INVALID_PARAMS and fault.value is None
    mine = [e for e in journal.events() if e.source == client.name and e.proto == "rpc"]
    assert [e.kind for e in mine] == ["request", "response"] * 3
    assert mine[-1].meta["fault"]["code"] == INVALID_PARAMS


async def test_rpc_client_jsonrpc(rpc_server, journal, registry):
    client = RpcClient(journal, f"http://127.0.0.1:{rpc_server.port}/jsonrpc", "json-rpc")
    await registry.start(client)
    result = await client.call("weather_forecast", [2])
    assert len(result.value) == 2 and json.loads(result.request_body)["method"] == "weather_forecast"
    named = await client.call("sub", {"a": 3, "b": 1})
    assert named.value == 2
    fault = await client.call("missing")
    assert fault.fault.code == METHOD_NOT_FOUND


async def test_rpc_client_against_something_else(journal, registry, tmp_path):
    server = HttpServer(journal, LabHttpApp(db=str(tmp_path / "lab.db")), "127.0.0.1", 0)
    await registry.start(server)
    client = RpcClient(journal, f"http://127.0.0.1:{server.port}/get")
    await registry.start(client)
    with pytest.raises(NetlabError, match="HTTP 405 Method Not Allowed instead of an xml-rpc response"):
        await client.call("add", [1, 2])
    with pytest.raises(NetlabError, match="unknown RPC protocol"):
        RpcClient(journal, "http://127.0.0.1/", "soap")


def test_service_directly():
    service = RpcService()
    assert service.call("add", [1, 2]) == 3
    assert service.call("double", {"x": "z"}) == "zz"


@pytest.mark.parametrize("text, value", [("2", 2), ("2.5", 2.5), ('"2"', "2"), ("ab", "ab"), ("[1, 2]", [1, 2]),
                                         ("true", True), ("hello world", "hello world")])
def test_cli_values(text, value):
    assert parse_cli_value(text) == value
