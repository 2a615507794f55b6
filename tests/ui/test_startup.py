"""The first screen pays only for what it draws (issue 14, finding 5): one pane built, and none of the
tools' libraries imported — they come with the first pane that uses them.

Checked in a fresh interpreter (this one has imported everything by now) rather than timed: what is
imported does not depend on the load of the machine. ``benchmarks/bench_tui_startup.py`` times it."""

from __future__ import annotations

import subprocess
import sys

FIRST_SCREEN = """
import asyncio, sys
from netlab_tui.ui.app import NetlabApp
async def main():
    app = NetlabApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause(0.3)
        print(" ".join(pane.id for pane in app.query("NetlabPane")))
        print(" ".join(sorted(sys.modules)))
asyncio.run(main())
"""

# What the other tools pull in: each costs start-up time and memory a user who never opens the tool
# should not pay (a class of 30 learners pays it 30 times).
NOT_AT_START = (
    "httpx", "paramiko", "h11", "watchdog", "pyroute2", "xmlrpc.client",
    "netlab_tui.engine.http.server", "netlab_tui.engine.ssh.server", "netlab_tui.engine.watch.watcher",
    "netlab_tui.engine.scan.scanner", "netlab_tui.engine.shell.process",
    "netlab_tui.labs.runner", "netlab_tui.ui.widgets.lab_panel", "netlab_tui.ui.widgets.tcp_client_pane",
    "netlab_tui.ui.widgets.http_client_pane", "netlab_tui.ui.widgets.ssh_pane",
)


def test_the_first_screen_builds_one_pane_and_imports_no_tool_library():
    result = subprocess.run([sys.executable, "-c", FIRST_SCREEN], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    panes, modules = result.stdout.splitlines()[-2:]
    assert panes.split() == ["servers"]
    imported = set(modules.split())
    assert "textual" in imported and "netlab_tui.ui.widgets.servers_pane" in imported  # it did run
    assert not imported & set(NOT_AT_START), sorted(imported & set(NOT_AT_START))
