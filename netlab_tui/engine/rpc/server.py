"""Remote procedure calls over HTTP: the course's XML-RPC service and the same methods as JSON-RPC 2.0
(the client that shows each call's document is ``client``).

``RpcService`` holds the methods (``add``, ``sub``, ``double`` for numbers and strings as in the course's
Pyro/CORBA examples, ``current_time``, ``weather_forecast(days)``) with introspection
(``system.listMethods``, ``system.methodHelp``, ``system.methodSignature``, ``system.multicall``).
Bad arguments are faults with the interoperability codes (-32602 invalid params, -32601 no such
method …), never a server crash. ``RpcApp`` serves it: XML-RPC at ``POST /`` and ``POST /RPC2``,
JSON-RPC at ``POST /jsonrpc``. Besides the HTTP events, each call is journaled as ``rpc`` events whose
payload is the XML/JSON document itself.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import random
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.http.server import HttpApp, HttpRequest, HttpResponse, HttpServer, text_response

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
MAX_FORECAST_DAYS = 14
XMLRPC_INT_MAX = 2**31 - 1


class RpcFault(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- the methods -----------------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "int", float: "double", str: "string", list: "array", dict: "struct",
            type(None): "nil"}.get(type(value), type(value).__name__)


def add(a: Any, b: Any) -> Any:
    """add(a, b): the sum of two numbers, or the concatenation of two strings."""
    if _is_number(a) and _is_number(b):
        return a + b
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    raise RpcFault(INVALID_PARAMS, f"add needs two numbers or two strings, got {_type_name(a)} and {_type_name(b)}")


def sub(a: Any, b: Any) -> Any:
    """sub(a, b): a minus b, for two numbers."""
    if _is_number(a) and _is_number(b):
        return a - b
    raise RpcFault(INVALID_PARAMS, f"sub needs two numbers, got {_type_name(a)} and {_type_name(b)}")


def double(x: Any) -> Any:
    """double(x): twice a number, or a string repeated twice."""
    if _is_number(x):
        return x * 2
    if isinstance(x, str):
        return x + x
    raise RpcFault(INVALID_PARAMS, f"double needs a number or a string, got {_type_name(x)}")


def current_time() -> dt.datetime:
    """current_time(): the server's local date and time (dateTime.iso8601 in XML-RPC, ISO text in JSON)."""
    return dt.datetime.now().replace(microsecond=0)


_SKIES = ("sunny", "partly cloudy", "cloudy", "light rain", "showers", "thunderstorms", "windy", "fog")


def weather_forecast(days: Any) -> list[dict[str, Any]]:
    """weather_forecast(days): an invented forecast for 1 to 14 days, the same all day for a given date."""
    if not isinstance(days, int) or isinstance(days, bool):
        raise RpcFault(INVALID_PARAMS, f"days must be an integer, got {_type_name(days)}")
    if not 1 <= days <= MAX_FORECAST_DAYS:
        raise RpcFault(INVALID_PARAMS, f"days must be from 1 to {MAX_FORECAST_DAYS}, got {days}")
    today = dt.date.today()
    rng = random.Random(today.toordinal())
    forecast = []
    for offset in range(days):
        low = rng.randint(-5, 18)
        forecast.append({
            "date": (today + dt.timedelta(days=offset)).isoformat(),
            "summary": rng.choice(_SKIES),
            "temp_min": low,
            "temp_max": low + rng.randint(3, 12),
            "rain_mm": round(rng.random() * 12, 1) if rng.random() < 0.4 else 0.0,
        })
    return forecast


# -- the service -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RpcMethod:
    name: str
    function: Callable[..., Any]
    signatures: tuple[tuple[str, ...], ...]  # (return type, param types …) per accepted form
    help: str


