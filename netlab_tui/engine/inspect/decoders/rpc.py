"""Remote procedure calls: XML-RPC and JSON-RPC calls, results and faults, as the call they stand for.

``<methodCall><methodName>add</methodName>…`` becomes ``add(2, 3)`` with each parameter and its type
listed; a response shows its value or its fault. JSON-RPC (2.0 and 1.0) requests, notifications,
results, errors and batches likewise, with the standard error codes named. The raw XML/JSON stays one
keypress away in the XML and JSON views.
"""

from __future__ import annotations

import datetime
import re
import xmlrpc.client
from typing import Any

from . import Line, View, register
from .json import _Object, compact, parse_documents, pretty_lines

MAX_BYTES = 4 << 20
_XMLRPC_ROOT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?<(methodCall|methodResponse)\b")

JSONRPC_ERRORS = {
    -32700: "Parse error",
    -32600: "Invalid Request",
    -32601: "Method not found",
    -32602: "Invalid params",
    -32603: "Internal error",
}


# -- XML-RPC -------------------------------------------------------------------------------------------
def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray)):
        return "base64"
    if isinstance(value, (datetime.datetime, xmlrpc.client.DateTime)):
        return "dateTime.iso8601"
    if isinstance(value, dict):
        return "struct"
    if isinstance(value, (list, tuple)):
        return "array"
    if value is None:
        return "nil"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_lines(value: Any, depth: int, label: str) -> list[Line]:
    pad = "  " * depth
    type_span = (f"  ({_type_name(value)})", "dim")
    if isinstance(value, dict):
        lines: list[Line] = [[(pad + label, "key"), type_span]]
        for key, child in value.items():
            lines += _value_lines(child, depth + 1, f"{key}:")
        return lines
    if isinstance(value, (list, tuple)):
        lines = [[(pad + label, "key"), type_span]]
        for i, child in enumerate(value):
            lines += _value_lines(child, depth + 1, f"[{i}]")
        return lines
    tag = "string" if isinstance(value, str) else "number" if isinstance(value, (int, float)) else "keyword"
    return [[(pad + label, "key"), (" ", None), (repr(value), tag), type_span]]


def xmlrpc_lines(data: bytes) -> tuple[str, list[Line]]:
    try:
        params, method = xmlrpc.client.loads(data, use_builtin_types=True)
    except xmlrpc.client.Fault as fault:
        name = JSONRPC_ERRORS.get(fault.faultCode, "")
        return "XML-RPC fault", [
            [("fault ", "error"), (str(fault.faultCode), "number"), (f" {name}" if name else "", "dim")],
            [("faultString: ", "key"), (fault.faultString, "string")],
        ]
    if method is not None:
        call = f"{method}({', '.join(_short(p, 30) for p in params)})"
        lines: list[Line] = [[("call ", "dim"), (call, "keyword")],
                             [("method: ", "key"), (method, "string")],
                             [(f"params ({len(params)}):", "key")]]
        for i, param in enumerate(params):
            lines += _value_lines(param, 1, f"[{i}]")
        return f"XML-RPC call {method}()", lines
    value = params[0] if len(params) == 1 else params
    return "XML-RPC response", [[("result", "dim")], *_value_lines(value, 1, "value")]


# -- JSON-RPC ------------------------------------------------------------------------------------------
def _is_jsonrpc(obj: Any) -> bool:
    if not isinstance(obj, _Object):
        return False
    keys = {k for k, _ in obj}
    d = dict(obj)
    if "method" in keys and isinstance(d["method"], str):
        return "jsonrpc" in keys or ("params" in keys and "id" in keys)
    if "id" in keys and ("result" in keys or "error" in keys):
        return "jsonrpc" in keys or keys == {"id", "result", "error"}
    return False


def jsonrpc_messages(data: bytes) -> list[Any]:
    """Every JSON-RPC message in ``data`` (batches flattened). Raises ValueError when it is not JSON-RPC."""
    messages: list[Any] = []
    for doc in parse_documents(data):
        items = doc if isinstance(doc, list) and not isinstance(doc, _Object) else [doc]
        if not items or not all(_is_jsonrpc(item) for item in items):
            raise ValueError("not JSON-RPC")
        messages += items
    return messages


