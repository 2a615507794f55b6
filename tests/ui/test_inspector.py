"""The inspector under a stream of selections: contents always current, the screen laid out again only
when the inspector's text changes height."""

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.inspector import Inspector
from tests.ui.helpers import SIZE, settle


def data_event(payload: bytes) -> TrafficEvent:
    return TrafficEvent("tcp-echo@127.0.0.1:9", "tcp", "data", "in", "127.0.0.1:9", "127.0.0.1:40000",
                        "tcp-1", payload)


async def test_same_shape_updates_in_place_and_taller_text_grows():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        inspector = app.query_one(Inspector)
        view = inspector.query_one("#inspector-view")
        inspector.show(data_event(b"first message\n"))
        await pilot.pause(0.3)
        screen = app.screen
        layouts = []
        original = screen._refresh_layout

        def counted(*args, **kwargs):
            layouts.append(1)
            return original(*args, **kwargs)

        screen._refresh_layout = counted
        inspector.show(data_event(b"other message\n"))  # same views, same height
        await pilot.pause(0.2)
        assert "other message" in inspector.rendered_text()
        assert layouts == []
        short = view.size.height

        tall = b"".join(b"line %02d\n" % i for i in range(30))
        inspector.show(data_event(tall))
        await pilot.pause(0.3)
        assert "line 29" in inspector.rendered_text()
        assert layouts, "a taller text must be laid out"
        assert view.size.height >= short + 29
        await pilot.press("ctrl+q")
