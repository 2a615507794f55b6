"""The port scan pane driven with Pilot: loopback scans stream into the table; others need a yes."""

from __future__ import annotations

import shutil
import socket

import pytest
from textual.widgets import Checkbox, DataTable, Input, Label, ProgressBar, Select

from netlab_tui.engine.scan.scanner import ScanSession
from netlab_tui.engine.ssh.server import SshLabServer
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.screens.confirm import ConfirmScreen
from netlab_tui.ui.widgets.scan_pane import ScanPane
from tests.ui.helpers import SIZE, settle, wait_for


@pytest.fixture
def listeners():
    socks = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        socks.append(s)
    yield sorted(s.getsockname()[1] for s in socks)
    for s in socks:
        s.close()


def column(table: DataTable, index: int) -> list:
    return [table.get_row_at(i)[index] for i in range(table.row_count)]


@pytest.mark.parametrize("engine", ["connect", "nmap"])
async def test_scan_streams_open_ports_into_the_table(listeners, engine):
    if engine == "nmap" and shutil.which("nmap") is None:
        pytest.skip("nmap is not installed")
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        low, high = listeners[0] - 50, listeners[0] + 50
        spec = f"{max(1, low)}-{min(65535, high)},{listeners[1]}"
        await settle(pilot)
        await app.open_pane("scan", target="127.0.0.1", ports=spec, engine=engine)
        await pilot.pause()
        assert await pilot.click("#scan-start")
        pane = app.query_one(ScanPane)
        await wait_for(pilot, lambda: pane.session is not None and not pane.session.running
                       and not app.query_one("#scan-start").disabled, what="the scan to end")
        table = app.query_one("#scan-results", DataTable)
        # Closed ports are not listed by default; the open ones are ours (and whatever else of this
        # machine's happens to listen in the range).
        listed = [int(p) for p in column(table, 1)]
        assert set(listeners) <= set(listed) and listed == pane.scan.open_ports()
        assert {str(s) for s in column(table, 2)} == {"open"}
        bar = app.query_one("#scan-progress", ProgressBar)
        assert bar.total == bar.progress == len(set(range(max(1, low), min(65535, high) + 1)) | {listeners[1]})
        status = str(app.query_one("#scan-status", Label).render())
        assert status.startswith("done:") and f"{len(listed)} open" in status
        # The traffic log got one event per port that is not closed, and the closed ones summed up.
        ports = app.journal.events(lambda e: e.kind == "port")
        summaries = app.journal.events(lambda e: e.kind == "info" and (e.meta or {}).get("closed"))
        assert sorted(e.meta["port"] for e in ports) == listed
        assert sum(e.meta["closed"] for e in summaries) == bar.total - len(listed)
        assert not [s for s in app.registry if isinstance(s, ScanSession)]  # finished scans leave the registry


async def test_show_closed_and_progress_while_running():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.open_pane("scan", target="127.0.0.1", ports="1-40", engine="connect")
        app.query_one("#scan-show-closed", Checkbox).value = True
        await pilot.pause()
        assert await pilot.click("#scan-start")
        table = app.query_one("#scan-results", DataTable)
        await wait_for(pilot, lambda: table.row_count == 40, what="40 rows")
        assert "closed" in {str(s) for s in column(table, 2)}


async def test_stop_a_long_scan():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        # 6 hosts × 65,535 ports: long enough to still be running when Stop is clicked.
        await settle(pilot)
        await app.open_pane("scan", target="127.0.0.0/29", ports="all", engine="connect")
        await pilot.pause()
        assert await pilot.click("#scan-start")
        pane = app.query_one(ScanPane)
        await wait_for(pilot, lambda: pane.scan is not None and pane.scan.progress.done > 1000, what="progress")
        bar = app.query_one("#scan-progress", ProgressBar)
        await wait_for(pilot, lambda: (bar.progress or 0) > 0, what="the bar to move")
        assert await pilot.click("#scan-stop")
        await wait_for(pilot, lambda: not app.query_one("#scan-start").disabled, what="the stop")
        assert pane.scan.progress.done < pane.scan.progress.total
        assert str(app.query_one("#scan-status", Label).render()).startswith("stopped:")


async def test_a_target_outside_loopback_asks_first_and_cancel_scans_nothing():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.open_pane("scan", target="192.0.2.44", ports="80", engine="connect")
        await pilot.pause()
        assert await pilot.click("#scan-start")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert "192.0.2.44" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: "cancelled" in str(app.query_one("#scan-status", Label).render()),
                       what="the cancellation")
        assert not app.journal.events(lambda e: e.proto == "scan")


