"""The TCP client pane, driven with Pilot against netlab's own servers on loopback."""

from __future__ import annotations

import asyncio
import json
import socket

from textual.widgets import Button, Checkbox, Input, Label, RichLog, Select, Static

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import by_kind
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.tcp_client_pane import TcpClientPane
from tests.ui.helpers import SIZE, wait_for


def transcript(app) -> list[str]:
    return [line.text for line in app.query_one("#tcp-transcript", RichLog).lines]


async def start_server(app, kind, **options):
    return await app.registry.start(server_kinds()[kind].create(app.journal, host="127.0.0.1", port=0, **options))


async def connect(pilot, app, port, host="127.0.0.1"):
    await app.open_pane("tcp-client", host=host, port=port)
    await pilot.pause()
    await pilot.click("#tcp-connect")
    await wait_for(pilot, lambda: not app.query_one("#tcp-message", Input).disabled)
    app.query_one("#tcp-message", Input).focus()


async def type_and_send(pilot, text: str):
    """Fill the focused message field and press Enter (typing key by key only where it matters)."""
    pilot.app.query_one("#tcp-message", Input).value = text
    await pilot.press("enter")


async def test_small_recv_buffer_shows_pieces_then_ipv6_and_a_refused_port():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server = await start_server(app, "tcp-echo")
        await connect(pilot, app, server.port)
        status = app.query_one("#tcp-status", Label)
        assert "recv(4096)" in str(status.render())
        app.query_one("#tcp-bufsize", Input).value = "4"
        await pilot.pause()
        pane = app.query_one(TcpClientPane)
        assert pane.client.bufsize == 4 and "recv(4)" in str(status.render())
        app.query_one("#tcp-message", Input).focus()
        await type_and_send(pilot, "Hello world")
        await wait_for(pilot, lambda: sum(1 for t in transcript(app) if t.startswith("←")) == 3)
        received = [t for t in transcript(app) if t.startswith("←")]
        assert received[0] == "← Hell  (4 B, a full recv(4))"
        assert received[1].startswith("← o wo") and received[2].startswith("← rld\\n  (4 B")
        assert any(t.startswith("→ Hello world\\n  (12 B)") for t in transcript(app))
        chunks = [e.payload for e in app.journal.events(by_kind("data"))
                  if e.source == pane.client.name and e.direction == "in"]
        assert chunks == [b"Hell", b"o wo", b"rld\n"]
        bad = app.query_one("#tcp-bufsize", Input)
        bad.value = "0"
        await pilot.pause()
        assert "recv buffer size must be 1" in str(status.render()) and pane.client.bufsize == 4
        await pilot.click("#tcp-disconnect")
        await wait_for(pilot, lambda: app.query_one("#tcp-message", Input).disabled)

        # IPv6, then a port where nothing listens: a notification, not a crash
        app.query_one("#tcp-bufsize", Input).value = "4096"
        server = await app.registry.start(server_kinds()["tcp-echo"].create(app.journal, host="::1", port=0))
        await connect(pilot, app, server.port, host="::1")
        assert f"[::1]:{server.port}" in str(app.query_one("#tcp-status", Label).render())
        await pilot.click("#tcp-disconnect")
        await wait_for(pilot, lambda: app.query_one("#tcp-message", Input).disabled)

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
        probe.close()
        await app.open_pane("tcp-client", host="127.0.0.1", port=free)
        await pilot.pause()
        await pilot.click("#tcp-connect")
        await wait_for(pilot, lambda: any("refused" in n.message for n in app._notifications))
        assert "not connected" in str(app.query_one("#tcp-status", Label).render())


async def test_hex_and_crlf_and_escapes_send_exact_bytes():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server = await start_server(app, "tcp-echo")
        await connect(pilot, app, server.port)
        pane = app.query_one(TcpClientPane)
        sent = lambda: [e.payload for e in app.journal.events(by_kind("data"))  # noqa: E731
                        if e.source == pane.client.name and e.direction == "out"]
        app.query_one("#tcp-eol", Select).value = "crlf"
        app.query_one("#tcp-message", Input).focus()
        await type_and_send(pilot, "ping")
        await wait_for(pilot, lambda: sent() == [b"ping\r\n"])

        app.query_one("#tcp-mode", Select).value = "hex"
        await pilot.pause()
        assert app.query_one("#tcp-eol", Select).disabled  # a line ending means nothing in hex
        app.query_one("#tcp-message", Input).focus()
        await pilot.press(*"00 ff 0a")  # typed: the preview follows each key
        await pilot.pause()
        assert str(app.query_one("#tcp-preview", Static).render()) == "will send 3 B: \\x00\\xff\\n"
        await pilot.press("enter")
        await wait_for(pilot, lambda: sent()[-1:] == [b"\x00\xff\n"])

        app.query_one("#tcp-message", Input).value = "zz"
        await pilot.pause()
        preview = app.query_one("#tcp-preview", Static)
        assert "not valid hex" in str(preview.render()) and preview.has_class("error")
        await pilot.press("enter")
        await pilot.pause()
        assert len(sent()) == 2  # nothing sent, the field is kept for fixing
        assert app.query_one("#tcp-message", Input).value == "zz"

        app.query_one("#tcp-message", Input).value = ""
        app.query_one("#tcp-mode", Select).value = "text"
        app.query_one("#tcp-eol", Select).value = "none"
        app.query_one("#tcp-escapes", Checkbox).value = True
        app.query_one("#tcp-message", Input).focus()
        await type_and_send(pilot, "a\\tb\\r\\n")
        await wait_for(pilot, lambda: sent()[-1:] == [b"a\tb\r\n"])


