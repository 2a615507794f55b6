"""The UDP client pane, driven with Pilot against netlab's UDP servers on loopback."""

from __future__ import annotations

import socket

from textual.widgets import Input, Label, RichLog, Select

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import by_kind
from netlab_tui.engine.core.sessions import SessionStatus
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.udp_client_pane import UdpClientPane
from tests.ui.helpers import SIZE, wait_for


def transcript(app) -> list[str]:
    return [line.text for line in app.query_one("#udp-transcript", RichLog).lines]


async def send(pilot, app, text: str) -> None:
    field = app.query_one("#udp-message", Input)
    field.focus()
    field.value = text
    await pilot.press("enter")


async def test_echo_reply_then_sink_silence_then_fin_stops_it():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        echo = await app.registry.start(server_kinds()["udp-echo"].create(app.journal, port=0))
        sink = await app.registry.start(server_kinds()["udp-sink"].create(app.journal, port=0))
        await app.open_pane("udp-client", host="127.0.0.1", port=echo.port, timeout="0.5")
        await pilot.pause()
        await send(pilot, app, "Hello")
        await wait_for(pilot, lambda: any(t.startswith("← Recu: Hello") for t in transcript(app)))
        pane = app.query_one(UdpClientPane)
        assert f"from 127.0.0.1:{echo.port}" in next(t for t in transcript(app) if t.startswith("←"))
        assert "1 sent, 1 received" in str(app.query_one("#udp-status", Label).render())
        received = [e.payload for e in app.journal.events(by_kind("data")) if e.source == echo.name]
        assert received == [b"Hello", b"Recu: Hello"]  # no line ending by default: one datagram, as typed
        first_socket = pane.client

        app.query_one("#udp-port", Input).value = str(sink.port)
        await send(pilot, app, "mesure 1")
        await wait_for(pilot, lambda: any(t.startswith("no reply within 0.5s") for t in transcript(app)))
        assert first_socket.status == SessionStatus.STOPPED  # a new peer, a new socket
        await send(pilot, app, "FIN")
        await wait_for(pilot, lambda: sink.status == SessionStatus.STOPPED)
        assert [e.payload for e in app.journal.events(by_kind("data")) if e.source == sink.name] == \
            [b"mesure 1", b"FIN"]


async def test_hex_json_and_port_unreachable_and_bad_input():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        echo = await app.registry.start(server_kinds()["udp-echo"].create(app.journal, host="::1", port=0))
        await app.open_pane("udp-client", host="::1", port=echo.port, mode="hex")
        await pilot.pause()
        await send(pilot, app, "00 01 ff")
        await wait_for(pilot, lambda: any(t.startswith("← Recu: \\x00\\x01\\xff") for t in transcript(app)))
        app.query_one("#udp-mode", Select).value = "json"
        await pilot.pause()
        await send(pilot, app, "cmd=list")
        await wait_for(pilot, lambda: any('← Recu: {"cmd": "list"}' in t for t in transcript(app)))

        await send(pilot, app, "{broken")
        await wait_for(pilot, lambda: any("not valid JSON" in n.message for n in app._notifications))
        assert app.query_one("#udp-message", Input).value == "{broken"  # kept for fixing

        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
        probe.close()
        app.query_one("#udp-host", Input).value = "127.0.0.1"
        app.query_one("#udp-port", Input).value = str(free)
        app.query_one("#udp-mode", Select).value = "text"
        await pilot.pause()
        await send(pilot, app, "anyone?")
        await wait_for(pilot, lambda: any("port unreachable" in t for t in transcript(app)))

        app.query_one("#udp-timeout", Input).value = "soon"
        await send(pilot, app, "x")
        await wait_for(pilot, lambda: any("timeout must be a number" in n.message for n in app._notifications))

        await pilot.click("#udp-close")
        await wait_for(pilot, lambda: app.query_one(UdpClientPane).client is None)
        assert not [s for s in app.registry.sessions(role="client")]
