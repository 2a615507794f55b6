"""The directory watch pane driven with Pilot: real files, a live table, forwarding to a collector."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Input, Label

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.watch_pane import WatchPane, split_globs
from tests.ui.helpers import SIZE, click_button, settle, wait_for


def rows(table: DataTable) -> list[tuple[str, str, str]]:
    return [tuple(str(c) for c in table.get_row_at(i)[1:]) for i in range(table.row_count)]


def test_split_globs():
    assert split_globs(" *.py, docs/*.md  .git ") == ["*.py", "docs/*.md", ".git"]
    assert split_globs("") == []


async def test_watch_shows_changes_live(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await app.open_pane("watch", dir=str(tmp_path), exclude="*.tmp")
        await pilot.pause()
        assert await pilot.click("#watch-start")
        pane = app.query_one(WatchPane)
        await wait_for(pilot, lambda: pane.session is not None and pane.session.running, what="the watch")
        await asyncio.sleep(0.2)
        (tmp_path / "a.txt").write_text("1")
        (tmp_path / "junk.tmp").write_text("ignored")
        (tmp_path / "a.txt").rename(tmp_path / "b.txt")
        (tmp_path / "b.txt").unlink()
        table = app.query_one("#watch-table", DataTable)
        await wait_for(pilot, lambda: ("deleted", "b.txt", "") in rows(table), what="the deletion row")
        seen = rows(table)
        assert ("created", "a.txt", "") in seen and ("moved", "a.txt", "b.txt") in seen
        assert not [r for r in seen if "junk" in r[1]]
        status = str(app.query_one("#watch-status", Label).render())
        assert status.startswith(f"watching {tmp_path.resolve()}") and "1 deleted" in status
        assert await pilot.click("#watch-stop")
        await wait_for(pilot, lambda: not pane.session.running, what="the stop")
        assert "stopped watching" in str(app.query_one("#watch-status", Label).render())


async def test_a_burst_fills_the_table(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.open_pane("watch", dir=str(tmp_path))
        await pilot.pause()
        assert await pilot.click("#watch-start")
        pane = app.query_one(WatchPane)
        await wait_for(pilot, lambda: pane.session is not None and pane.session.running, what="the watch")
        await asyncio.sleep(0.2)
        for i in range(2000):
            (tmp_path / f"f{i}").write_bytes(b"")
        table = app.query_one("#watch-table", DataTable)
        await wait_for(pilot, lambda: sum(1 for r in rows(table) if r[0] == "created") == 2000, what="2,000 rows")


async def test_forward_to_a_collector_and_see_its_clients(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        collector = server_kinds()["watch-collector"].create(app.journal, port=0)
        await app.registry.start(collector)
        await settle(pilot)
        await app.open_pane("watch", dir=str(tmp_path), forward=f"127.0.0.1:{collector.port}")
        await pilot.pause()
        assert await pilot.click("#watch-start")
        pane = app.query_one(WatchPane)
        await wait_for(pilot, lambda: pane.session is not None and pane.session.forwarder is not None
                       and pane.session.forwarder.acks, what="the collector's greeting")
        (tmp_path / "shared.txt").write_text("x")
        clients = app.query_one("#watch-clients", DataTable)
        await wait_for(pilot, lambda: clients.row_count == 1, what="the collector's client row")
        label, _peer, changes, connected, _last = (str(c) for c in clients.get_row_at(0))
        assert label == pane.session.forwarder.watcher and int(changes) >= 1 and connected == "yes"
        assert pane.has_class("collecting")
        status = str(app.query_one("#watch-status", Label).render())
        assert f"forward → 127.0.0.1:{collector.port}: connected" in status


async def test_bad_directory_and_forward_are_notifications(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await app.open_pane("watch", dir=str(tmp_path / "nope"))
        await pilot.pause()
        assert await pilot.click("#watch-start")
        await wait_for(pilot, lambda: app._notifications, what="a notification")
        assert any("no such directory" in n.message for n in app._notifications)
        app.query_one("#watch-dir", Input).value = str(tmp_path)
        app.query_one("#watch-forward", Input).value = "nowhere"
        await click_button(pilot, "#watch-start")
        await wait_for(pilot, lambda: any("invalid forward target" in n.message for n in app._notifications),
                       what=f"the forward error, in {[n.message for n in app._notifications]}")
