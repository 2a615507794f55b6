"""The RPC pane with Pilot against netlab's own XML-RPC service: list, describe, call, faults."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label, OptionList, RichLog, Select

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.http.server import HttpServer
from netlab_tui.engine.rpc.server import RpcApp
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.rpc_pane import RpcPane, parse_params
from tests.ui.helpers import SIZE, wait_for


def transcript(pane: RpcPane) -> str:
    return "\n".join(line.text for line in pane.query_one("#rpc-transcript", RichLog).lines)


async def test_list_pick_and_call_xmlrpc():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server = HttpServer(app.journal, RpcApp(), "127.0.0.1", 0)
        await app.registry.start(server)
        pane = await app.open_pane("rpc", url=f"http://127.0.0.1:{server.port}/RPC2")
        await pilot.pause()
        await pilot.click("#rpc-list")
        methods = pane.query_one("#rpc-methods", OptionList)
        await wait_for(pilot, lambda: methods.option_count == 9)
        assert "<methodName>system.listMethods</methodName>" in transcript(pane)

        # pick "double": its help appears, then call it with a string
        methods.focus()
        methods.highlighted = [methods.get_option_at_index(i).id for i in range(methods.option_count)].index("double")
        await pilot.press("enter")
        status = pane.query_one("#rpc-status", Label)
        await wait_for(pilot, lambda: "twice a number" in str(status.render()))
        assert pane.query_one("#rpc-method", Input).value == "double"
        assert pane.query_one("#rpc-params", Input).has_focus
        await pilot.press(*"ab", "enter")
        await wait_for(pilot, lambda: pane.results and pane.results[-1].method == "double")
        assert pane.results[-1].value == "abab"
        text = transcript(pane)
        assert "<string>ab</string>" in text and "<string>abab</string>" in text and '= "abab"' in text

        # a fault is shown with its code
        pane.prefill(method="add", params='1 "x"')
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: pane.results[-1].method == "add")
        assert "fault -32602" in str(status.render()) and "fault -32602" in transcript(pane)
        rpc_events = [e for e in app.journal.events() if e.proto == "rpc" and e.source == server.name]
        assert any(e.meta.get("method") == "double" for e in rpc_events)
        await pilot.press("ctrl+q")


async def test_jsonrpc_and_errors():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server = HttpServer(app.journal, RpcApp(), "127.0.0.1", 0)
        await app.registry.start(server)
        pane = await app.open_pane("rpc", url=f"http://127.0.0.1:{server.port}/jsonrpc", protocol="json-rpc",
                             method="weather_forecast", params="[2]")
        await pilot.pause()
        assert pane.query_one("#rpc-protocol", Select).value == "json-rpc"
        await pilot.click("#rpc-call")
        await wait_for(pilot, lambda: pane.results)
        assert len(pane.results[0].value) == 2
        assert '"method": "weather_forecast"' in transcript(pane)

        pane.prefill(params="[1,")
        await pilot.click("#rpc-call")
        await wait_for(pilot, lambda: any("not valid JSON" in n.message for n in app._notifications))
        pane.prefill(url="http://127.0.0.1:1/", params="1 2", method="add")
        await pilot.click("#rpc-call")
        await wait_for(pilot, lambda: any("connection refused" in n.message for n in app._notifications))
        await pilot.press("ctrl+q")
    assert app.return_value == 0


@pytest.mark.parametrize("text, params", [("", []), ("2 3", [2, 3]), ('ab "c d"', ["ab", "c d"]),
                                           ('[1, "x"]', [1, "x"]), ('{"days": 3}', {"days": 3})])
def test_parse_params(text, params):
    assert parse_params(text) == params


def test_parse_params_errors():
    with pytest.raises(NetlabError, match="not valid JSON"):
        parse_params("[1,")
    with pytest.raises(NetlabError, match="cannot split"):
        parse_params('"unclosed')
