"""The hex dump: offsets, 16 bytes a line and an ASCII column. Never fails.

Every layout keeps 16 bytes a line — what a reader counts offsets by — and the view picks the widest
layout that fits the columns it is given (``meta["columns"]``), so a narrow inspector never wraps a row:

- ``classic`` (77 columns): ``00000000  48 65 6c 6c 6f 0a 00 00  00 …  |Hello...|`` — xxd -g1 / hexdump -C
- ``compact`` (70): 4-digit offsets while they suffice, no bars
- ``tight`` (57): bytes in groups of four without spaces, then the ASCII column
- ``hex`` (40): offsets and bytes only; the Text view shows the characters
"""

from __future__ import annotations

from typing import Any

from . import Line, View, register

MAX_BYTES = 1 << 20  # beyond this the view says how much it left out
LAYOUTS = ("classic", "compact", "tight", "hex")


def _ascii(chunk: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)


def offset_digits(layout: str, size: int) -> int:
    return 8 if layout == "classic" or size > 0x10000 else 4


def layout_width(layout: str, size: int, width: int = 16) -> int:
    """Columns one line of ``layout`` takes for a payload of ``size`` bytes."""
    digits = offset_digits(layout, size)
    if layout == "classic":
        return digits + 2 + width * 3 + 1 + width + 2
    if layout == "compact":
        return digits + 1 + width * 3 + 1 + width
    groups = (width + 3) // 4
    hex_width = width * 2 + groups - 1
    return digits + 1 + hex_width + (1 + width if layout == "tight" else 0)


def layout_for(columns: int | None, size: int) -> str:
    """The widest layout that fits ``columns`` (classic when unknown or when none fits)."""
    if columns is None:
        return "classic"
    return next((name for name in LAYOUTS if layout_width(name, size) <= columns), "hex")


def hexdump_lines(data: bytes, width: int = 16, layout: str = "classic", digits: int | None = None) -> list[Line]:
    lines: list[Line] = []
    digits = digits or offset_digits(layout, len(data))
    for offset in range(0, min(len(data), MAX_BYTES), width):
        chunk = data[offset : offset + width]
        if layout == "classic":
            hex_part = " ".join(f"{b:02x}" for b in chunk[:8])
            if len(chunk) > 8:
                hex_part += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
            lines.append([
                (f"{offset:08x}  ", "offset"),
                (f"{hex_part:<{width * 3}} ", "hex"),
                (f"|{_ascii(chunk)}|", "ascii"),
            ])
            continue
        if layout == "compact":
            hex_part = " ".join(f"{b:02x}" for b in chunk[:8])
            if len(chunk) > 8:
                hex_part += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
            hex_part = f"{hex_part:<{width * 3}}"
        else:
            hex_part = " ".join(chunk[i : i + 4].hex() for i in range(0, len(chunk), 4))
            hex_part = f"{hex_part:<{width * 2 + (width + 3) // 4 - 1}}"
        line: Line = [(f"{offset:0{digits}x} ", "offset"), (hex_part, "hex")]
        if layout != "hex":
            line.append((" " + _ascii(chunk), "ascii"))
        lines.append(line)
    return lines


class HexDumpDecoder:
    name = "hex"
    title = "Hex dump"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        return 0.01  # always possible, never preferred

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        columns = (meta or {}).get("columns")
        layout = layout_for(columns if isinstance(columns, int) else None, len(data))
        lines = hexdump_lines(data, layout=layout)
        notes = []
        if len(data) > MAX_BYTES:
            notes.append(f"showing the first {MAX_BYTES:,} of {len(data):,} bytes")
        if layout == "hex":
            notes.append("narrow: no ASCII column (z: full screen)")
        return View(self.name, f"Hex dump ({len(data):,} bytes)", lines, "; ".join(notes) or None)


register(HexDumpDecoder())
