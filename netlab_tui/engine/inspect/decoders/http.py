"""HTTP/1.x messages: the request or status line, the headers, and the body decoded by its content type.

A careful, lenient parser rather than a strict one (h11 refuses what it should refuse; a learner needs to
see *why* a message is wrong): bare ``\\n`` line endings, a missing ``Host``, a short body or a bad chunk
size are shown as warnings next to whatever could be read. Chunked bodies are reassembled (the chunk
sizes are listed), gzip/deflate bodies inflated with a size cap, and the body is handed to the best other
decoder for its ``Content-Type`` (JSON, form, XML, XML-RPC …). Several messages in one payload
(pipelining, or a followed stream) are shown one after the other.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from . import Line, View, register

REQUEST_LINE = re.compile(rb"^([A-Z][A-Z0-9_-]{1,19}) (\S+) (HTTP/\d(?:\.\d)?)\r?$")
STATUS_LINE = re.compile(rb"^(HTTP/\d(?:\.\d)?) (\d{3})(?: (.*))?\r?$")
_START = re.compile(rb"^(?:[A-Z][A-Z0-9_-]{1,19} \S+ HTTP/\d|HTTP/\d(?:\.\d)? \d{3})")
MAX_INFLATED = 16 << 20  # a decompression bomb stops here
MAX_HEADERS = 200


@dataclass
class HttpMessage:
    kind: str  # "request" or "response"
    start: bytes  # the start line, without its line ending
    method: str | None = None
    target: str | None = None
    version: str = ""
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""  # after de-chunking, before content decoding
    chunks: list[int] | None = None  # chunk sizes when chunked
    trailers: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    complete: bool = True
    size: int = 0  # bytes of the payload this message used

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").strip()


def looks_like_http(data: bytes) -> bool:
    return bool(_START.match(data[:64]))


def _read_line(data: bytes, pos: int) -> tuple[bytes, int, bool] | None:
    """The line at ``pos`` (without its ending), the position after it, and whether it ended with CRLF."""
    end = data.find(b"\n", pos)
    if end < 0:
        return None
    line = data[pos:end]
    crlf = line.endswith(b"\r")
    return (line[:-1] if crlf else line), end + 1, crlf


def parse_message(data: bytes, pos: int = 0, *, request_method: str | None = None) -> HttpMessage:
    """Parse one message starting at ``pos``. Never raises on malformed input: it records warnings."""
    first = _read_line(data, pos)
    if first is None:
        line, after, crlf = data[pos:], len(data), True
        incomplete_head = True
    else:
        line, after, crlf = first
        incomplete_head = False
    if m := REQUEST_LINE.match(line):
        msg = HttpMessage("request", line, method=m.group(1).decode(), target=m.group(2).decode("latin-1"),
                          version=m.group(3).decode())
    elif m := STATUS_LINE.match(line):
        msg = HttpMessage("response", line, version=m.group(1).decode(), status=int(m.group(2)),
                          reason=(m.group(3) or b"").decode("latin-1"))
    else:
        raise ValueError("not an HTTP request or status line")
    bare_lf = not crlf
    if incomplete_head:
        msg.complete = False
        msg.warnings.append("incomplete: the start line has no line ending yet")
        msg.size = len(data)
        return msg

    # Headers, up to the empty line.
    pos = after
    ended = False
    while True:
        read = _read_line(data, pos)
        if read is None:
            break
        line, pos, crlf = read
        bare_lf |= not crlf
        if not line:
            ended = True
            break
        if line[:1] in (b" ", b"\t") and msg.headers:
            name, value = msg.headers[-1]
            msg.headers[-1] = (name, value + " " + line.strip().decode("latin-1"))
            msg.warnings.append(f"header {name!r} continues on a folded line (obsolete since RFC 7230)")
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            msg.warnings.append(f"not a header (no colon): {line[:60].decode('latin-1')!r}")
            continue
        if name != name.rstrip():
            msg.warnings.append(f"whitespace before the colon in {name.decode('latin-1').strip()!r} is forbidden")
        msg.headers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
        if len(msg.headers) > MAX_HEADERS:
            msg.warnings.append(f"more than {MAX_HEADERS} headers; stopped reading them")
            break
    if bare_lf:
        msg.warnings.append("lines end with a bare \\n; HTTP requires \\r\\n")
    if not ended:
        msg.complete = False
        msg.warnings.append("incomplete: no empty line ends the headers yet")
        msg.size = len(data)
        return msg
    if msg.kind == "request" and msg.version == "HTTP/1.1" and msg.header("host") is None:
        msg.warnings.append("HTTP/1.1 request without a Host header")

    # Body.
    transfer = (msg.header("transfer-encoding") or "").lower()
    length_text = msg.header("content-length")
    no_body = msg.kind == "response" and (
        msg.status is not None and (100 <= msg.status < 200 or msg.status in (204, 304))
        or (request_method or "").upper() == "HEAD"
    )
    if no_body:
        pass
    elif "chunked" in transfer:
        pos = _read_chunked(data, pos, msg)
        if length_text is not None:
            msg.warnings.append("both Transfer-Encoding: chunked and Content-Length (chunked wins)")
    elif length_text is not None:
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            msg.warnings.append(f"Content-Length is not a number: {length_text!r}")
            length = 0
        msg.body = data[pos : pos + length]
        if len(msg.body) < length:
            msg.complete = False
            msg.warnings.append(f"incomplete body: Content-Length says {length:,} bytes, {len(msg.body):,} here")
        pos += len(msg.body)
    elif msg.kind == "response":
        msg.body = data[pos:]  # until the connection closes
        pos = len(data)
    msg.size = pos
    return msg


def _read_chunked(data: bytes, pos: int, msg: HttpMessage) -> int:
    body = bytearray()
    msg.chunks = []
    while True:
        read = _read_line(data, pos)
        if read is None:
            msg.complete = False
            msg.warnings.append("incomplete chunked body: no terminating 0-size chunk yet")
            break
        line, pos, _crlf = read
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            msg.warnings.append(f"bad chunk size {size_text[:20].decode('latin-1')!r}; stopped de-chunking")
            msg.complete = False
            break
        if size == 0:
            while (trailer := _read_line(data, pos)) is not None:
                line, pos, _crlf = trailer
                if not line:
                    break
                name, _, value = line.partition(b":")
                msg.trailers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
            break
        chunk = data[pos : pos + size]
        body += chunk
        msg.chunks.append(len(chunk))
        pos += len(chunk)
        if len(chunk) < size:
            msg.complete = False
            msg.warnings.append(f"incomplete chunk: {size:,} bytes announced, {len(chunk):,} here")
            break
        if data[pos : pos + 2] == b"\r\n":
            pos += 2
        elif data[pos : pos + 1] == b"\n":
            pos += 1
        else:
            msg.warnings.append("a chunk is not followed by \\r\\n")
    msg.body = bytes(body)
    return pos


def inflate(body: bytes, encoding: str) -> tuple[bytes, str | None]:
    """Undo ``Content-Encoding``; returns (bytes, problem or None). Capped at MAX_INFLATED bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body, None
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        try:
            d = zlib.decompressobj(wbits)
            out = d.decompress(body, MAX_INFLATED)
        except zlib.error:
            if encoding != "deflate":
                return body, f"{encoding} body could not be inflated"
            try:  # raw deflate, which some servers send as "deflate"
                d = zlib.decompressobj(-zlib.MAX_WBITS)
                out = d.decompress(body, MAX_INFLATED)
            except zlib.error:
                return body, "deflate body could not be inflated"
        if d.unconsumed_tail:
            return out, f"inflated body cut at {MAX_INFLATED:,} bytes"
        return out, None
    return body, f"Content-Encoding {encoding!r} is not decoded here; showing the raw bytes"


