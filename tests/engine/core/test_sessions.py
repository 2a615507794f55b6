import asyncio

import pytest

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError, Session, SessionRegistry, SessionStatus


class Ticker(Session):
    kind = "ticker"
    proto = "lab"

    def __init__(self, journal, fail=False, slow_stop=0.0):
        super().__init__(journal)
        self.fail = fail
        self.slow_stop = slow_stop

    async def _start(self):
        if self.fail:
            raise NetlabError("cannot start ticker")
        self.emit("info", message="tick")

    async def _stop(self):
        await asyncio.sleep(self.slow_stop)


async def test_lifecycle_and_status_notifications():
    journal = Journal()
    registry = SessionRegistry(journal)
    seen = []
    registry.subscribe(lambda s: seen.append(s.status))
    session = await registry.start(Ticker(journal))
    assert session.status == SessionStatus.RUNNING and session.running
    assert journal.events()[0].source == "ticker"
    await registry.stop(session)
    assert session.status == SessionStatus.STOPPED
    assert len(registry) == 0
    assert SessionStatus.STARTING in seen and SessionStatus.STOPPED in seen


async def test_unique_names():
    journal = Journal()
    registry = SessionRegistry(journal)
    a = await registry.start(Ticker(journal))
    b = await registry.start(Ticker(journal))
    c = await registry.start(Ticker(journal))
    assert [a.name, b.name, c.name] == ["ticker", "ticker#2", "ticker#3"]
    assert registry.get("ticker#2") is b
    await registry.stop_all()


async def test_failed_start_is_removed_and_reported():
    journal = Journal()
    registry = SessionRegistry(journal)
    session = Ticker(journal, fail=True)
    with pytest.raises(NetlabError, match="cannot start"):
        await registry.start(session)
    assert session.status == SessionStatus.FAILED and session.error == "cannot start ticker"
    assert len(registry) == 0


async def test_stop_all_stops_everything_even_stragglers():
    journal = Journal()
    registry = SessionRegistry(journal)
    fast = await registry.start(Ticker(journal))
    slow = await registry.start(Ticker(journal, slow_stop=10))
    await registry.stop_all(timeout=0.2)
    assert fast.status == SessionStatus.STOPPED
    assert len(registry) == 0


async def test_cannot_start_twice():
    journal = Journal()
    session = Ticker(journal)
    await session.start()
    with pytest.raises(NetlabError, match="already"):
        await session.start()
    await session.stop()
    await session.stop()  # idempotent
    await asyncio.wait_for(session.wait_closed(), 1)


async def test_emit_threadsafe_from_a_thread():
    journal = Journal()
    session = Ticker(journal)
    await session.start()
    await asyncio.to_thread(session.emit_threadsafe, "info", message="from a thread")
    await asyncio.sleep(0.05)
    assert journal.events()[-1].message == "from a thread"