async def test_json_fields_to_the_contact_server_and_eof(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server = await start_server(app, "contact", db=str(tmp_path / "c.db"))
        await connect(pilot, app, server.port)
        app.query_one("#tcp-mode", Select).value = "json"
        app.query_one("#tcp-message", Input).focus()
        app.query_one("#tcp-message", Input).value = "cmd=add args.name=Ana args.mail=ana@x.fr"
        await pilot.pause()
        expected = json.dumps({"cmd": "add", "args": {"name": "Ana", "mail": "ana@x.fr"}})
        assert str(app.query_one("#tcp-preview", Static).render()).startswith(f"will send {len(expected)} B: ")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("EOF" in t for t in transcript(app)))
        reply = next(t for t in transcript(app) if t.startswith("← "))
        assert '"status": true' in reply and "contact 'Ana' added" in reply
        assert app.query_one("#tcp-message", Input).disabled  # the server closed: nothing more to send
        assert not app.query_one("#tcp-reconnect", Button).disabled


async def test_half_close_then_read_the_rest_and_reconnect():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server = await start_server(app, "tcp-greet")
        await connect(pilot, app, server.port)
        await type_and_send(pilot, "one")
        await wait_for(pilot, lambda: any(t.startswith("← Recu: one") for t in transcript(app)))
        await pilot.click("#tcp-shutdown")
        await wait_for(pilot, lambda: any("EOF" in t for t in transcript(app)))
        assert any("FIN: write side shut down" in t for t in transcript(app))
        closes = [e for e in app.journal.events(by_kind("close")) if e.source == server.name]
        assert closes and closes[0].meta["by"] == "peer"

        await pilot.click("#tcp-reconnect")
        await wait_for(pilot, lambda: not app.query_one("#tcp-message", Input).disabled)
        app.query_one("#tcp-message", Input).focus()
        await type_and_send(pilot, "two")
        await wait_for(pilot, lambda: any(t.startswith("← Recu: two") for t in transcript(app)))
        assert server.total_connections == 2


async def test_http_template_over_a_plain_socket():
    """The course's GET / HTTP/1.1 typed by hand, against a tiny HTTP responder on loopback."""
    requests: list[bytes] = []

    async def responder(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        requests.append(head)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    http = await asyncio.start_server(responder, "127.0.0.1", 0)
    port = http.sockets[0].getsockname()[1]
    app = NetlabApp()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await connect(pilot, app, port)
            await pilot.click("#tcp-http")
            await pilot.pause()
            message = app.query_one("#tcp-message", Input).value
            assert message == f"GET / HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nConnection: close\\r\\n\\r\\n"
            assert app.query_one("#tcp-escapes", Checkbox).value is True
            assert app.query_one("#tcp-eol", Select).value == "none"
            app.query_one("#tcp-message", Input).focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: any("EOF" in t for t in transcript(app)))
            assert requests == [f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()]
            assert any(t.startswith("← HTTP/1.1 200 OK\\r\\n") for t in transcript(app))
    finally:
        http.close()


async def test_keys_work_while_typing_in_the_message_field():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server = await start_server(app, "tcp-echo")
        await connect(pilot, app, server.port)
        pane = app.query_one(TcpClientPane)
        assert app.focused is app.query_one("#tcp-message", Input)
        await pilot.press("ctrl+t")  # half-close, not the field's own key
        await wait_for(pilot, lambda: pane.client is not None and pane.client.write_closed, what="half-close")
        await pilot.press("ctrl+d")  # disconnect, not "delete right"
        await wait_for(pilot, lambda: app.query_one("#tcp-message", Input).disabled, what="disconnect")
        assert not [s for s in app.registry.sessions() if s.kind == "tcp-client" and s.running]
