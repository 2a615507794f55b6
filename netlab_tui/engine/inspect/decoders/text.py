"""Text: the payload decoded (UTF-8 by default), with control characters made visible.

``\\r`` and ``\\n`` are shown as ``\\r``/``\\n`` marks before the line break, so a learner sees exactly
which line endings were sent; undecodable bytes appear as ``\\xNN``.
"""

from __future__ import annotations

from typing import Any

from . import Line, View, register

ENCODINGS = ("auto", "utf-8", "latin-1", "ascii", "cp1252", "utf-16-le", "utf-16-be")
_NAMES = {0: "\\0", 9: "\\t", 10: "\\n", 13: "\\r", 27: "\\e"}


def printable_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    sample = data[:4096]
    good = sum(1 for b in sample if 0x20 <= b < 0x7F or b in (9, 10, 13) or b >= 0x80)
    return good / len(sample)


def text_lines(data: bytes, encoding: str = "utf-8") -> list[Line]:
    text = data.decode(encoding, errors="backslashreplace")
    lines: list[Line] = []
    current: Line = []
    run = []

    def flush_run() -> None:
        if run:
            current.append(("".join(run), None))
            run.clear()

    for ch in text:
        code = ord(ch)
        if ch == "\n":
            flush_run()
            current.append(("\\n", "ctrl"))
            lines.append(current)
            current = []
        elif code < 0x20 or code == 0x7F:
            flush_run()
            current.append((_NAMES.get(code, f"\\x{code:02x}"), "ctrl"))
        else:
            run.append(ch)
    flush_run()
    if current or not lines:
        lines.append(current)
    return lines


class TextDecoder:
    name = "text"
    title = "Text"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        if not data:
            return 0.0
        try:
            data[:4096].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(data[:4096]) - 4:  # not just a multi-byte character cut at the sample's end
                return 0.1 if printable_ratio(data) > 0.9 else 0.0
        ratio = printable_ratio(data)
        return 0.5 * ratio if ratio >= 0.75 else 0.0

    def render(self, data: bytes, meta: dict[str, Any] | None, encoding: str | None = None) -> View:
        encoding, why = choose_encoding(data, meta, encoding)
        note = None
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            note = f"not valid {encoding} at byte {exc.start}; undecodable bytes are shown as \\xNN"
        except LookupError:
            note = f"unknown encoding {encoding!r}; showing utf-8"
            encoding, why = "utf-8", "fallback"
        if data.startswith(_BOMS.get(encoding, b"\xff\xff\xff\xff")):
            data = data[len(_BOMS[encoding]):]
        title = f"Text ({encoding}{', ' + why if why else ''}, {len(data):,} bytes)"
        return View(self.name, title, text_lines(data, encoding), note)


_BOMS = {"utf-8-sig": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}


def choose_encoding(data: bytes, meta: dict[str, Any] | None, wanted: str | None = None) -> tuple[str, str]:
    """The encoding to show ``data`` in, and why: asked for (meta ``encoding``), a byte-order mark, the
    ``charset`` of a content type, or UTF-8 (with latin-1 when UTF-8 cannot decode it)."""
    meta = meta or {}
    asked = wanted or meta.get("encoding")
    if isinstance(asked, str) and asked and asked != "auto":
        return asked, ""
    for encoding, bom in _BOMS.items():
        if data.startswith(bom):
            return encoding, "BOM"
    ctype = meta.get("content_type") or meta.get("content-type")
    if isinstance(ctype, str) and "charset=" in ctype.lower():
        charset = ctype.lower().split("charset=", 1)[1].split(";", 1)[0].strip().strip('"')
        if charset:
            return charset, "charset"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # more than a multi-byte character cut at the end
            return "latin-1", "not utf-8"
    return "utf-8", ""


register(TextDecoder())