def parse_messages(data: bytes, meta: dict[str, Any] | None = None) -> tuple[list[HttpMessage], bytes]:
    """Every message in ``data`` and the bytes after the last one that are not HTTP."""
    messages: list[HttpMessage] = []
    pos = 0
    method = (meta or {}).get("method") if isinstance((meta or {}).get("method"), str) else None
    while pos < len(data) and looks_like_http(data[pos:]):
        msg = parse_message(data, pos, request_method=method)
        messages.append(msg)
        if msg.kind == "request":
            method = msg.method
        if msg.size <= pos or not msg.complete:
            pos = len(data)
            break
        pos = msg.size
    if not messages:
        raise ValueError("not an HTTP message")
    return messages, data[pos:]


def _start_line(msg: HttpMessage) -> Line:
    if msg.kind == "request":
        return [(msg.method or "", "keyword"), (" ", None), (msg.target or "", "string"), (" ", None),
                (msg.version, "dim")]
    line: Line = [(msg.version, "dim"), (" ", None), (str(msg.status), "number")]
    if msg.reason:
        line += [(" ", None), (msg.reason, "keyword")]
    return line


def body_view(body: bytes, ctype: str) -> View:
    """The body through the best decoder for its content type (never HTTP itself)."""
    from . import decoders, ranked

    meta = {"content_type": ctype} if ctype else None
    for _score, decoder in ranked(body, meta):
        if decoder.name in ("http",):
            continue
        try:
            return decoder.render(body, meta)
        except Exception:
            continue
    return decoders()["hex"].render(body, meta)


