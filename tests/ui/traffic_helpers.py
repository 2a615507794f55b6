"""Real loopback traffic inside a running NetlabApp, for the traffic-view Pilot tests."""

from __future__ import annotations

import asyncio

from netlab_tui.engine.sockets.behaviours import EchoBehaviour
from netlab_tui.engine.sockets.tcp import TcpClient, TcpServer


async def echo_traffic(app, messages=(b"Hello\n", b"second\n"), close=True, server=None):
    """An echo server (or ``server``) and a client in the app's registry; returns (server, client)."""
    if server is None:
        server = await app.registry.start(TcpServer(app.journal, EchoBehaviour(), port=0))
    client = await app.registry.start(TcpClient(app.journal, "127.0.0.1", server.port))
    for message in messages:
        got = asyncio.Event()
        remove = client.on_receive(lambda chunk: got.set())
        await client.send(message)
        await asyncio.wait_for(got.wait(), 5)
        remove()
    if close:
        await app.registry.stop(client)
        for _ in range(100):
            if any(e.kind == "close" and e.source == server.name for e in app.journal.events()):
                break
            await asyncio.sleep(0.02)
    return server, client
