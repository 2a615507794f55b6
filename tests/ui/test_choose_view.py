"""Inspector view selection: auto first, any decoder by hand, and the text view's encoding."""

from textual.widgets import OptionList

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.screens.choose_view import ChooseViewScreen
from netlab_tui.ui.widgets.inspector import Inspector
from netlab_tui.ui.widgets.traffic_log import TrafficLog
from tests.ui.helpers import SIZE, wait_for


def journal_with(*payloads: bytes) -> Journal:
    journal = Journal()
    for payload in payloads:
        journal.publish(TrafficEvent("tcp-echo@127.0.0.1:9", "tcp", "data", "in", "127.0.0.1:9", "127.0.0.1:5",
                                     "tcp-1", payload))
    return journal


async def test_auto_picks_json_and_any_view_can_be_chosen():
    app = NetlabApp(journal=journal_with(b'{"cmd": "add", "args": {"name": "Alice"}}'))
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == 1)
        log.focus()
        await pilot.press("home", "enter")
        inspector = app.query_one(Inspector)
        await wait_for(pilot, lambda: inspector.current_view == "json")
        assert '"name": "Alice"' in inspector.rendered_text()
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseViewScreen))
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels[0] == "auto  → JSON" and labels[1].startswith("JSON ")
        assert any(label.startswith("Pickle") and "does not fit" in label for label in labels)
        pickle_index = next(i for i, label in enumerate(labels) if label.startswith("Pickle"))
        options.highlighted = pickle_index
        await pilot.press("enter")
        await wait_for(pilot, lambda: inspector.current_view == "pickle")
        assert "Pickle (disassembly) could not decode this payload (not a pickle" in inspector.rendered_text()
        assert "00000000  7b 22 63 6d 64" in inspector.rendered_text()
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseViewScreen))
        await pilot.press("home", "enter")  # auto
        await wait_for(pilot, lambda: inspector.current_view == "json")


async def test_encoding_cycles_for_the_text_view():
    app = NetlabApp(journal=journal_with("café\n".encode("latin-1")))
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(TrafficLog)
        await wait_for(pilot, lambda: len(log.rows) == 1)
        log.focus()
        await pilot.press("home", "enter")
        inspector = app.query_one(Inspector)
        await wait_for(pilot, lambda: inspector.current_view == "text")
        assert "café" in inspector.rendered_text()  # auto: not UTF-8, so latin-1
        await pilot.press("e")  # utf-8 forced: the é byte shows as an escape
        await wait_for(pilot, lambda: "caf\\xe9" in inspector.rendered_text())
        assert inspector.encoding == "utf-8"
        await pilot.press("e")  # latin-1
        await wait_for(pilot, lambda: "café" in inspector.rendered_text())
