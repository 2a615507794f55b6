"""Golden outputs for decoder tests: ``golden(view, "json/pretty")`` compares a rendered view with
``golden/json/pretty.txt``. Run with ``NETLAB_UPDATE_GOLDEN=1`` to (re)write the files, then read the
diff: a golden file is only as good as the review it got."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netlab_tui.engine.inspect.decoders import View

GOLDEN = Path(__file__).parent / "golden"


def render_golden(view: View) -> str:
    head = [f"decoder: {view.decoder}", f"title: {view.title}"]
    if view.note:
        head.append(f"note: {view.note}")
    return "\n".join(head) + "\n---\n" + view.plain() + "\n"


@pytest.fixture
def golden():
    def check(view: View, name: str) -> None:
        path = GOLDEN / f"{name}.txt"
        text = render_golden(view)
        if os.environ.get("NETLAB_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"no golden file {path}; run with NETLAB_UPDATE_GOLDEN=1 and review it"
        assert text == path.read_text(encoding="utf-8")

    return check
