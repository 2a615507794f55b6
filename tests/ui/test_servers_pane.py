"""The Servers pane, driven with Pilot: every kind with its options, several servers, IPv6, warnings."""

from __future__ import annotations

import asyncio
import json
import socket

from textual.widgets import DataTable, Input, Select, Static

from netlab_tui.engine.core.sessions import SessionStatus
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.servers_pane import ServersPane
from tests.ui.helpers import SIZE, wait_for


async def choose_kind(pilot, app, kind: str) -> None:
    app.query_one("#server-kind", Select).value = kind
    await pilot.pause()
    await pilot.pause()


def servers(app):
    return app.registry.sessions(role="server")


async def test_every_course_kind_is_offered_and_explained():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        options = [value for _label, value in app.query_one("#server-kind", Select)._options]
        for kind in ("tcp-echo", "tcp-greet", "tcp-time", "tcp-finquit", "contact", "roles", "chat",
                     "udp-echo", "udp-sink"):
            assert kind in options
        await choose_kind(pilot, app, "udp-sink")
        summary = str(app.query_one("#server-summary", Static).render())
        assert "UDP sink (udp)" in summary and "FIN" in summary
        assert not app.query("#server-options Input")  # udp-sink takes no options


async def test_greet_with_a_custom_greeting_started_from_the_form():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await choose_kind(pilot, app, "tcp-greet")
        greeting = app.query_one("#server-opt-greeting", Input)
        assert greeting.value == "Recu: "  # the course's default, visible
        greeting.value = "Coucou "
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: servers(app) and servers(app)[0].status is SessionStatus.RUNNING)
        server = servers(app)[0]
        assert server.kind == "tcp-greet"

        def client():
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
                s.sendall(b"Lea")
                return s.recv(100)

        assert await asyncio.to_thread(client) == b"Coucou Lea"
        table = app.query_one("#servers-table", DataTable)
        # "Lea" in, "Coucou Lea" out: the byte counters are in view at 140 columns (refreshed every second)
        await wait_for(pilot, lambda: table.row_count == 1 and table.get_row_at(0)[4:] == ["3", "10"])
        row = table.get_row_at(0)
        assert row[0] == "tcp-greet" and str(server.port) in str(row[1]) and row[2] == "running"
        assert "1" in str(row[3])


async def test_contact_db_option_and_options_kept_per_kind(tmp_path):
    db = tmp_path / "book.sqlite3"
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await choose_kind(pilot, app, "tcp-greet")
        app.query_one("#server-opt-greeting", Input).value = "Salut "
        await choose_kind(pilot, app, "contact")
        assert not app.query("#server-opt-greeting")
        app.query_one("#server-opt-db", Input).value = str(db)
        await choose_kind(pilot, app, "tcp-greet")
        assert app.query_one("#server-opt-greeting", Input).value == "Salut "  # remembered
        await choose_kind(pilot, app, "contact")
        assert app.query_one("#server-opt-db", Input).value == str(db)
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: servers(app) and servers(app)[0].status is SessionStatus.RUNNING)
        server = servers(app)[0]

        def ask():
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
                s.sendall(b'{"cmd": "add", "args": {"name": "Ana", "mail": "ana@x.fr"}}')
                data = b""
                while chunk := s.recv(1024):
                    data += chunk
                return json.loads(data)

        assert (await asyncio.to_thread(ask))["status"] is True
        assert db.exists()


async def test_several_servers_ipv6_and_a_udp_one_then_stop():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pane = app.query_one(ServersPane)
        await pilot.click("#server-start")  # tcp-echo on 127.0.0.1
        await wait_for(pilot, lambda: len(servers(app)) == 1)
        app.query_one("#server-host", Input).value = "::1"
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: len(servers(app)) == 2)
        await choose_kind(pilot, app, "udp-echo")
        app.query_one("#server-host", Input).value = "127.0.0.1"
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: len(servers(app)) == 3)
        names = sorted(s.name for s in servers(app))
        assert any(n.startswith("tcp-echo@[::1]:") for n in names)
        assert any(n.startswith("udp-echo@127.0.0.1:") for n in names)
        table = app.query_one("#servers-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)

        udp = next(s for s in servers(app) if s.kind == "udp-echo")
        table.move_cursor(row=table.get_row_index(udp.name))
        assert pane.selected_session() is udp
        await pilot.click("#server-stop")
        await wait_for(pilot, lambda: len(servers(app)) == 2 and table.row_count == 2)


async def test_all_interfaces_warning_and_bad_input_are_shown_not_crashes():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        host = app.query_one("#server-host", Input)
        host.value = "0.0.0.0"
        await pilot.pause()
        assert "other machines can reach" in str(app.query_one("#server-warning", Static).render())
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: any(n.severity == "warning" for n in app._notifications))
        assert any("reachable from other machines" in n.message for n in app._notifications)
        host.value = "127.0.0.1"
        await pilot.pause()
        assert str(app.query_one("#server-warning", Static).render()) == ""

        used = servers(app)[0].port
        app.query_one("#server-port", Input).value = str(used)
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: any("address already in use" in n.message for n in app._notifications))
        assert len(servers(app)) == 1


async def test_client_button_opens_the_right_client_on_the_selected_server():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await choose_kind(pilot, app, "udp-echo")
        app.query_one("#server-host", Input).value = "0.0.0.0"
        await pilot.click("#server-start")
        await wait_for(pilot, lambda: servers(app) and servers(app)[0].status is SessionStatus.RUNNING)
        table = app.query_one("#servers-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.click("#server-client")
        await pilot.pause()
        assert app.query_one("#panes").current == "udp-client"
        assert app.query_one("#udp-host", Input).value == "127.0.0.1"  # not 0.0.0.0: where to connect
        assert app.query_one("#udp-port", Input).value == str(servers(app)[0].port)


async def test_prefill_from_a_lab_sets_kind_and_options():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await app.open_pane("servers", kind="tcp-greet", port=0, greeting="Hi ")
        await pilot.pause()
        await pilot.pause()
        assert app.query_one("#server-kind", Select).value == "tcp-greet"
        assert app.query_one("#server-opt-greeting", Input).value == "Hi "