class RpcService:
    """Methods by name, with introspection. ``call`` raises ``RpcFault`` for anything a caller got wrong."""

    def __init__(self) -> None:
        self._methods: dict[str, RpcMethod] = {}
        self.register(add, (("int", "int", "int"), ("double", "double", "double"), ("string", "string", "string")))
        self.register(sub, (("int", "int", "int"), ("double", "double", "double")))
        self.register(double, (("int", "int"), ("double", "double"), ("string", "string")))
        self.register(current_time, (("dateTime.iso8601",),))
        self.register(weather_forecast, (("array", "int"),))
        self.register(self.list_methods, (("array",),), "system.listMethods")
        self.register(self.method_help, (("string", "string"),), "system.methodHelp")
        self.register(self.method_signature, (("array", "string"),), "system.methodSignature")

    def register(self, function: Callable[..., Any], signatures: tuple[tuple[str, ...], ...],
                 name: str | None = None) -> None:
        name = name or function.__name__
        self._methods[name] = RpcMethod(name, function, signatures, inspect.getdoc(function) or "")

    def list_methods(self) -> list[str]:
        """system.listMethods(): the names of the methods this server offers."""
        return sorted([*self._methods, "system.multicall"])

    def method_help(self, name: Any) -> str:
        """system.methodHelp(name): what a method does."""
        if name == "system.multicall":
            return "system.multicall(calls): several calls in one request; each a struct {methodName, params}."
        return self._lookup(name).help

    def method_signature(self, name: Any) -> list[list[str]]:
        """system.methodSignature(name): the accepted forms, each [return type, parameter types …]."""
        if name == "system.multicall":
            return [["array", "array"]]
        return [list(sig) for sig in self._lookup(name).signatures]

    def _lookup(self, name: Any) -> RpcMethod:
        if not isinstance(name, str) or name not in self._methods:
            raise RpcFault(METHOD_NOT_FOUND, f"no method {name!r}; system.listMethods lists them")
        return self._methods[name]

    def call(self, name: str, params: list[Any] | dict[str, Any]) -> Any:
        method = self._lookup(name)
        signature = inspect.signature(method.function)
        try:
            bound = signature.bind(*params) if isinstance(params, list) else signature.bind(**params)
        except TypeError:
            wanted = ", ".join(signature.parameters) or "no arguments"
            got = len(params)
            raise RpcFault(INVALID_PARAMS, f"{name} takes ({wanted}); got {got} "
                                           f"argument{'s' if got != 1 else ''}") from None
        try:
            return method.function(*bound.args, **bound.kwargs)
        except RpcFault:
            raise
        except Exception as exc:
            raise RpcFault(INTERNAL_ERROR, f"{name} failed: {exc.__class__.__name__}: {exc}") from None


def plain(value: Any) -> Any:
    """A JSON-friendly copy of an RPC value (dates as ISO text, binary as base64 text)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, xmlrpc.client.DateTime):
        return dt.datetime.strptime(value.value, "%Y%m%dT%H:%M:%S").isoformat()
    if isinstance(value, xmlrpc.client.Binary):
        return value.data.decode("latin-1")
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


# -- XML-RPC ---------------------------------------------------------------------------------------------
@dataclass
class RpcOutcome:
    """One call as the server saw it (for the journal)."""

    protocol: str
    method: str | None
    params: Any
    result: Any = None
    fault: RpcFault | None = None

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"protocol": self.protocol, "method": self.method, "params": plain(self.params)}
        if self.fault is not None:
            meta["fault"] = {"code": self.fault.code, "message": self.fault.message}
        else:
            meta["result"] = plain(self.result)
        return meta


def _check_xmlrpc_value(value: Any) -> None:
    """XML-RPC's <int> is 32-bit: refuse what ``xmlrpc.client`` would fail to encode, as a fault."""
    if isinstance(value, int) and not isinstance(value, bool) and not -XMLRPC_INT_MAX - 1 <= value <= XMLRPC_INT_MAX:
        raise RpcFault(INVALID_PARAMS, f"the result {value} does not fit XML-RPC's 32-bit <int>")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_xmlrpc_value(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_xmlrpc_value(item)


def _xmlrpc_fault(fault: RpcFault) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(fault.code, fault.message), methodresponse=True,
                               allow_none=True).encode("utf-8")