def message_lines(msg: HttpMessage) -> list[Line]:
    lines: list[Line] = [_start_line(msg)]
    for name, value in msg.headers:
        lines.append([(name, "key"), (": ", None), (value, None)])
    for warning in msg.warnings:
        lines.append([("⚠ " + warning, "warning")])
    if not msg.body:
        return lines
    body = msg.body
    facts = [f"{len(body):,} bytes"]
    if msg.chunks is not None:
        sizes = ", ".join(str(n) for n in msg.chunks[:8]) + (" …" if len(msg.chunks) > 8 else "")
        facts.append(f"chunked: {len(msg.chunks)} chunk{'s' if len(msg.chunks) != 1 else ''} ({sizes})")
    encoding = msg.header("content-encoding")
    if encoding:
        body, problem = inflate(body, encoding)
        if problem:
            lines.append([("⚠ " + problem, "warning")])
        else:
            facts.append(f"{encoding} → {len(body):,} bytes")
    ctype = msg.content_type
    view = body_view(body, ctype)
    facts.append(view.title)
    lines.append([])
    lines.append([("── body: " + "; ".join(facts) + " ──", "header")])
    if view.note:
        lines.append([(view.note, "dim")])
    lines += view.lines
    for name, value in msg.trailers:
        lines.append([(name, "key"), (": ", None), (value, None), ("  (trailer)", "dim")])
    return lines


class HttpDecoder:
    name = "http"
    title = "HTTP"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        if not looks_like_http(data):
            return 0.0
        return 0.95 if b"\n" in data[:8192] else 0.6

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        messages, rest = parse_messages(data, meta)
        lines: list[Line] = []
        for i, msg in enumerate(messages):
            if i:
                lines.append([])
                lines.append([(f"── message {i + 1} ──", "header")])
            lines += message_lines(msg)
        if rest:
            lines.append([])
            lines.append([(f"── {len(rest):,} more bytes that are not an HTTP message ──", "header")])
            lines += body_view(rest, "").lines
        first = messages[0]
        if first.kind == "request":
            title = f"HTTP request {first.method} {first.target}"
        else:
            title = f"HTTP response {first.status} {first.reason}".rstrip()
        if len(messages) > 1:
            title += f" (+{len(messages) - 1} more)"
        return View(self.name, title, lines)


register(HttpDecoder())
