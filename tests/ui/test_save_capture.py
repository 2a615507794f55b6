"""Save capture from the TUI: the events shown become a pcap tshark reads."""

import shutil
import subprocess

import pytest
from textual.widgets import Input

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.screens.save_capture import SaveCaptureScreen
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for
from tests.ui.traffic_helpers import echo_traffic


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
async def test_save_the_filtered_log_as_a_pcap(tmp_path):
    app = NetlabApp()
    target = tmp_path / "saved.pcap"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server, client = await echo_traffic(app, messages=(b"keep me\n",))
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == app.journal.total)
        await pilot.press("ctrl+f", *f"conn {client.conn}", "enter")  # only the client's side
        await wait_for(pilot, lambda: all(e.conn == client.conn for e in log.rows))
        log.focus()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveCaptureScreen))
        assert "rebuilt from netlab's journal" in str(app.screen.query_one("#save-text").render())
        path_box = app.screen.query_one("#save-path", Input)
        assert path_box.value.endswith(".pcap")
        path_box.value = str(tmp_path / "missing-dir" / "x.pcap")
        await pilot.press("enter")
        assert "does not exist" in str(app.screen.query_one("#save-error").render())
        path_box.value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("written to" in n.message for n in app._notifications), timeout=15)
    follow = subprocess.run(["tshark", "-r", str(target), "-q", "-z", "follow,tcp,ascii,0"],
                            capture_output=True, text=True, timeout=60).stdout
    assert follow.count("keep me") == 2