def handle_xmlrpc(service: RpcService, body: bytes) -> tuple[bytes, RpcOutcome]:
    """An XML-RPC methodCall document in, the methodResponse document out."""
    outcome = RpcOutcome("xml-rpc", None, [])
    try:
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except (ExpatError, ValueError, TypeError, IndexError, xmlrpc.client.ResponseError) as exc:
            raise RpcFault(PARSE_ERROR, f"not an XML-RPC methodCall: {exc}") from None
        outcome.method, outcome.params = method, list(params)
        if method is None:
            raise RpcFault(INVALID_REQUEST, "the document has no <methodName> (is it a methodResponse?)")
        if method == "system.multicall":
            result = _multicall(service, list(params))
        else:
            result = service.call(method, list(params))
        _check_xmlrpc_value(result)
        outcome.result = result
        response = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True).encode("utf-8")
    except RpcFault as fault:
        outcome.fault = fault
        response = _xmlrpc_fault(fault)
    return response, outcome


def _multicall(service: RpcService, params: list[Any]) -> list[Any]:
    if len(params) != 1 or not isinstance(params[0], list):
        raise RpcFault(INVALID_PARAMS, "system.multicall takes one array of {methodName, params} structs")
    results: list[Any] = []
    for call in params[0]:
        try:
            if not isinstance(call, dict) or not isinstance(call.get("methodName"), str):
                raise RpcFault(INVALID_REQUEST, "each call must be a struct with a methodName string")
            if call["methodName"] == "system.multicall":
                raise RpcFault(INVALID_REQUEST, "system.multicall cannot be nested")
            value = service.call(call["methodName"], list(call.get("params") or []))
            _check_xmlrpc_value(value)
            results.append([value])
        except RpcFault as fault:
            results.append({"faultCode": fault.code, "faultString": fault.message})
    return results


# -- JSON-RPC 2.0 ----------------------------------------------------------------------------------------
def _jsonrpc_error(code: int, message: str, id_: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id_}


def _jsonrpc_one(service: RpcService, call: Any, outcomes: list[RpcOutcome]) -> dict[str, Any] | None:
    if not isinstance(call, dict) or call.get("jsonrpc") != "2.0" or not isinstance(call.get("method"), str):
        fault = RpcFault(INVALID_REQUEST, 'a request is an object with "jsonrpc": "2.0" and a "method" string')
        outcomes.append(RpcOutcome("json-rpc", None, None, fault=fault))
        id_ = call.get("id") if isinstance(call, dict) else None
        return _jsonrpc_error(fault.code, fault.message, id_)
    is_notification = "id" not in call
    id_ = call.get("id")
    params = call.get("params", [])
    outcome = RpcOutcome("json-rpc", call["method"], params)
    outcomes.append(outcome)
    try:
        if not isinstance(params, (list, dict)):
            raise RpcFault(INVALID_PARAMS, '"params" must be an array or an object')
        if call["method"] == "system.multicall":
            raise RpcFault(METHOD_NOT_FOUND, "system.multicall is XML-RPC's; JSON-RPC sends a batch (an array)")
        outcome.result = service.call(call["method"], params)
    except RpcFault as fault:
        outcome.fault = fault
        return None if is_notification else _jsonrpc_error(fault.code, fault.message, id_)
    if is_notification:
        return None
    return {"jsonrpc": "2.0", "result": plain(outcome.result), "id": id_}


