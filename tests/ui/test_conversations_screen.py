"""The conversations screen: rows per connection, live counts, Enter filters the log."""

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
        await wait_for(pilot, lambda: table.row_count == 2)
        rows = {table.get_row_at(i)[0]: table.get_row_at(i) for i in range(2)}
        mine = rows[client.conn]
        assert mine[2] == client.local and mine[3] == client.peer
        assert mine[5] == "13 B / 2" and mine[6] == "13 B / 2"  # client → server, server → client
        assert mine[8] == "open"

        # live: more traffic and the close update the row in place
        echoed = asyncio.Event()
        client.on_receive(lambda chunk: echoed.set())
        await client.send(b"more\n")
        await asyncio.wait_for(echoed.wait(), 5)
        await app.registry.stop(client)
        await wait_for(pilot, lambda: table.get_row(client.conn)[8] == "closed")
        assert table.get_row(client.conn)[5] == "18 B / 3" and table.get_row(client.conn)[6] == "18 B / 3"

        table.move_cursor(row=table.get_row_index(client.conn))
        await pilot.press("s")  # follow the highlighted conversation, then come back
        await wait_for(pilot, lambda: isinstance(app.screen, FollowStreamScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen))

        await pilot.press("enter")  # filter the log to it
        await wait_for(pilot, lambda: not isinstance(app.screen, ConversationsScreen))
        assert app.query_one(FilterBar).applied == f"conn {client.conn}"
        await wait_for(pilot, lambda: log.rows and all(e.conn == client.conn for e in log.rows))
        assert [e.kind for e in log.rows] == ["connect"] + ["data"] * 6 + ["close"]
