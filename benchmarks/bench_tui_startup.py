"""Time for the TUI to draw its full screen in a real 140x42 terminal (tmux), and to quit on ctrl+q.

Baselines in the same run, started the same way: a bare Textual app (one Static), the issue's
comparison point; and the same standard widgets netlab's first screen shows (header, option list,
selects, inputs, buttons, data table, tabs, footer with seven keys) with no netlab code, which separates
what Textual's widgets cost from what netlab adds.
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
SAME_WIDGETS_APP = """
from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Header, Input, OptionList, Select, Static, Tabs
class SameWidgets(App):
    BINDINGS = [Binding(key, key, description) for key, description in (
        ("ctrl+q", "Quit"), ("f1", "Help"), ("f2", "Tools"), ("f3", "Log"), ("f4", "Inspector"),
        ("ctrl+f", "Filter"), ("ctrl+l", "Clear"))]
    def compose(self):
        yield Header()
        with Horizontal():
            yield OptionList(*[f"tool {n}" for n in range(11)])
            with Vertical():
                with Horizontal():
                    with Vertical():
                        yield Select([(k, k) for k in ("tcp-echo", "udp-echo", "http")], value="tcp-echo")
                        yield Select([], prompt="this machine")
                        yield Input("127.0.0.1")
                        yield Input(placeholder="port")
                        with Horizontal():
                            yield Button("Start"); yield Button("Stop"); yield Button("Client")
                        yield Static("TCP echo (tcp): sends every byte it receives back")
                        table = DataTable()
                        table.add_columns("kind", "address", "status", "conns", "bytes in", "bytes out")
                        yield table
                    with Vertical():
                        yield Tabs("hex", "text", "json", "http")
                        yield Static("Select an event in the traffic log to inspect it.")
                with Vertical():
                    with Horizontal():
                        yield Input(placeholder="filter"); yield Input(placeholder="search")
                    yield Static("no.    time         source     dir proto kind     peer     size   summary")
                    yield Static("")
        yield Footer()
SameWidgets().run()
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
    # As installed (pip and `./dev run` write netlab's bytecode ahead): not compiling it at each start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "netlab_tui")],
                   check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        same = Path(tmp) / "same_widgets.py"
        same.write_text(SAME_WIDGETS_APP)
        bare_times, same_times, netlab_times, parser_times = [], [], [], []
        # The start-up before issue 14 (every command's parser built, so paramiko, httpx … imported,
        # before the TUI opens), measured in the same run as the comparison point.
        with_parser = (f"{sys.executable} -c 'from netlab_tui.cli import build_parser; build_parser(); "
                       f"from netlab_tui.ui.app import run_tui; run_tui()'")
        for _ in range(5):
            bare_times.append(time_until(f"{sys.executable} {bare}", "bare app ready"))
            same_times.append(time_until(f"{sys.executable} {same}", "summary"))
            netlab_times.append(time_until(f"{sys.executable} -m netlab_tui", "summary"))
            parser_times.append(time_until(with_parser, "summary"))
    b_draw = min(t[0] for t in bare_times)
    s_draw = min(t[0] for t in same_times)
    n_draw = min(t[0] for t in netlab_times)
    p_draw = min(t[0] for t in parser_times)
    n_quit = min(t[1] for t in netlab_times)
    print(f"bare Textual app drawn     {b_draw * 1000:7.0f} ms")
    print(f"same widgets, no netlab    {s_draw * 1000:7.0f} ms  ({s_draw / b_draw:.2f}x bare: Textual's own widgets)")
    print(f"netlab full screen drawn   {n_draw * 1000:7.0f} ms  ({n_draw / b_draw:.2f}x bare; target <= 1.3x; "
          f"{n_draw / s_draw:.2f}x the same widgets)")
    print(f"  same, parser built first {p_draw * 1000:7.0f} ms  ({p_draw / b_draw:.2f}x bare; the start-up before "
          f"issue 14)")
    print(f"netlab ctrl+q to exit      {n_quit * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