async def test_bad_input_is_a_notification():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await app.open_pane("scan", target="127.0.0.1", ports="1-99999")
        await pilot.pause()
        assert await pilot.click("#scan-start")
        await wait_for(pilot, lambda: app._notifications, what="a notification")
        assert any("out of range" in n.message for n in app._notifications)
        assert "out of range" in str(app.query_one("#scan-status", Label).render())


async def test_engine_select_and_fallback_note(monkeypatch, tmp_path, listeners):
    monkeypatch.setenv("PATH", str(tmp_path))  # nmap hidden: the pane offers connect, notes the fallback
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await app.open_pane("scan")
        await pilot.pause()
        assert app.query_one("#scan-engine", Select).value == "connect"
        assert "nmap is not installed" in str(app.query_one("#scan-status", Label).render())
        app.query_one("#scan-engine", Select).value = "nmap"
        app.query_one("#scan-ports", Input).value = ",".join(map(str, listeners))
        assert await pilot.click("#scan-start")
        pane = app.query_one(ScanPane)
        await wait_for(pilot, lambda: pane.scan is not None and pane.scan.progress.finished, what="the scan")
        assert pane.scan.engine == "connect"
        await wait_for(pilot, lambda: any("connect scanner" in n.message for n in app._notifications),
                       what="the note")


@pytest.mark.skipif(shutil.which("nmap") is None, reason="the SSH side runs nmap")
async def test_compare_view(listeners, tmp_path, monkeypatch):
    # Trusting a host key remembers it in netlab's data directory: keep that inside the test.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        ssh = SshLabServer(app.journal, port=0, password="pw", host_key=str(tmp_path / "hk"))
        await app.registry.start(ssh)
        await settle(pilot)
        await app.open_pane("scan", target="127.0.0.1", ports=",".join(map(str, listeners)), engine="connect",
                      compare=f"127.0.0.1:{ssh.port}")
        app.query_one("#scan-password", Input).value = "pw"
        app.query_one("#scan-trust", Checkbox).value = True
        await pilot.pause()
        assert await pilot.click("#scan-start")
        pane = app.query_one(ScanPane)
        await wait_for(pilot, lambda: pane.session is not None and getattr(pane.session, "comparison", None),
                       what="the comparison")
        compare = app.query_one("#scan-compare-table", DataTable)
        await wait_for(pilot, lambda: compare.row_count == 2, what="two rows")
        assert compare.display and pane.has_class("comparing")
        labels = [str(c.label) for c in compare.columns.values()]
        assert labels[3] == "local" and f"127.0.0.1:{ssh.port}" in labels[4]
        for row in range(2):
            cells = compare.get_row_at(row)
            assert str(cells[0]) == "" and [str(c) for c in cells[3:]] == ["open", "open"]
        assert "the same" in compare.border_title
        assert (tmp_path / "data" / "netlab" / "known_hosts").exists()


async def test_a_wide_scan_sums_closed_ports_up_and_shows_them_on_demand(listeners):
    """30000-50000 was 20,001 log events, one per closed port (issue 12, item 10)."""
    app = NetlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        spec = f"30000-50000,{listeners[0]}"
        await app.open_pane("scan", target="127.0.0.1", ports=spec, engine="connect")
        await pilot.pause()
        closed_box = app.query_one("#scan-show-closed", Checkbox)
        # An unticked box shows no X (Textual's draws one in both states, told apart by colour only).
        assert "X" not in closed_box.render().plain and not closed_box.value
        assert await pilot.click("#scan-start")
        pane = app.query_one(ScanPane)
        await wait_for(pilot, lambda: pane.session is not None and not pane.session.running
                       and not app.query_one("#scan-start").disabled, what="the scan to end", timeout=60)
        scan = pane.scan
        events = app.journal.events(lambda e: e.source == scan.name)
        closed = scan.counts()["closed"]
        assert closed > 19_000
        assert len(events) < 100, f"{len(events)} log events for one scan"
        summaries = [e for e in events if e.kind == "info" and (e.meta or {}).get("closed")]
        assert sum(e.meta["closed"] for e in summaries) == closed
        assert "closed ports on 127.0.0.1" in summaries[0].text
        table = app.query_one("#scan-results", DataTable)
        assert "closed" not in {str(s) for s in column(table, 2)}
        assert "closed ports not listed" in str(app.query_one("#scan-status", Label).render())
        # Ticking "show closed" afterwards lists them (up to the table's cap), from the scan's results.
        closed_box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert closed_box.value and "X" in closed_box.render().plain
        assert "closed" in {str(s) for s in column(table, 2)}
        assert table.row_count == len(scan.open_ports()) + 5_000
