"""Helpers shared by the decoder tests."""

from __future__ import annotations

from netlab_tui.engine.inspect.decoders import View


def tags_of(view: View, text: str) -> set[str | None]:
    """The tags of every span whose text contains ``text``."""
    return {tag for line in view.lines for chunk, tag in line if text in chunk}
