"""JSON: pretty-printed with syntax tags, or as a tree with types and paths.

Accepts one JSON document or JSON lines (one document a line, what chat-style line protocols send).
Numbers keep their exact spelling (``1.10`` stays ``1.10``), and duplicate keys are all shown, because
a learner debugging a protocol needs to see what was sent, not what ``json.loads`` kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import Line, View, register

MAX_LINES = 20_000
_SAMPLE = 1 << 22  # beyond 4 MiB we do not try to parse


class _Number(str):
    """A number as spelled in the document."""


def _pairs(pairs: list[tuple[str, Any]]) -> "_Object":
    return _Object(pairs)


class _Object(list):
    """An object as its list of (key, value) pairs: keeps order and duplicates."""


def _loads(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_pairs, parse_float=_Number, parse_int=_Number,
                      parse_constant=_Number)


def parse_documents(data: bytes) -> list[Any]:
    """The JSON documents in ``data``: one, or one per line. Raises ValueError when it is not JSON."""
    if len(data) > _SAMPLE:
        raise ValueError("too large to parse")
    text = data.decode("utf-8-sig")
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty")
    try:
        return [_loads(stripped)]
    except ValueError as first:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) < 2:
            raise first from None
        return [_loads(line) for line in lines]


def content_type(meta: dict[str, Any] | None) -> str:
    """The payload's media type from event meta (``content_type`` / ``content-type``), lower case."""
    if not meta:
        return ""
    value = meta.get("content_type") or meta.get("content-type") or ""
    if not isinstance(value, str):
        return ""
    return value.split(";", 1)[0].strip().lower()


def _scalar(value: Any) -> tuple[str, str]:
    if isinstance(value, _Number):
        return str(value), "number"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False), "string"
    if value is None:
        return "null", "keyword"
    if value is True:
        return "true", "keyword"
    if value is False:
        return "false", "keyword"
    return repr(value), None  # pragma: no cover - json gives nothing else


def pretty_lines(value: Any, indent: int = 2) -> list[Line]:
    """``value`` as indented JSON, one list of spans per line."""
    lines: list[Line] = []

    def emit(node: Any, depth: int, prefix: Line, trailer: str) -> None:
        pad = " " * (indent * depth)
        if isinstance(node, _Object):
            if not node:
                lines.append([(pad, None), *prefix, ("{}" + trailer, None)])
                return
            lines.append([(pad, None), *prefix, ("{", None)])
            for i, (key, child) in enumerate(node):
                comma = "," if i < len(node) - 1 else ""
                key_span: Line = [(json.dumps(key, ensure_ascii=False), "key"), (": ", None)]
                emit(child, depth + 1, key_span, comma)
            lines.append([(pad + "}" + trailer, None)])
        elif isinstance(node, list):
            if not node:
                lines.append([(pad, None), *prefix, ("[]" + trailer, None)])
                return
            lines.append([(pad, None), *prefix, ("[", None)])
            for i, child in enumerate(node):
                emit(child, depth + 1, [], "," if i < len(node) - 1 else "")
            lines.append([(pad + "]" + trailer, None)])
        else:
            text, tag = _scalar(node)
            line: Line = [(pad, None), *prefix, (text, tag)]
            if trailer:
                line.append((trailer, None))
            lines.append(line)

    emit(value, 0, [], "")
    return lines


def compact(value: Any, limit: int = 60) -> str:
    """One-line JSON for a parsed value (numbers as spelled), cut to ``limit`` characters."""

    def text(node: Any) -> str:
        if isinstance(node, _Object):
            return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {text(v)}" for k, v in node) + "}"
        if isinstance(node, list):
            return "[" + ", ".join(text(v) for v in node) + "]"
        return _scalar(node)[0]

    out = text(value)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _kind(node: Any) -> str:
    if isinstance(node, _Object):
        return f"object, {len(node)} key{'s' if len(node) != 1 else ''}"
    if isinstance(node, list):
        return f"array, {len(node)} item{'s' if len(node) != 1 else ''}"
    if isinstance(node, _Number):
        return "number"
    if isinstance(node, str):
        return "string"
    if node is None:
        return "null"
    return "boolean"


def tree_lines(value: Any) -> list[Line]:
    """``value`` as a tree (├─ └─) with each node's type; containers show their size."""
    lines: list[Line] = [[("$", "key"), (f"  ({_kind(value)})", "dim")]]

    def walk(node: Any, guide: str) -> None:
        children: list[tuple[str, Any]]
        if isinstance(node, _Object):
            children = [(json.dumps(k, ensure_ascii=False), v) for k, v in node]
        elif isinstance(node, list):
            children = [(f"[{i}]", v) for i, v in enumerate(node)]
        else:
            return
        for i, (label, child) in enumerate(children):
            last = i == len(children) - 1
            branch = "└─ " if last else "├─ "
            line: Line = [(guide + branch, "dim"), (label, "key")]
            if isinstance(child, (_Object, list)):
                line.append((f"  ({_kind(child)})", "dim"))
                lines.append(line)
                walk(child, guide + ("   " if last else "│  "))
            else:
                text, tag = _scalar(child)
                line += [(": ", None), (text, tag), (f"  ({_kind(child)})", "dim")]
                lines.append(line)

    walk(value, "")
    return lines


def _fit(data: bytes, meta: dict[str, Any] | None) -> float:
    ctype = content_type(meta)
    head = data[:64].lstrip()
    if not head:
        return 0.0
    if head[:1] not in b'{["-0123456789tfn' and not head.startswith(b"\xef\xbb\xbf"):
        return 0.0
    try:
        docs = parse_documents(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 0.0
    structured = any(isinstance(d, (_Object, list)) for d in docs)
    if ctype.endswith("json") or ctype.endswith("+json"):
        return 0.9
    # A bare number or word is valid JSON but far more likely plain text.
    return 0.8 if structured else 0.2


def _limit(lines: list[Line]) -> tuple[list[Line], str | None]:
    if len(lines) > MAX_LINES:
        return lines[:MAX_LINES], f"showing the first {MAX_LINES:,} of {len(lines):,} lines"
    return lines, None


def _documents(docs: list[Any], render: Callable[[Any], list[Line]]) -> tuple[list[Line], str | None]:
    """Every document rendered, each under a "# document i of n" line when there are several."""
    lines: list[Line] = []
    for i, doc in enumerate(docs):
        if len(docs) > 1:
            lines.append([(f"# document {i + 1} of {len(docs)}", "dim")])
        lines += render(doc)
    return _limit(lines)


class JsonDecoder:
    name = "json"
    title = "JSON"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        return _fit(data, meta)

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        docs = parse_documents(data)
        lines, note = _documents(docs, pretty_lines)
        title = "JSON" if len(docs) == 1 else f"JSON lines ({len(docs)} documents)"
        return View(self.name, title, lines, note)


class JsonTreeDecoder:
    name = "json-tree"
    title = "JSON tree"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        score = _fit(data, meta)
        return score - 0.05 if score else 0.0  # a second view of the same thing, never the default

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        lines, note = _documents(parse_documents(data), tree_lines)
        return View(self.name, "JSON tree", lines, note)


register(JsonDecoder())
register(JsonTreeDecoder())
