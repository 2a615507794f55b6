"""The Labs browser and the lab panel, driven with Pilot: start a lab, make a step pass, see progress saved."""

from __future__ import annotations

import shutil

import pytest
from textual.widgets import Button, DataTable, Input, Markdown, Select, Static

from netlab_tui.labs.catalog import find_lab, load_labs
from netlab_tui.labs.progress import ProgressStore
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.lab_panel import LabPanel
from netlab_tui.ui.widgets.labs_pane import LabsPane
from tests.ui.helpers import SIZE, wait_for


@pytest.fixture(autouse=True)
def lab_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NETLAB_LANG", "en")
    return tmp_path


def static_text(app, selector: str) -> str:
    content = app.query_one(selector, Static).content
    return content.plain if hasattr(content, "plain") else str(content)


async def settle(app, pilot) -> None:
    """Let the start-up's own tool highlight be handled before switching panes programmatically."""
    await wait_for(pilot, lambda: app.query_one("#panes").current == "servers")
    await pilot.pause(0.1)


async def open_lab(app, pilot, lab_id: str) -> LabPanel:
    await settle(app, pilot)
    await app.open_pane("labs")
    await pilot.pause()
    table = app.query_one("#labs-table", DataTable)
    table.move_cursor(row=table.get_row_index(lab_id))
    await pilot.pause()
    await pilot.click("#labs-start")
    await wait_for(pilot, lambda: app.query(LabPanel) and app.query_one(LabPanel).runner.started)
    panel = app.query_one(LabPanel)
    await wait_for(pilot, lambda: panel._step_shown is not None)
    return panel


async def test_the_browser_lists_filters_and_describes_the_labs():
    labs, _ = load_labs("en")
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.open_pane("labs")
        await pilot.pause()
        pane = app.query_one(LabsPane)
        table = app.query_one("#labs-table", DataTable)
        assert table.row_count == len(labs)
        assert [str(table.get_row_at(n)[2]) for n in range(table.row_count)] == [lab.title for lab in labs]
        first = labs[0]
        assert str(table.get_row_at(0)[1]) == f"0/{len(first.steps)}"
        description = app.query_one("#labs-description", Markdown)
        assert first.summary in description.source and first.steps[0].title in description.source
        app.query_one("#labs-level", Select).value = "advanced"
        await pilot.pause()
        assert all(lab.level == "advanced" for lab in pane.visible_labs())
        assert table.row_count == sum(1 for lab in labs if lab.level == "advanced")
        app.query_one("#labs-level", Select).clear()
        app.query_one("#labs-topic", Select).value = "tcp"
        await pilot.pause()
        assert table.row_count == sum(1 for lab in labs if "tcp" in lab.topics) > 0
        # In French, the same labs with their French titles.
        app.query_one("#labs-topic", Select).clear()
        app.query_one("#labs-lang", Select).value = "fr"
        await pilot.pause()
        french = find_lab("tcp-first-exchange", "fr")
        assert french.title in [str(table.get_row_at(n)[2]) for n in range(table.row_count)]


async def test_start_a_lab_pass_a_step_with_a_prefilled_tool_and_see_progress_saved(lab_dirs):
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        panel = await open_lab(app, pilot, "tcp-first-exchange")
        runner = panel.runner
        assert "Step 1/3" in static_text(app, "#lab-header") and "Say hello" in static_text(app, "#lab-header")
        port = runner.servers["echo"].port
        text = app.query_one("#lab-text", Markdown).source
        assert f"netlab send tcp 127.0.0.1 {port} Hello" in text  # the real port, filled in
        await wait_for(pilot, lambda: "· the echo server received Hello" in static_text(app, "#lab-checks"))

        # "Do it": the TCP client opens pre-filled; connect and send.
        await pilot.click("#lab-action-0")
        await pilot.pause()
        assert app.query_one("#panes").current == "tcp-client"
        assert app.query_one("#tcp-port", Input).value == str(port)
        assert app.query_one("#tcp-message", Input).value == "Hello"
        await pilot.click("#tcp-connect")
        await wait_for(pilot, lambda: not app.query_one("#tcp-message", Input).disabled)
        app.query_one("#tcp-message", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: runner.status.passed)
        await wait_for(pilot, lambda: "Step passed!" in static_text(app, "#lab-checks"))
        assert "✓ the echo server received Hello" in static_text(app, "#lab-checks")
        assert ProgressStore(lab_dirs / "state" / "progress.json").passed_steps("tcp-first-exchange") == {"hello"}
        table = app.query_one("#labs-table", DataTable)
        assert str(table.get_row_at(table.get_row_index("tcp-first-exchange"))[1]) == "1/3"

        # Next step: a question, a hint, and the learner's script re-run on save.
        await pilot.click("#lab-next")
        await wait_for(pilot, lambda: panel._step_shown == 1 and app.query("#lab-answer-q1"))
        await wait_for(pilot, lambda: not runner.status.running and "client.py" in static_text(app, "#lab-output"))
        assert "TypeError" in static_text(app, "#lab-output")
        await pilot.click("#lab-hint")
        await wait_for(pilot, lambda: len(app.query(".lab-hint")) == 1)
        assert str(app.query_one("#lab-hint", Button).label) == "Hint 2/2"
        answer = app.query_one("#lab-answer-q1", Input)
        answer.value = "3"
        answer.focus()
        await pilot.press("enter")
        assert "not quite" in static_text(app, "#lab-feedback-q1")
        answer.value = "2"
        await pilot.press("enter")
        assert "right" in static_text(app, "#lab-feedback-q1") and answer.disabled
        shutil.copy(runner.lab.solution_dir / "client.py", runner.workspace.path / "client.py")
        await wait_for(pilot, lambda: runner.status.passed, timeout=20)
        assert ProgressStore(lab_dirs / "state" / "progress.json").passed_steps("tcp-first-exchange") == \
            {"hello", "bytes"}

        await pilot.click("#lab-close")
        await wait_for(pilot, lambda: not app.query(LabPanel))
        assert not runner.started and not any(s.running for s in app.registry)
        await pilot.press("ctrl+q")


async def test_reopening_a_lab_resumes_at_the_saved_step(lab_dirs):
    store = ProgressStore()
    store.mark_passed("tcp-first-exchange", "hello")
    store.set_current("tcp-first-exchange", "recv-loop")
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = await open_lab(app, pilot, "tcp-first-exchange")
        assert panel.runner.step.id == "recv-loop"
        assert "Step 3/3 ●○◉" in static_text(app, "#lab-header")
        await pilot.click("#lab-prev")
        await wait_for(pilot, lambda: panel._step_shown == 1)
        assert ProgressStore().current_step("tcp-first-exchange") == "bytes"
        await pilot.press("ctrl+q")
