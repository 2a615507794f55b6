"""Turning what a user typed into the bytes to send: text, hex digits, or a JSON document.

The CLI (``netlab send``) and the TUI's client panes share these, so ``48 65`` and
``cmd=add args.name=Alice`` mean the same thing everywhere. Errors are ``NetlabError`` lines.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from typing import Any

from netlab_tui.engine.core.sessions import NetlabError

MODES = ("text", "hex", "json")
LINE_ENDINGS = {"none": b"", "lf": b"\n", "crlf": b"\r\n"}

# The request the course types by hand to talk HTTP over a plain socket (\r\n line ends, blank line).
HTTP_GET_TEMPLATE = "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|x|[rnt0\\])")
_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "0": "\0", "\\": "\\"}


def unescape(text: str) -> bytes:
    """``\\r``, ``\\n``, ``\\t``, ``\\0``, ``\\\\`` and ``\\xNN`` typed in a one-line field, as the bytes they
    stand for (the rest as UTF-8), so a one-line input can carry ``GET / HTTP/1.1\\r\\n\\r\\n``."""
    out = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(text):
        out += text[pos:match.start()].encode("utf-8")
        code = match.group(1)
        if code == "x":
            raise NetlabError(f"\\x must be followed by two hex digits (at character {match.start() + 1})")
        out += bytes([int(code[1:], 16)]) if code[0] == "x" else _ESCAPES[code].encode()
        pos = match.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


def escape(data: bytes) -> str:
    """The inverse of ``unescape``: bytes as one line of text, control and non-UTF-8 bytes escaped."""
    out = []
    for ch in data.decode("utf-8", errors="surrogateescape"):
        if ch == "\\":
            out.append("\\\\")
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        elif "\udc80" <= ch <= "\udcff":  # a byte that is not UTF-8
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch < " " or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def parse_hex(text: str) -> bytes:
    """Hex digits to bytes; spaces, colons, newlines and a leading ``0x`` are allowed."""
    cleaned = "".join(ch for ch in text if ch not in " :\n\r\t")
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise NetlabError(f"not valid hex: {shown!r} (expected pairs of 0-9a-f digits)") from None


def json_document(text: str) -> bytes:
    """A JSON document as ``json.dumps(...).encode()`` sends it (so it must be valid JSON)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NetlabError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def build_json(fields: Iterable[str]) -> dict[str, Any]:
    """An object from ``key=value`` fields (string values) and ``key:=json`` fields (typed values).

    Dots nest: ``cmd=add args.name=Alice args.age:=30`` → ``{"cmd": "add", "args": {"name": "Alice",
    "age": 30}}``.
    """
    doc: dict[str, Any] = {}
    for field in fields:
        raw_json = False
        if ":=" in field and ("=" not in field or field.index(":=") < field.index("=")):
            key, _, value_text = field.partition(":=")
            raw_json = True
        elif "=" in field:
            key, _, value_text = field.partition("=")
        else:
            raise NetlabError(f"field {field!r} has no value: write key=text or key:=json")
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            raise NetlabError(f"field {field!r} has an empty key")
        value: Any = value_text
        if raw_json:
            try:
                value = json.loads(value_text)
            except json.JSONDecodeError as exc:
                raise NetlabError(f"field {key}: {value_text!r} is not JSON ({exc.msg})") from None
        *parents, leaf = key.split(".")
        node = doc
        for i, part in enumerate(parents):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise NetlabError(f"field {key}: {'.'.join(parents[:i + 1])} already holds a value")
            node = child
        if isinstance(node.get(leaf), dict) and not isinstance(value, dict):
            raise NetlabError(f"field {key}: {key} already holds an object")
        node[leaf] = value
    return doc


def json_from_fields(fields: Iterable[str]) -> bytes:
    return json.dumps(build_json(fields), ensure_ascii=False).encode("utf-8")


def split_fields(line: str) -> list[str]:
    """A line of fields as a user types them (shell quoting: ``args.name='Jean Dupont'``)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise NetlabError(f"cannot read the fields: {exc}") from None


def encode(text: str, mode: str = "text", line_ending: str = "none", *, escapes: bool = False) -> bytes:
    """What to send for ``text`` typed in ``mode`` (text, hex or json), with a line ending appended to
    text (and backslash escapes read in it with ``escapes``). In json mode, ``text`` is either a JSON
    document or ``key=value`` fields."""
    if mode == "hex":
        return parse_hex(text)
    if mode == "json":
        stripped = text.strip()
        if not stripped:
            raise NetlabError("nothing to send: type a JSON document or key=value fields")
        if stripped[0] in "{[\"" or stripped in ("true", "false", "null") or _is_number(stripped):
            return json_document(stripped)
        return json_from_fields(split_fields(stripped))
    if mode != "text":
        raise NetlabError(f"unknown payload mode {mode!r}: expected one of {', '.join(MODES)}")
    try:
        ending = LINE_ENDINGS[line_ending]
    except KeyError:
        raise NetlabError(f"unknown line ending {line_ending!r}: expected none, lf or crlf") from None
    return (unescape(text) if escapes else text.encode("utf-8")) + ending


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
