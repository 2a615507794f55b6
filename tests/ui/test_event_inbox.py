"""EventInbox: what a pane follows, gathered until its next tick."""

from netlab_tui.engine.core.events import TrafficEvent
from netlab_tui.engine.core.journal import Journal
from netlab_tui.ui.widgets.event_inbox import EventInbox


def event(source: str, text: str) -> TrafficEvent:
    return TrafficEvent(source, "fs", "created", None, None, None, None, None, message=text)


def test_follow_take_refollow_and_close():
    journal = Journal()
    inbox = EventInbox()
    journal.publish(event("watch-a", "before"))
    inbox.follow(journal, lambda e: e.source == "watch-a")
    journal.publish(event("watch-a", "one"))
    journal.publish(event("watch-b", "not mine"))
    journal.publish(event("watch-a", "two"))
    assert [e.message for e in inbox.take()] == ["one", "two"]
    assert inbox.take() == []

    journal.publish(event("watch-a", "dropped by the next follow"))
    inbox.follow(journal, lambda e: e.source == "watch-b")  # one subscription at a time
    journal.publish(event("watch-a", "old session"))
    journal.publish(event("watch-b", "new session"))
    assert [e.message for e in inbox.take()] == ["new session"]

    journal.publish(event("watch-b", "discarded"))
    inbox.discard()
    inbox.close()
    journal.publish(event("watch-b", "after close"))
    assert inbox.take() == []
    assert journal.total == 9
