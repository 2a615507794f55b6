"""The sidebar table names every pane without importing it; it must agree with the pane classes."""

from netlab_tui.ui.panes import PANES, pane_classes
from netlab_tui.ui.widgets.base import NetlabPane


def test_the_table_matches_the_pane_classes():
    classes = pane_classes()
    assert len({ref.pane_id for ref in PANES}) == len(PANES)
    for ref, cls in zip(PANES, classes):
        assert issubclass(cls, NetlabPane)
        assert (cls.PANE_ID, cls.PANE_TITLE) == (ref.pane_id, ref.title), ref.module
        assert cls.HELP.strip(), f"{ref.pane_id} has no F1 help"
