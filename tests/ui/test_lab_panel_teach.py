"""The lab panel teaches: it says when it resumed (and starts over), names the traffic it saw for a failing
check with the expected-vs-observed ladder, and offers the hint that fits the failure, the solution last."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Markdown

from netlab_tui.commands.lab import build_open_app
from netlab_tui.engine.sockets.tcp import TcpClient
from netlab_tui.labs.catalog import find_lab
from netlab_tui.labs.workspace import Workspace
from netlab_tui.labs.progress import ProgressStore
from netlab_tui.ui.app import NetlabApp
from tests.ui.helpers import click_button, wait_for
from netlab_tui.ui.widgets.lab_panel import LabPanel
from tests.ui.test_labs_pane import settle, static_text

SIZES = [(80, 24), (140, 42)]


async def open_lab(app, pilot, lab_id: str) -> LabPanel:
    """As a person does at any size: the Labs tool, the lab's row, Enter."""
    from textual.widgets import DataTable

    await settle(app, pilot)
    await app.open_pane("labs")
    await pilot.pause()
    table = app.query_one("#labs-table", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(lab_id))
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.query(LabPanel) and app.query_one(LabPanel).runner.started)
    panel = app.query_one(LabPanel)
    await wait_for(pilot, lambda: panel._step_shown is not None)
    return panel


@pytest.fixture(autouse=True)
def lab_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NETLAB_LANG", "en")
    return tmp_path


@pytest.mark.parametrize("size", SIZES)
async def test_a_lab_resumed_mid_way_says_so_and_starts_over(size):
    ProgressStore().set_current("tcp-first-exchange", "bytes")  # left at step 2, nothing passed
    lab = find_lab("tcp-first-exchange")
    if size == SIZES[0]:  # `netlab lab open tcp-first-exchange`
        app = build_open_app(lab, Workspace(lab))
    else:  # the Labs browser
        app = NetlabApp()
    async with app.run_test(size=size) as pilot:
        if size == SIZES[0]:
            await wait_for(pilot, lambda: app.query(LabPanel) and app.query_one(LabPanel)._step_shown is not None)
            panel = app.query_one(LabPanel)
        else:
            panel = await open_lab(app, pilot, "tcp-first-exchange")
        assert panel.runner.index == 1
        await wait_for(pilot, lambda: app.query("#lab-resume-text"))
        notice = static_text(app, "#lab-resume-text")
        assert "Resumed at step 2/3 where you left off (0/3 passed)." in notice
        button = app.query_one("#lab-start-over", Button)
        assert button.region.width > 0 and button.region.height > 0  # on screen at this size
        await pilot.click("#lab-start-over")
        await wait_for(pilot, lambda: panel._step_shown == 0 and not app.query("#lab-resume-text"))
        assert "Step 1/3" in static_text(app, "#lab-header")
        assert ProgressStore().current_step("tcp-first-exchange") == "hello"
        assert ProgressStore().passed_steps("tcp-first-exchange") == set()
        await pilot.press("ctrl+q")


async def test_hello_instead_of_Hello_is_named_with_the_ladder_and_the_fitting_hint():
    app = NetlabApp()
    async with app.run_test(size=SIZES[1]) as pilot:
        panel = await open_lab(app, pilot, "tcp-first-exchange")
        assert not app.query("#lab-resume-text")  # a first visit resumes nothing
        port = panel.runner.servers["echo"].port
        # The lab's server is one of netlab's sessions: counted under the log (it was "0 sessions")
        assert panel.runner.servers["echo"] in list(app.registry)
        await wait_for(pilot, lambda: str(app._log.parent.border_subtitle).endswith(" 1 session"))
        client = await app.registry.start(TcpClient(app.journal, "127.0.0.1", port))
        await client.send(b"hello")
        await wait_for(pilot, lambda: "case differs" in static_text(app, "#lab-checks"), timeout=5)
        checks = static_text(app, "#lab-checks")
        assert "saw 'hello' at echo — 'Hello' expected; the case differs" in checks
        assert "expected (2 events, in order):" in checks and "observed on tcp-" in checks
        hint = app.query_one("#lab-hint", Button)
        assert "★" in str(hint.label)  # the hint written for this failure comes first
        await pilot.click("#lab-hint")
        await wait_for(pilot, lambda: app.query(".lab-hint"))
        first = app.query(".lab-hint").first(Markdown)
        assert "compares bytes exactly" in first.source
        # The solution comes only after every hint (or a pass).
        await click_button(pilot, "#lab-hint")
        await click_button(pilot, "#lab-hint")
        await wait_for(pilot, lambda: str(app.query_one("#lab-hint", Button).label) == "Solution")
        await click_button(pilot, "#lab-hint")
        await wait_for(pilot, lambda: app.query(".lab-solution"))
        assert f"127.0.0.1 {port} Hello" in app.query(".lab-solution").first(Markdown).source
        await client.send(b"Hello")
        await wait_for(pilot, lambda: static_text(app, "#lab-checks").count("✓") == 2, timeout=5)
        await pilot.press("ctrl+q")


async def test_the_labs_browser_marks_a_lab_whose_tools_are_missing_with_the_doctors_line(monkeypatch):
    monkeypatch.setenv("PATH", "")  # nothing installed: nmap, php, bc … all missing
    app = NetlabApp()
    async with app.run_test(size=SIZES[1]) as pilot:
        await settle(app, pilot)
        await app.open_pane("labs")
        await pilot.pause()
        from textual.widgets import DataTable

        table = app.query_one("#labs-table", DataTable)
        row = table.get_row_index("port-scan")
        assert table.get_row_at(row)[0] == "✗"
        assert table.get_row_at(table.get_row_index("tcp-first-exchange"))[0] == ""
        table.move_cursor(row=row)
        await wait_for(pilot, lambda: "apt-get install nmap" in app.query_one("#labs-description", Markdown).source)
        description = app.query_one("#labs-description", Markdown).source
        assert "**Needs nmap**" in description and "MISSING nmap" in description and "(labs: " not in description
        await pilot.press("ctrl+q")
