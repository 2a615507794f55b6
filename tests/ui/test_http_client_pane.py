"""The HTTP client pane, driven with Pilot against netlab's own lab server (never the internet)."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable, Input, Label, RichLog, Select, TabbedContent, TextArea

from netlab_tui.engine.http.lab import LabHttpApp
from netlab_tui.engine.http.server import HttpServer
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.http_client_pane import HttpClientPane
from netlab_tui.ui.widgets.key_value_table import KeyValueTable
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for


def text_of(log: RichLog) -> str:
    return "\n".join(line.text for line in log.lines)


async def raw_tab(pilot, pane) -> str:
    """The Raw tab's text (a RichLog renders once it is shown and has a size)."""
    pane.query_one("#http-tabs", TabbedContent).active = "http-tab-raw"
    await pilot.pause()
    await pilot.pause()
    return text_of(pane.query_one("#http-raw", RichLog))


async def start_lab(app: NetlabApp, tmp_path) -> HttpServer:
    server = HttpServer(app.journal, LabHttpApp(db=str(tmp_path / "lab.db")), "127.0.0.1", 0)
    await app.registry.start(server)
    return server


async def test_send_see_response_raw_bytes_and_log(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server = await start_lab(app, tmp_path)
        pane = await app.open_pane("http-client", url=f"http://127.0.0.1:{server.port}/get")
        assert isinstance(pane, HttpClientPane)
        await pilot.pause()
        # a query parameter, typed into the Query table
        pane.query_one("#http-tabs", TabbedContent).active = "http-tab-query"
        await pilot.pause()
        params = pane.query_one("#http-params", KeyValueTable)
        params.query_one(".kv-key", Input).focus()
        await pilot.press(*"lang")
        params.query_one(".kv-value", Input).focus()
        await pilot.press(*"fr", "enter")
        assert params.pairs == [("lang", "fr")]
        pane.query_one("#http-url", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(pane.history) == 1)

        response = text_of(pane.query_one("#http-response", RichLog))
        assert "200 OK" in response and '"lang": "fr"' in response
        assert "Content-Type: application/json" in response
        assert pane.query_one("#http-tabs", TabbedContent).active == "http-tab-response"
        status = str(pane.query_one("#http-status", Label).render())
        assert "200 OK" in status and "received" in status

        raw = await raw_tab(pilot, pane)
        assert "GET /get?lang=fr HTTP/1.1␍␊" in raw
        assert "HTTP/1.1 200 OK␍␊" in raw
        hop = pane.history[0].final
        server_response = next(e for e in app.journal.events() if e.source == server.name and e.kind == "response")
        assert hop.raw_received == server_response.payload

        # the exchange is in the traffic log, from both ends
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: sum(1 for e in log.rows if e.proto == "http" and e.kind == "response") == 2)
        await pilot.press("ctrl+q")


async def test_json_body_auth_history_and_curl(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server = await start_lab(app, tmp_path)
        base = f"http://127.0.0.1:{server.port}"
        pane = await app.open_pane("http-client", url=f"{base}/api/users/2", method="PATCH",
                             body='{"status": "busy"}', body_kind="json")
        await pilot.pause()
        assert pane.query_one("#http-body-kind", Select).value == "json"
        assert pane.query_one("#http-body", TextArea).display
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(pane.history) == 1)
        assert pane.history[0].status == 200
        with sqlite3.connect(tmp_path / "lab.db") as db:
            assert db.execute("SELECT status FROM users WHERE id = 2").fetchone() == ("busy",)

        # basic auth against the lab's /basic-auth
        pane.prefill(url=f"{base}/basic-auth/ana/pw", method="GET")
        pane.query_one("#http-body-kind", Select).value = "none"
        pane.query_one("#http-auth-kind", Select).value = "basic"
        await pilot.pause()
        assert pane.query_one("#http-user", Input).display and not pane.query_one("#http-token", Input).display
        pane.query_one("#http-user", Input).value = "ana"
        pane.query_one("#http-password", Input).value = "pw"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(pane.history) == 2)
        assert pane.history[1].status == 200
        assert '"authenticated": true' in text_of(pane.query_one("#http-response", RichLog))

        # as curl: offered to the terminal's clipboard (OSC 52) and written to a file, and the status says both
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith("curl -u ana:pw ") and app.clipboard == pane.last_curl
        saved = tmp_path / "netlab-request.curl.sh"
        assert saved.read_text() == pane.last_curl + "\n"
        status = str(pane.query_one("#http-status", Label).render())
        assert f"saved to {saved}" in status and "OSC 52" in status

        # history: open the first request again, then resend it
        pane.query_one("#http-tabs", TabbedContent).active = "http-tab-history"
        await pilot.pause()
        table = pane.query_one("#http-history", DataTable)
        assert table.row_count == 2
        table.focus()
        table.move_cursor(row=1)  # newest first: row 1 is the PATCH
        await pilot.press("enter")
        await pilot.pause()
        assert pane.query_one("#http-method", Select).value == "PATCH"
        assert pane.query_one("#http-url", Input).value == f"{base}/api/users/2"
        assert pane.query_one("#http-body", TextArea).text == '{"status": "busy"}'
        assert "PATCH /api/users/2 HTTP/1.1" in await raw_tab(pilot, pane)
        pane.query_one("#http-tabs", TabbedContent).active = "http-tab-history"
        await pilot.pause()
        table.move_cursor(row=1)
        await pilot.click("#http-history-resend")
        await wait_for(pilot, lambda: len(pane.history) == 3)
        assert pane.history[2].spec.method == "PATCH" and pane.history[2].status == 200
        await pilot.press("ctrl+q")


async def test_errors_are_notifications(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pane = await app.open_pane("http-client", url="http://127.0.0.1:1/")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("connection refused" in n.message for n in app._notifications))
        assert "failed: connection refused" in str(pane.query_one("#http-status", Label).render())
        pane.prefill(url="http://127.0.0.1:1/", method="POST", body="{oops", body_kind="json")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("not valid JSON" in n.message for n in app._notifications))
        pane.query_one("#http-timeout", Input).value = "soon"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("timeout must be a number" in n.message for n in app._notifications))
        assert pane.history == []
        await pilot.press("ctrl+q")
    assert app.return_value == 0


async def test_redirects_show_every_hop(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server = await start_lab(app, tmp_path)
        pane = await app.open_pane("http-client", url=f"http://127.0.0.1:{server.port}/redirect/2")
        await pilot.pause()
        from textual.widgets import Checkbox

        pane.query_one("#http-follow", Checkbox).value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(pane.history) == 1)
        assert [h.status for h in pane.history[0].hops] == [302, 302, 200]
        assert "via 302 → 302 → 200" in str(pane.query_one("#http-status", Label).render())
        raw = await raw_tab(pilot, pane)
        assert raw.count("→ sent to") == 3 and "GET /redirect/1 HTTP/1.1" in raw
        await pilot.press("ctrl+q")
