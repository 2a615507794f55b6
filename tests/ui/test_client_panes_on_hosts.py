"""The HTTP, RPC and SSH panes have the "on host" selector; with h2 chosen, the HTTP pane's requests
leave from h2 (driven with Pilot against a real topology), and going back to this machine makes a new
client there."""

from __future__ import annotations

import os

import pytest
from textual.widgets import Input

from netlab_tui.engine.core.place import on_place
from netlab_tui.engine.http.lab import LabHttpApp
from netlab_tui.engine.http.server import HttpServer
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.host_select import HostSelect
from netlab_tui.ui.widgets.http_client_pane import HttpClientPane
from tests.engine.topology._host_state import ROOT_REASON, hosts_toml, running_network
from tests.ui.helpers import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_REASON)

TWO = hosts_toml("12", 2)


@pytest.fixture
def network():
    with running_network(TWO, "uc") as net:
        yield net


async def test_the_http_pane_on_h2_gets_the_lab_server_on_h1(network, tmp_path):
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        with on_place(network.place("h1")):
            server = await app.registry.start(
                HttpServer(app.journal, LabHttpApp(db=str(tmp_path / "lab.db")), "10.213.12.1", 0))
        for name in ("rpc", "ssh"):
            pane = await app.open_pane(name)
            await pilot.pause()
            assert len(pane.query(HostSelect)) == 1
        pane = await app.open_pane("http-client")
        await pilot.pause()
        selector = pane.query_one(HostSelect)
        selector.refresh_hosts(force=True)
        await pilot.pause()
        assert selector.display
        selector.choose(f"{network.name}/h2")
        await wait_for(pilot, lambda: selector.place is not None and selector.place.name == "h2")
        url = app.query_one("#http-url", Input)
        url.value = f"http://10.213.12.1:{server.port}/"
        url.focus()
        await pilot.press("enter")
        requests = lambda: [e for e in app.journal if e.source == server.name and e.kind == "request"]  # noqa: E731
        await wait_for(pilot, lambda: requests(), what="request on h1")
        client = app.query_one(HttpClientPane).client
        assert client.host_name == "h2"
        assert requests()[0].peer.startswith("10.213.12.2:") and requests()[0].host == "h1"
        selector.choose(None)  # back to this machine: the next send makes a client here
        await wait_for(pilot, lambda: selector.place is None)
        url.value = "http://127.0.0.1:9/"  # discard port on loopback: refused, and said so in one line
        url.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query_one(HttpClientPane).client is not client, what="new client")
        assert app.query_one(HttpClientPane).client.host_name is None
