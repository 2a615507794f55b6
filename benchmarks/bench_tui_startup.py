"""Time for the TUI to draw its full screen in a real 140x42 terminal (tmux), and to quit on ctrl+q.

Baseline in the same run: a bare Textual app (one Static) started the same way, so the figure
separates netlab's own cost from Python + Textual start-up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SESSION = f"netlab-bench-{os.getpid()}"  # unique: others may run it at the same time
BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("bare app ready")
Bare().run()
"""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout


def time_until(command: str, marker: str, timeout: float = 20.0) -> tuple[float, float]:
    tmux("kill-session", "-t", SESSION)
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", "140", "-y", "42", command], check=True)
    drawn = None
    while time.perf_counter() - start < timeout:
        if marker in tmux("capture-pane", "-p", "-t", SESSION):
            drawn = time.perf_counter() - start
            break
        time.sleep(0.01)
    if drawn is None:
        tmux("kill-session", "-t", SESSION)
        raise SystemExit(f"never saw {marker!r}")
    quit_start = time.perf_counter()
    tmux("send-keys", "-t", SESSION, "C-q")
    while SESSION in tmux("list-sessions") and time.perf_counter() - quit_start < timeout:
        time.sleep(0.01)
    return drawn, time.perf_counter() - quit_start


def main() -> None:
    if not shutil.which("tmux"):
        raise SystemExit("tmux is needed for this benchmark (apt-get install tmux)")
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        bare_times, netlab_times, parser_times = [], [], []
        # The start-up before issue 14 (every command's parser built, so paramiko, httpx … imported,
        # before the TUI opens), measured in the same run as the comparison point.
        with_parser = (f"{sys.executable} -c 'from netlab_tui.cli import build_parser; build_parser(); "
                       f"from netlab_tui.ui.app import run_tui; run_tui()'")
        for _ in range(3):
            bare_times.append(time_until(f"{sys.executable} {bare}", "bare app ready"))
            netlab_times.append(time_until(f"{sys.executable} -m netlab_tui", "summary"))
            parser_times.append(time_until(with_parser, "summary"))
    b_draw = min(t[0] for t in bare_times)
    n_draw = min(t[0] for t in netlab_times)
    p_draw = min(t[0] for t in parser_times)
    n_quit = min(t[1] for t in netlab_times)
    print(f"bare Textual app drawn     {b_draw * 1000:7.0f} ms")
    print(f"netlab full screen drawn   {n_draw * 1000:7.0f} ms  ({n_draw / b_draw:.2f}x bare; target <= 1.3x)")
    print(f"  same, parser built first {p_draw * 1000:7.0f} ms  ({p_draw / b_draw:.2f}x bare; the start-up before "
          f"issue 14)")
    print(f"netlab ctrl+q to exit      {n_quit * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