def handle_jsonrpc(service: RpcService, body: bytes) -> tuple[bytes | None, list[RpcOutcome]]:
    """A JSON-RPC 2.0 request or batch in; the response document out (None when all were notifications)."""
    outcomes: list[RpcOutcome] = []
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        fault = RpcFault(PARSE_ERROR, f"not JSON: {exc}")
        outcomes.append(RpcOutcome("json-rpc", None, None, fault=fault))
        return _dump(_jsonrpc_error(fault.code, fault.message)), outcomes
    if isinstance(document, list):
        if not document:
            fault = RpcFault(INVALID_REQUEST, "an empty batch")
            outcomes.append(RpcOutcome("json-rpc", None, None, fault=fault))
            return _dump(_jsonrpc_error(fault.code, fault.message)), outcomes
        replies = [r for r in (_jsonrpc_one(service, call, outcomes) for call in document) if r is not None]
        return (_dump(replies) if replies else None), outcomes
    reply = _jsonrpc_one(service, document, outcomes)
    return (_dump(reply) if reply is not None else None), outcomes


def _dump(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8") + b"\n"


# -- serving ---------------------------------------------------------------------------------------------
class RpcEndpoints:
    """The RPC routes, mountable on any ``HttpApp`` (the lab HTTP server mounts them too)."""

    def __init__(self, app: HttpApp, service: RpcService | None = None) -> None:
        self.app = app
        self.service = service or RpcService()

    def mount(self, xmlrpc_paths: tuple[str, ...] = ("/RPC2",), jsonrpc_path: str = "/jsonrpc") -> None:
        for path in xmlrpc_paths:
            self.app.router.add(path, "POST", self.xmlrpc)
        self.app.router.add(jsonrpc_path, "POST", self.jsonrpc)

    async def xmlrpc(self, request: HttpRequest) -> HttpResponse:
        response, outcome = handle_xmlrpc(self.service, request.body)
        self._journal(request, response, [outcome])
        return HttpResponse(200, response, "text/xml; charset=utf-8")

    async def jsonrpc(self, request: HttpRequest) -> HttpResponse:
        response, outcomes = handle_jsonrpc(self.service, request.body)
        self._journal(request, response, outcomes)
        if response is None:
            return HttpResponse(204)
        return HttpResponse(200, response, "application/json")

    def _journal(self, request: HttpRequest, response: bytes | None, outcomes: list[RpcOutcome]) -> None:
        server = self.app.server
        calls = [o.meta() for o in outcomes]
        first = calls[0] if len(calls) == 1 else {"protocol": calls[0]["protocol"] if calls else None,
                                                  "batch": calls}
        server.emit("request", proto="rpc", direction="in", payload=request.body, local=request.local,
                    peer=request.peer, conn=request.conn, meta=first)
        if response is not None:
            server.emit("response", proto="rpc", direction="out", payload=response, local=request.local,
                        peer=request.peer, conn=request.conn, meta=first)


class RpcApp(HttpApp):
    kind = "xmlrpc"
    title = "XML-RPC service"

    def __init__(self) -> None:
        super().__init__()
        self.endpoints = RpcEndpoints(self)
        self.endpoints.mount(("/", "/RPC2"), "/jsonrpc")
        self.router.add("/", "GET", self.index)

    async def index(self, request: HttpRequest) -> HttpResponse:
        service = self.endpoints.service
        lines = [f"{self.title} (netlab). POST an XML-RPC methodCall to / or /RPC2, or JSON-RPC 2.0 to /jsonrpc.",
                 "", "Methods:"]
        for name in service.list_methods():
            help_text = service.method_help(name).splitlines()[0]
            lines.append(f"  {help_text}")
        lines += ["", "Python:",
                  f"  import xmlrpc.client; p = xmlrpc.client.ServerProxy('http://{request.host}/')",
                  "  p.system.listMethods(); p.add(2, 3); p.double('ab')", ""]
        return text_response("\n".join(lines))


def make_server(journal: Journal, host: str = "127.0.0.1", port: int = 0) -> HttpServer:
    """The ``xmlrpc`` kind's server (registered in ``kind.py``)."""
    return HttpServer(journal, RpcApp(), host, port)


# The client (RpcClient, RpcResult, parse_cli_value) lives in rpc_client.py: it subclasses the httpx-based
# HttpClient, and importing httpx costs a tenth of a second the server kinds' catalogue need not pay.
