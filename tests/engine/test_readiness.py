"""'listen' means ready: a request sent the instant a server's ``listen`` event is published is served
completely — for every kind, 20 starts each (issue 14, finding 1: the contact book said it listened before
its SQLite store was open and dropped its first client)."""

from __future__ import annotations

import asyncio
import json

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import Journal, by_kind
from netlab_tui.engine.core.sessions import SessionRegistry
from tests._server_probes import PROBES, kind_options
from tests.conftest import ServeProcess
from tests.sshd import isolated_home  # noqa: F401 - isolated_home: an autouse fixture

STARTS = 20


def test_every_kind_has_a_probe():
    assert set(PROBES) == set(server_kinds())


@pytest.mark.parametrize("kind", sorted(PROBES))
async def test_a_request_sent_the_instant_listen_is_published_is_served(kind, tmp_path):
    for start in range(STARTS):
        journal = Journal()
        registry = SessionRegistry(journal)
        probes: list[asyncio.Task] = []

        def on_listen(event, probes=probes):
            # Synchronously, inside the publish of "listen": nothing more of the start has run yet.
            host, _, port = event.local.rpartition(":")
            probes.append(asyncio.ensure_future(PROBES[kind](host.strip("[]"), int(port))))

        journal.subscribe(on_listen, by_kind("listen"))
        session = server_kinds()[kind].create(journal, **kind_options(kind, tmp_path))
        try:
            await registry.start(session)
            assert len(probes) == 1, f"start {start}: no listen event"
            await asyncio.wait_for(probes[0], 10)
            errors = [e.message for e in journal.events(by_kind("error"))]
            assert not errors, f"start {start} of {kind}: {errors}"
            if kind == "udp-sink":
                await _until(lambda: len(journal.events(by_kind("data"))) >= 2)
        finally:
            await registry.stop_all()


async def _until(condition, timeout=5.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_contact_book_serves_the_first_client_of_netlab_serve(tmp_path):
    """Black box, as the issue measured it: the course's ContactClient `list` the moment the listen
    line is printed."""
    for _ in range(5):
        server = ServeProcess("contact", "--port", "0", "--db", str(tmp_path / "c.sqlite3"))
        try:
            asyncio.run(PROBES["contact"](server.host, server.port))
        finally:
            server.proc.terminate()
            server.proc.wait(10)
        assert b"Traceback" not in server.proc.stderr.read()
