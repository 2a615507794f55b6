"""The conversations screen: one row per connection (both ends of a loopback one), live counts, Enter
goes to the conversation's first event, f filters the log to it aloud."""

import asyncio

from textual.widgets import DataTable

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.screens.conversations import ConversationsScreen
from netlab_tui.ui.screens.follow_stream import FollowStreamScreen
from netlab_tui.ui.widgets.filter_bar import FilterBar
from netlab_tui.ui.widgets.traffic_log import TrafficLog

from tests.ui.helpers import SIZE, wait_for
from tests.ui.traffic_helpers import echo_traffic


async def test_conversations_table_counts_and_filters():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        server, client = await echo_traffic(app, close=False)
        log = app.query_one(TrafficLog)
        log.focus()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        table = app.screen.query_one(DataTable)
        accepted = next(e.conn for e in app.journal.events() if e.kind == "accept")
        await wait_for(pilot, lambda: table.row_count == 1)  # netlab's client and server: one connection
        mine = table.get_row_at(0)
        assert mine[0] == f"{client.conn} (+1)"
        assert mine[2] == client.local and mine[3] == client.peer
        assert mine[5] == "13 B / 2" and mine[6] == "13 B / 2"  # client → server, server → client: once each
        assert mine[8] == "open"

        # live: more traffic and the close update the row in place
        echoed = asyncio.Event()
        client.on_receive(lambda chunk: echoed.set())
        await client.send(b"more\n")
        await asyncio.wait_for(echoed.wait(), 5)
        await app.registry.stop(client)
        await wait_for(pilot, lambda: table.get_row_at(0)[8] == "closed")
        assert table.get_row_at(0)[5] == "18 B / 3" and table.get_row_at(0)[6] == "18 B / 3"
        assert table.row_count == 1

        await pilot.press("s")  # follow the highlighted conversation, then come back
        await wait_for(pilot, lambda: isinstance(app.screen, FollowStreamScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen))

        await pilot.press("enter")  # go to its first event, hiding nothing
        await wait_for(pilot, lambda: not isinstance(app.screen, ConversationsScreen))
        first = min(e.seq for e in app.journal.events() if e.conn in (client.conn, accepted))
        assert log.selected is not None and log.selected.seq == first
        assert app.query_one(FilterBar).applied == "" and log.predicate is None

        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await pilot.press("f")  # filter the log to both ends of it, and say so
        await wait_for(pilot, lambda: not isinstance(app.screen, ConversationsScreen))
        assert app.query_one(FilterBar).applied == f"conn {client.conn},{accepted}"
        await wait_for(pilot, lambda: log.rows and all(e.conn in (client.conn, accepted) for e in log.rows))
        assert [e.kind for e in log.rows if e.conn == client.conn] == ["connect"] + ["data"] * 6 + ["close"]
        assert any("filter: conn" in n.message for n in app._notifications)
