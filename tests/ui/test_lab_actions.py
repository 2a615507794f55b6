"""Every lab's "do it" actions against the real tool panes: the pane exists and its prefill() takes every
key the lab fills in; and one action driven end to end (UDP client → the step passes)."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from netlab_tui.labs.catalog import LANGUAGES, load_labs
from netlab_tui.labs.templating import Variables, variables_in_value
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.lab_panel import LabPanel
from tests.ui.helpers import SIZE, wait_for


@pytest.fixture(autouse=True)
def lab_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NETLAB_LANG", "en")
    return tmp_path


def plausible(name: str) -> str:
    """A value of the right shape for a lab variable, as the runner would define it."""
    if name.endswith(".port") or name.startswith("ports."):
        return "40123"
    if name.endswith(".url"):
        return "http://127.0.0.1:40123"
    if name.endswith(".address"):
        return "127.0.0.1:40123"
    if name in ("workspace", "rundir"):
        return f"/tmp/netlab-lab/{name}"
    return "127.0.0.1"


def field_values(pane) -> set[str]:
    values = {str(w.value) for w in pane.query(Input)} | {str(w.value) for w in pane.query(Select)}
    return values | {str(w.value) for w in pane.query(Checkbox)}


async def test_every_lab_action_opens_an_existing_pane_and_fills_every_key():
    actions = [(lab, step, action) for lang in LANGUAGES for lab in load_labs(lang)[0]
               for step in lab.steps for action in step.actions if action.pane]
    assert len(actions) >= 14
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for lab, step, action in actions:
            where = f"{lab.path}:{action.line} ({step.id})"
            assert action.pane in app.pane_ids, f"{where}: no pane {action.pane!r}"
            variables = Variables({name: plausible(name) for name in variables_in_value(action.fill)})
            fill = variables.render_value(action.fill)
            pane = await app.open_pane(action.pane, focus=False, **fill)
            await pilot.pause()
            shown = field_values(pane)
            for key, value in fill.items():
                if isinstance(value, (str, int, float, bool)):
                    assert str(value) in shown, f"{where}: {action.pane} ignored {key} = {value!r}"


async def test_the_udp_action_fills_the_client_and_a_send_passes_the_step():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.open_pane("labs")
        await pilot.pause()
        table = app.query_one("#labs-table", DataTable)
        table.move_cursor(row=table.get_row_index("udp-datagrams"))
        await pilot.pause()
        await pilot.click("#labs-start")
        await wait_for(pilot, lambda: app.query(LabPanel) and app.query_one(LabPanel).runner.started, what="lab start")
        panel = app.query_one(LabPanel)
        await wait_for(pilot, lambda: panel._step_shown == 0 and app.query("#lab-action-0"), what="step shown")
        await pilot.click("#lab-action-0")
        await pilot.pause()
        assert app.query_one("#panes").current == "udp-client"
        assert app.query_one("#udp-port", Input).value == str(panel.runner.servers["echo"].port)
        app.query_one("#udp-message", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.runner.status.passed, what="step passed")
        checks = app.query_one("#lab-checks", Static).content
        assert re.search(r"✓ the echo server received the datagram Hello", str(checks))
        await pilot.click("#lab-close")
        await wait_for(pilot, lambda: not app.query(LabPanel), what="lab closed")
