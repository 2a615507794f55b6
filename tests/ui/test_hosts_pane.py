"""The Hosts view and the "on host" selector, driven with Pilot against a real topology: a TCP client
on h2 reaches a server on h1 across the link, and the Hosts view counts the bytes."""

from __future__ import annotations

import os

import pytest
from textual.widgets import DataTable, Input, Select, Static

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.place import on_place
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.host_select import HostSelect
from netlab_tui.ui.widgets.tcp_client_pane import TcpClientPane
from tests.engine.topology._host_state import ROOT_REASON, hosts_toml, leftovers, running_network
from tests.ui.helpers import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_REASON)

TWO = hosts_toml("11", 2)


@pytest.fixture
def network():
    with running_network(TWO, "ui") as net:
        yield net


async def test_a_tcp_client_on_h2_reaches_h1_and_the_hosts_view_counts_it(network):
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:  # (the lab test below runs at 140x42)
        with on_place(network.place("h1")):
            server = await app.registry.start(
                server_kinds()["tcp-echo"].create(app.journal, host="10.213.11.1", port=0))
        pane = await app.open_pane("tcp-client")
        selector = pane.query_one(HostSelect)
        selector.refresh_hosts(force=True)
        await pilot.pause()
        assert selector.display  # shown while a topology runs
        selector.choose(f"{network.name}/h2")
        await wait_for(pilot, lambda: selector.place is not None and selector.place.name == "h2")
        await app.open_pane("tcp-client", host="10.213.11.1", port=server.port)
        await pilot.pause()
        await pilot.click("#tcp-connect")
        await wait_for(pilot, lambda: not app.query_one("#tcp-message", Input).disabled, what="connected")
        client = app.query_one(TcpClientPane).client
        assert client.host_name == "h2" and client.local.startswith("10.213.11.2:")
        app.query_one("#tcp-message", Input).value = "hello h1"
        app.query_one("#tcp-message", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(e.source == server.name and e.kind == "data" and e.direction == "in"
                                          for e in app.journal), what="echo")
        got = [e for e in app.journal if e.source == server.name and e.kind == "data" and e.direction == "in"]
        assert got[0].payload == b"hello h1\n" and got[0].peer.startswith("10.213.11.2:") and got[0].host == "h1"

        hosts = await app.open_pane("hosts")
        hosts.refresh_hosts()
        await pilot.pause()
        table = hosts.query_one(DataTable)
        rows = {table.get_row(key)[0]: table.get_row(key) for key in (r.key for r in table.ordered_rows)
                if table.get_row(key)[6] == network.name}
        assert rows["h1"][1] == "10.213.11.1/24" and rows["h2"][1] == "10.213.11.2/24"
        assert rows["h2"][2] != "0 B" and rows["h2"][3] != "0 B"  # received, sent: the exchange crossed the link
        assert network.name in str(hosts.query_one("#hosts-summary", Static).render())

        selector.choose(None)  # back to this machine
        await wait_for(pilot, lambda: selector.place is None)


async def test_the_selector_stays_hidden_without_a_topology():
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await app.open_pane("tcp-client")
        await pilot.pause()
        selector = pane.query_one(HostSelect)
        if not selector.hosts:  # (another run's topology may be live on this machine)
            assert not selector.display
            assert pane.query_one(Select, ).value is not None


async def test_a_lab_action_on_h2_opens_its_pane_on_h2(tmp_path, monkeypatch):
    """The multi-host roles lab in the TUI: its action (on = "h2") opens the TCP client with h2 chosen;
    connecting from there makes h2 the roles server's primary; closing the lab removes its hosts."""
    from textual.widgets import Button

    from netlab_tui.ui.widgets.lab_panel import LabPanel

    monkeypatch.setenv("NETLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NETLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NETLAB_LANG", "en")
    app = NetlabApp()
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.pause()
        await app.open_pane("labs")
        await pilot.pause()
        table = app.query_one("#labs-table", DataTable)
        table.move_cursor(row=table.get_row_index("multi-host-roles"))
        await pilot.pause()
        await pilot.click("#labs-start")
        await wait_for(pilot, lambda: app.query(LabPanel) and app.query_one(LabPanel).runner.started, what="lab start")
        panel = app.query_one(LabPanel)
        runner = panel.runner
        prefix = runner.hosts.network.prefix
        await wait_for(pilot, lambda: panel._step_shown == 0 and app.query("#lab-action-0"), what="step shown")
        app.query_one("#lab-action-0", Button).press()
        await wait_for(pilot, lambda: app.query_one("#panes").current == "tcp-client", what="tcp client")
        selector = app.query_one(TcpClientPane).query_one(HostSelect)
        await wait_for(pilot, lambda: selector.place is not None and selector.place.name == "h2", what="on h2")
        assert app.query_one("#tcp-host", Input).value == "10.213.4.1"
        app.query_one("#tcp-connect", Button).press()
        await wait_for(pilot, lambda: any(e.kind == "data" and e.direction == "out" and e.payload == b"primary\n"
                                          and (e.peer or "").startswith("10.213.4.2:") for e in app.journal),
                       what="h2 told primary")
        await pilot.click("#lab-close")
        await wait_for(pilot, lambda: not app.query(LabPanel), what="lab closed")
        await wait_for(pilot, lambda: leftovers(prefix) == [], what="hosts removed")
        await wait_for(pilot, lambda: selector.place is None or selector.refresh_hosts(force=True) or
                       selector.place is None, what="selector back to this machine")
