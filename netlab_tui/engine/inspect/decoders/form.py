"""``application/x-www-form-urlencoded``: the fields, percent-decoded, with the raw spelling beside them.

What an HTML form or ``httpx.post(data=...)`` sends. Showing both spellings teaches the encoding
(``+`` for space, ``%26`` for ``&``); repeated keys are kept in order.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from . import Line, View, register
from .json import content_type

# key=value pairs joined by &, in the characters a form encoder produces.
_FORM = re.compile(rb"^[A-Za-z0-9._~%+*\-\[\]]+=[A-Za-z0-9._~%+*\-!'()/:,;@$?=]*"
                   rb"(?:&[A-Za-z0-9._~%+*\-\[\]]+(?:=[A-Za-z0-9._~%+*\-!'()/:,;@$?=]*)?)*\r?\n?$")
MAX_FIELDS = 5_000


def parse_form(data: bytes) -> list[tuple[str, str, str, str]]:
    """[(key, value, raw_key, raw_value)] in order; keys without ``=`` get an empty value."""
    text = data.decode("latin-1").strip()
    fields = []
    for part in text.split("&"):
        if not part:
            continue
        raw_key, _eq, raw_value = part.partition("=")
        key = unquote_plus(raw_key, encoding="utf-8", errors="replace")
        value = unquote_plus(raw_value, encoding="utf-8", errors="replace")
        fields.append((key, value, raw_key, raw_value))
        if len(fields) >= MAX_FIELDS:
            break
    return fields


class FormDecoder:
    name = "form"
    title = "Form (urlencoded)"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        if not data or len(data) > 1 << 20:
            return 0.0
        if content_type(meta) == "application/x-www-form-urlencoded":
            return 0.9
        if not _FORM.match(data):
            return 0.0
        # "a=b" alone is as likely a line of a text protocol; several fields or escapes say "form".
        return 0.6 if (b"&" in data or b"%" in data or b"+" in data) else 0.3

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        fields = parse_form(data)
        if not fields:
            raise ValueError("no fields")
        width = min(max(len(k) for k, *_ in fields), 32)
        lines: list[Line] = []
        for key, value, raw_key, raw_value in fields:
            line: Line = [(f"{key:<{width}}", "key"), (" = ", None), (value, "string")]
            if (raw_key, raw_value) != (key, value):
                line.append((f"    ({raw_key}={raw_value})", "dim"))
            lines.append(line)
        note = None
        if len(fields) >= MAX_FIELDS:
            note = f"showing the first {MAX_FIELDS:,} fields"
        plural = "s" if len(fields) != 1 else ""
        return View(self.name, f"Form (urlencoded, {len(fields)} field{plural})", lines, note)


register(FormDecoder())
