"""The RPC client: calls methods of an XML-RPC or JSON-RPC server and keeps the documents exchanged."""

from __future__ import annotations

import itertools
import json
import xmlrpc.client
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.http.client import HttpClient, HttpExchange, HttpRequestSpec

from .server import INTERNAL_ERROR, RpcFault, _dump, plain


# -- the client ------------------------------------------------------------------------------------------
@dataclass
class RpcResult:
    protocol: str
    method: str
    params: list[Any] | dict[str, Any]
    value: Any
    fault: RpcFault | None
    request_body: bytes
    response_body: bytes
    exchange: HttpExchange

    @property
    def ok(self) -> bool:
        return self.fault is None


def parse_cli_value(text: str) -> Any:
    """A parameter typed by a user: JSON when it parses (``2``, ``2.5``, ``"2"``, ``[1,2]``), text otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class RpcClient(HttpClient):
    """Calls methods of an XML-RPC or JSON-RPC server; every call keeps its documents and HTTP bytes."""

    kind = "rpc-client"

    def __init__(self, journal: Journal, url: str, protocol: str = "xml-rpc", *, timeout: float = 10.0) -> None:
        if protocol not in ("xml-rpc", "json-rpc"):
            raise NetlabError(f"unknown RPC protocol {protocol!r} (xml-rpc or json-rpc)")
        super().__init__(journal, name=f"{protocol}-client→{url}")
        self.url = url
        self.protocol = protocol
        self.timeout = timeout
        self._ids = itertools.count(1)

    async def list_methods(self) -> list[str]:
        result = await self.call("system.listMethods", [])
        if result.fault is not None:
            raise NetlabError(f"the server does not list its methods: fault {result.fault.code}: "
                              f"{result.fault.message}")
        if not isinstance(result.value, list):
            raise NetlabError("system.listMethods did not return a list")
        return [str(m) for m in result.value]

    async def call(self, method: str, params: list[Any] | dict[str, Any] | None = None) -> RpcResult:
        params = [] if params is None else params
        if self.protocol == "xml-rpc":
            if isinstance(params, dict):
                raise NetlabError("XML-RPC takes positional parameters only")
            try:
                body = xmlrpc.client.dumps(tuple(params), methodname=method, allow_none=True).encode("utf-8")
            except (TypeError, OverflowError) as exc:
                raise NetlabError(f"cannot encode the parameters as XML-RPC: {exc}") from None
            content_type = "text/xml"
        else:
            body = _dump({"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)})
            content_type = "application/json"
        spec = HttpRequestSpec(method="POST", url=self.url, headers=[("Content-Type", content_type)],
                               body_kind="raw", body=body.decode("utf-8"), timeout=self.timeout)
        self.emit("request", proto="rpc", direction="out", payload=body,
                  meta={"protocol": self.protocol, "method": method, "params": plain(params)})
        http = await self.send(spec)
        exchange = http.final
        value, fault = self._decode(exchange)
        meta: dict[str, Any] = {"protocol": self.protocol, "method": method}
        if fault is not None:
            meta["fault"] = {"code": fault.code, "message": fault.message}
        else:
            meta["result"] = plain(value)
        self.emit("response", proto="rpc", direction="in", payload=exchange.body, conn=exchange.conn, meta=meta)
        return RpcResult(self.protocol, method, params, value, fault, body, exchange.body, exchange)

    def _decode(self, exchange: HttpExchange) -> tuple[Any, RpcFault | None]:
        try:
            return self._decode_document(exchange.body)
        except NetlabError:
            if exchange.status >= 300:
                raise NetlabError(f"the server answered HTTP {exchange.status} {exchange.reason} instead of an "
                                  f"{self.protocol} response (is {exchange.url} an {self.protocol} endpoint?)") from None
            raise

    def _decode_document(self, body: bytes) -> tuple[Any, RpcFault | None]:
        if self.protocol == "xml-rpc":
            try:
                (value,), _method = xmlrpc.client.loads(body, use_builtin_types=True)
            except xmlrpc.client.Fault as fault:
                return None, RpcFault(fault.faultCode, fault.faultString)
            except (ExpatError, ValueError, TypeError, xmlrpc.client.ResponseError) as exc:
                raise NetlabError(f"the answer is not an XML-RPC methodResponse: {exc}") from None
            return value, None
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise NetlabError("the answer is not JSON (is this a JSON-RPC endpoint?)") from None
        if not isinstance(document, dict):
            raise NetlabError("the answer is not a JSON-RPC response object")
        error = document.get("error")
        if isinstance(error, dict):
            try:
                code = int(error.get("code", INTERNAL_ERROR))
            except (TypeError, ValueError):
                code = INTERNAL_ERROR
            return None, RpcFault(code, str(error.get("message", "")))
        if "result" not in document:
            raise NetlabError("the JSON-RPC response has neither result nor error")
        return document["result"], None