def _id_text(d: dict[str, Any]) -> str:
    return f"id={compact(d['id'], 30)}" if "id" in d else "id missing"


def jsonrpc_lines(message: _Object) -> list[Line]:
    d = dict(message)
    version = f"JSON-RPC {d['jsonrpc']}" if "jsonrpc" in d else "JSON-RPC 1.0"
    lines: list[Line] = []
    warnings: list[str] = []
    if "jsonrpc" in d and d["jsonrpc"] != "2.0":
        warnings.append(f'"jsonrpc" must be "2.0", not {d["jsonrpc"]!r}')
    if "method" in d:
        params = d.get("params")
        notification = "id" not in d and "jsonrpc" in d
        if isinstance(params, _Object):
            args = ", ".join(f"{k}={compact(v, 20)}" for k, v in params)
        elif isinstance(params, list):
            args = ", ".join(compact(v, 20) for v in params)
        else:
            args = "" if params is None else compact(params)
        what = "notification" if notification else "call"
        lines.append([(f"{version} {what}  ", "dim"), (f"{d['method']}({args})", "keyword"),
                      ("" if notification else f"  {_id_text(d)}", "dim")])
        if notification:
            lines.append([("no id: the server must not answer", "dim")])
        if params is not None:
            kind = "by name" if isinstance(params, _Object) else "by position" if isinstance(params, list) else ""
            lines.append([(f"params ({kind}):" if kind else "params:", "key")])
            lines += [[("  ", None), *line] for line in pretty_lines(params)]
            if not isinstance(params, (_Object, list)):
                warnings.append("params must be an array or an object")
    elif d.get("error") is not None:
        error = d["error"]
        if isinstance(error, _Object):
            e = dict(error)
            code = e.get("code")
            try:
                name = JSONRPC_ERRORS.get(int(str(code)), "")
            except ValueError:
                name = ""
            lines.append([(f"{version} error  ", "dim"), (f"code {code}", "error"),
                          (f" {name}" if name else "", "dim"), (f"  {_id_text(d)}", "dim")])
            if "message" in e:
                lines.append([("message: ", "key"), (compact(e["message"], 200), "string")])
            if "data" in e:
                lines.append([("data:", "key")])
                lines += [[("  ", None), *line] for line in pretty_lines(e["data"])]
        else:
            lines.append([(f"{version} error  ", "dim"), (compact(error), "error"), (f"  {_id_text(d)}", "dim")])
        if "result" in d and "jsonrpc" in d:
            warnings.append("a 2.0 response has either result or error, not both")
    else:
        lines.append([(f"{version} result  ", "dim"), (_id_text(d), "dim")])
        lines += [[("  ", None), *line] for line in pretty_lines(d.get("result"))]
    lines += [[("⚠ " + w, "warning")] for w in warnings]
    return lines


class RpcDecoder:
    name = "rpc"
    title = "RPC call"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        if not data or len(data) > MAX_BYTES:
            return 0.0
        head = data[:512]
        if _XMLRPC_ROOT.match(head):
            try:
                xmlrpc.client.loads(data)
            except xmlrpc.client.Fault:
                return 0.95
            except Exception:
                return 0.0
            return 0.95
        if head.lstrip()[:1] in (b"{", b"["):
            try:
                jsonrpc_messages(data)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return 0.0
            return 0.95
        return 0.0

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        if _XMLRPC_ROOT.match(data[:512]):
            title, lines = xmlrpc_lines(data)
            return View(self.name, title, lines)
        messages = jsonrpc_messages(data)
        lines: list[Line] = []
        for i, message in enumerate(messages):
            if len(messages) > 1:
                lines.append([(f"── {i + 1} of {len(messages)} ──", "header")])
            lines += jsonrpc_lines(message)
        title = "JSON-RPC" if len(messages) == 1 else f"JSON-RPC batch ({len(messages)} messages)"
        return View(self.name, title, lines)


register(RpcDecoder())
