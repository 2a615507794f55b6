"""The hex dump: offsets, 16 bytes a line in two groups of 8, and an ASCII column. Never fails."""

from __future__ import annotations

from typing import Any

from . import Line, View, register

MAX_BYTES = 1 << 20  # beyond this the view says how much it left out


def hexdump_lines(data: bytes, width: int = 16) -> list[Line]:
    lines: list[Line] = []
    for offset in range(0, min(len(data), MAX_BYTES), width):
        chunk = data[offset : offset + width]
        hex_part = " ".join(f"{b:02x}" for b in chunk[:8])
        if len(chunk) > 8:
            hex_part += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        ascii_part = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append([
            (f"{offset:08x}  ", "offset"),
            (f"{hex_part:<{width * 3}} ", "hex"),
            (f"|{ascii_part}|", "ascii"),
        ])
    return lines


class HexDumpDecoder:
    name = "hex"
    title = "Hex dump"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        return 0.01  # always possible, never preferred

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        lines = hexdump_lines(data)
        note = None
        if len(data) > MAX_BYTES:
            note = f"showing the first {MAX_BYTES:,} of {len(data):,} bytes"
        return View(self.name, f"Hex dump ({len(data):,} bytes)", lines, note)


register(HexDumpDecoder())
