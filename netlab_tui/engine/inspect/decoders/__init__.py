"""Decoders: bytes → views, as plug-ins (mitmproxy's content views are the model).

A decoder has a ``name``, a ``fit(data, meta)`` rating (0 = cannot show this, 1 = made for it) and
``render(data, meta)`` returning a ``View``: lines of tagged spans, so the TUI can colour them and the
CLI can print them plain. ``decode(data, meta, name="auto")`` picks the best fit and falls back to hex
whenever the chosen decoder fails. Adding a view is one module and one ``register`` call.

Nothing here ever unpickles: the pickle view disassembles with ``pickletools``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

# Span tags the faces know how to style. Decoders may use others; unknown tags render plain.
TAGS = ("offset", "hex", "ascii", "dim", "ctrl", "key", "string", "number", "keyword", "warning", "error",
        "header", "in", "out")

Span = tuple[str, str | None]  # (text, tag)
Line = list[Span]


@dataclass
class View:
    decoder: str  # the decoder that made it
    title: str  # e.g. "Hex dump (42 bytes)"
    lines: list[Line] = field(default_factory=list)
    note: str | None = None  # a fallback reason, a warning …

    def plain(self) -> str:
        return "\n".join("".join(text for text, _tag in line) for line in self.lines)


class Decoder(Protocol):
    name: str
    title: str

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float: ...

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View: ...


_DECODERS: dict[str, Decoder] = {}
# Modules that register decoders when imported; one file per view.
BUILTIN_MODULES: tuple[str, ...] = (
    "netlab_tui.engine.inspect.decoders.hexdump",
    "netlab_tui.engine.inspect.decoders.text",
    "netlab_tui.engine.inspect.decoders.json",
    "netlab_tui.engine.inspect.decoders.http",
    "netlab_tui.engine.inspect.decoders.form",
    "netlab_tui.engine.inspect.decoders.xml",
    "netlab_tui.engine.inspect.decoders.rpc",
    "netlab_tui.engine.inspect.decoders.pickle",
)
_loaded = False


def register(decoder: Decoder) -> Decoder:
    _DECODERS[decoder.name] = decoder
    return decoder


def decoders() -> dict[str, Decoder]:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
    return dict(_DECODERS)


def ranked(data: bytes, meta: dict[str, Any] | None = None) -> list[tuple[float, Decoder]]:
    """Decoders that can show ``data``, best first."""
    scores = []
    for decoder in decoders().values():
        try:
            score = decoder.fit(data, meta)
        except Exception:
            score = 0.0
        if score > 0:
            scores.append((score, decoder))
    scores.sort(key=lambda pair: pair[0], reverse=True)
    return scores


def decode(data: bytes, meta: dict[str, Any] | None = None, name: str = "auto") -> View:
    """Render ``data`` with decoder ``name`` (or the best fit); hex dump when that fails."""
    table = decoders()
    if name == "auto":
        best = ranked(data, meta)
        decoder = best[0][1] if best else table["hex"]
    else:
        decoder = table.get(name) or table["hex"]
    try:
        return decoder.render(data, meta)
    except Exception as exc:
        view = table["hex"].render(data, meta)
        view.note = f"{decoder.title} could not decode this payload ({exc}); showing hex"
        return view
