"""Servers → `c`: the client that speaks the server's protocol opens connected to it, the cursor where the
learner types next; a started server is selected so that `c` works right after. Driven by keys only."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label, OptionList, RichLog

from netlab_tui.ui.app import NetlabApp
from tests.ui.helpers import SIZE, wait_for


def transcript(app: NetlabApp, prefix: str) -> str:
    return "\n".join(line.text for line in app.query_one(f"#{prefix}-transcript", RichLog).lines)


def servers(app: NetlabApp, kind: str):
    return [s for s in app.registry.sessions(role="server") if s.kind == kind and s.running]


async def start_from_form(pilot, app: NetlabApp, count: int) -> None:
    """Enter in the port field starts the kind shown (tcp-echo)."""
    app.query_one("#server-port", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(servers(app, "tcp-echo")) == count, what="the server to start")
    table = app.query_one("#servers-table", DataTable)
    await wait_for(pilot, lambda: app.focused is table, what="the table to take the focus")


async def test_c_connects_the_tcp_client_to_the_selected_server_and_switches_servers():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await start_from_form(pilot, app, 1)
        first = servers(app, "tcp-echo")[0]
        table = app.query_one("#servers-table", DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == first.name
        await pilot.press("c", *"Hello", "enter")  # typed at once: nothing lost while it connects
        message = app.query_one("#tcp-message", Input)
        assert app.focused is message and app.query_one("#panes").current == "tcp-client"
        await wait_for(pilot, lambda: "← Hello" in transcript(app, "tcp"), what="the echo")

        # a second server: started from the form, it is selected; `c` moves the client to it
        app.action_focus_tools()
        await pilot.press("home", "enter")  # Servers
        await start_from_form(pilot, app, 2)
        second = next(s for s in servers(app, "tcp-echo") if s is not first)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == second.name
        await pilot.press("c")
        pane = app.query_one("#tcp-client")
        await wait_for(pilot, lambda: pane.target == ("127.0.0.1", second.port) and pane.client.running,
                       what="a connection to the second server")
        status = str(app.query_one("#tcp-status", Label).render())
        assert f":{second.port}" in status and f":{first.port}" not in status
        await wait_for(pilot, lambda: app.focused is message)
        await pilot.press(*"to B", "enter")
        await wait_for(pilot, lambda: second.stats["bytes_in"] >= 5, what="bytes at the second server")
        assert first.stats["bytes_in"] == 6  # "Hello\n" only
        await pilot.press("ctrl+r")  # reconnect: to the second server, not the first
        await wait_for(pilot, lambda: second.total_connections == 2, what="a reconnection to the second server")
        assert first.total_connections == 1
        await pilot.press("ctrl+q")


async def test_c_opens_udp_http_and_rpc_clients_on_their_servers():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for kind in ("udp-echo", "http", "xmlrpc"):
            app.start_quick_server(kind)  # the palette's "Start … server"
            await wait_for(pilot, lambda kind=kind: servers(app, kind), what=f"{kind} to start")
            table = app.query_one("#servers-table", DataTable)
            await wait_for(pilot, lambda kind=kind: app.focused is table and table.coordinate_to_cell_key(
                table.cursor_coordinate).row_key.value == servers(app, kind)[0].name, what=f"{kind} selected")
            await pilot.press("c")
            server = servers(app, kind)[0]
            if kind == "udp-echo":
                message = app.query_one("#udp-message", Input)
                await wait_for(pilot, lambda: app.focused is message, what="focus in the UDP message")
                assert app.query_one("#udp-port", Input).value == str(server.port)
                await pilot.press(*"Hi", "enter")
                await wait_for(pilot, lambda: "← Recu: Hi" in transcript(app, "udp"), what="the UDP reply")
            elif kind == "http":
                url = app.query_one("#http-url", Input)
                await wait_for(pilot, lambda: app.focused is url, what="focus in the URL")
                assert url.value == f"http://127.0.0.1:{server.port}/"
                assert app.query_one("#panes").current == "http-client"
            else:
                assert app.query_one("#panes").current == "rpc"
                assert app.query_one("#rpc-url", Input).value == f"http://127.0.0.1:{server.port}/"
                methods = app.query_one("#rpc-methods", OptionList)
                await wait_for(pilot, lambda: methods.option_count > 0, what="the service's methods")
            await app.open_pane("servers", focus=False)
            await pilot.pause()
        await pilot.press("ctrl+q")


async def test_the_http_client_url_follows_the_running_lab_server_until_typed_in():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await app.open_pane("http-client", focus=False)  # built, not shown: the Servers pane stays in front
        await app.open_pane("servers")
        await pilot.pause()
        url = app.query_one("#http-url", Input)
        assert url.value == "" and "start the HTTP lab server" in url.placeholder  # no port where nothing runs
        assert "No HTTP server runs" in str(app.query_one("#http-status", Label).render())
        app.start_quick_server("http")
        await wait_for(pilot, lambda: servers(app, "http"))
        server = servers(app, "http")[0]
        await wait_for(pilot, lambda: url.value == f"http://127.0.0.1:{server.port}/")
        await app.open_pane("http-client")
        await pilot.pause()
        url.focus()
        await pilot.press("end", *"get", "enter")
        pane = app.query_one("#http-client")
        await wait_for(pilot, lambda: len(pane.history) == 1 and pane.history[0].status == 200)
        await pilot.press("ctrl+q")
