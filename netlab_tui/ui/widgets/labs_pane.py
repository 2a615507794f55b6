"""Labs: the course as guided labs — browse by topic and level, see your progress, start one.

Starting a lab opens the lab panel (``lab_panel.py``) beside the tools, so the tool panes stay usable
while the panel walks the learner through the steps.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Markdown, Select

from netlab_tui.labs.catalog import LANGUAGES, load_labs, missing_requirements, preferred_language
from netlab_tui.labs.model import LEVELS, Lab
from netlab_tui.labs.progress import ProgressStore
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane

ALL = "*"


@register_pane
class LabsPane(NetlabPane):
    PANE_ID = "labs"
    PANE_TITLE = "Labs"
    ORDER = 90
    HELP = """\
## Labs
The course, step by step. Each step is checked automatically — by the traffic netlab sees (from its
own tools or from your programs) or by running your script or probing your server.

1. Pick a lab (filter by **topic** and **level**, choose the **language**; **Done** counts the steps
   you passed), then **Start lab** (or **s**).
2. The lab panel opens on the right: read the step, use its **▶** buttons (they open a tool
   pre-filled), edit your files in your own editor — each save re-runs your script and re-checks.
3. From any pane: **F6** reveals one hint at a time, **F5** checks now, **F8** goes to the next step
   once this one is checked ✓, **F7** back (also the panel's buttons and "Lab: …" in Ctrl+P).

Progress is saved as you go; **Reset progress** forgets it and restores the starter files (your old
files are kept aside). The same labs run without the TUI: `netlab lab run ID`.
"""

    BINDINGS: ClassVar = [
        Binding("s", "start_lab", "Start lab", id="labs.start"),
    ]

    DEFAULT_CSS = """
    LabsPane .form Select { width: 1fr; margin-right: 1; }
    LabsPane #labs-table { height: 1fr; min-height: 6; }
    LabsPane #labs-about { height: 1fr; border: round $primary-darken-3; padding: 0 1; }
    LabsPane #labs-buttons { height: auto; }
    LabsPane #labs-buttons Button { width: auto; margin-right: 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lang = preferred_language()
        self.labs: list[Lab] = []
        self.broken: list[str] = []
        self.progress = ProgressStore()  # re-read on every refresh: the lab panel and `netlab lab run` write it

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form"):
            yield Select([], prompt="All topics", id="labs-topic")
            yield Select([(level, level) for level in LEVELS], prompt="All levels", id="labs-level")
            yield Select([(lang, lang) for lang in LANGUAGES], value=self.lang if self.lang in LANGUAGES else "en",
                         allow_blank=False, id="labs-lang")
        table: DataTable = DataTable(id="labs-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("", "Done")
        table.add_column("Lab", width=36)  # long titles end in …: level and minutes stay in view (full title below)
        table.add_columns("Level", "Min")
        yield table
        with VerticalScroll(id="labs-about"):
            yield Markdown("", id="labs-description")
        with Horizontal(id="labs-buttons"):
            yield Button("Start lab", id="labs-start", variant="primary")
            yield Button("Reset progress", id="labs-reset")

    def on_mount(self) -> None:
        # The pane is built when Labs is first shown (not at start): the labs are read then.
        self.reload()
        if self.progress.warning:
            self.notify(self.progress.warning, title="Lab progress", severity="warning", timeout=10)
        for line in self.broken:
            self.notify(line, title="Broken lab", severity="error", timeout=10)

    # -- data ----------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.labs, self.broken = load_labs(self.lang)
        topics = sorted({t for lab in self.labs for t in lab.topics})
        topic_select = self.query_one("#labs-topic", Select)
        current = topic_select.value
        topic_select.set_options([(t, t) for t in topics])
        if current in topics:
            topic_select.value = current
        self.refresh_table()

    def visible_labs(self) -> list[Lab]:
        topic = self.query_one("#labs-topic", Select)
        level = self.query_one("#labs-level", Select)
        return [lab for lab in self.labs
                if (topic.is_blank() or topic.value in lab.topics) and (level.is_blank() or lab.level == level.value)]

    def refresh_table(self) -> None:
        """Re-read progress (the lab panel and `netlab lab run` write it) and redraw the rows."""
        self.progress = ProgressStore(self.progress.path)
        table = self.query_one("#labs-table", DataTable)
        selected = self.selected_lab()
        table.clear()
        for lab in self.visible_labs():
            passed = len(self.progress.passed_steps(lab.id) & {s.id for s in lab.steps})
            missing = missing_requirements(lab)
            mark = "✓" if passed == len(lab.steps) else ("✗" if missing else ("…" if passed else ""))
            table.add_row(mark, f"{passed}/{len(lab.steps)}", lab.title, lab.level, str(lab.minutes), key=lab.id)
        if selected is not None and selected.id in {lab.id for lab in self.visible_labs()}:
            table.move_cursor(row=table.get_row_index(selected.id))
        self._describe(self.selected_lab())

    def selected_lab(self) -> Lab | None:
        table = self.query_one("#labs-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((lab for lab in self.labs if lab.id == key), None)

    def _describe(self, lab: Lab | None) -> None:
        markdown = self.query_one("#labs-description", Markdown)
        if lab is None:
            markdown.update("No lab matches these filters." if self.labs else "No labs installed.")
            return
        passed = self.progress.passed_steps(lab.id)
        lines = [f"### {lab.title}", "", lab.summary, "",
                 f"*{lab.level} · about {lab.minutes} min · {', '.join(lab.topics)}*", ""]
        missing = missing_requirements(lab)
        if missing:
            from netlab_tui.labs.doctor import TOOLS, finding_for

            lines += [f"**Needs {', '.join(missing)}**, which is not installed here (`netlab doctor`):", ""]
            lines += [f"    {finding_for(tool).line()}" for tool in missing if tool in TOOLS]
            lines.append("")
        for number, step in enumerate(lab.steps, 1):
            lines.append(f"{number}. {'✓ ' if step.id in passed else ''}{step.title}")
        markdown.update("\n".join(lines))

    # -- events --------------------------------------------------------------------------------------
    @on(Select.Changed, "#labs-topic, #labs-level")
    def _filter_changed(self) -> None:
        self.refresh_table()

    @on(Select.Changed, "#labs-lang")
    def _language_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.lang:
            self.lang = event.value
            self.reload()

    @on(DataTable.RowHighlighted, "#labs-table")
    def _row_highlighted(self) -> None:
        self._describe(self.selected_lab())

    @on(DataTable.RowSelected, "#labs-table")
    @on(Button.Pressed, "#labs-start")
    def action_start_lab(self) -> None:
        lab = self.selected_lab()
        if lab is None:
            return
        missing = missing_requirements(lab)
        if missing:
            self.notify(f"{lab.title} needs {', '.join(missing)}, which is not installed", severity="error")
            return
        self.start_lab(lab)

    @work(exclusive=True, group="labs", exit_on_error=False)
    async def start_lab(self, lab: Lab) -> None:
        from .lab_panel import open_lab_panel

        await open_lab_panel(self.netlab, lab, on_progress=self.refresh_table)

    @on(Button.Pressed, "#labs-reset")
    def _reset(self) -> None:
        lab = self.selected_lab()
        if lab is None:
            return
        from netlab_tui.labs.workspace import Workspace

        from .lab_panel import LabPanel

        if any(panel.runner.lab.id == lab.id for panel in self.app.query(LabPanel)):
            self.notify(f"{lab.title} is open: close it (✕ in the lab panel) before resetting it", severity="warning")
            return
        self.progress.reset(lab.id)
        backup = Workspace(lab).reset()
        kept = f"; your previous files are in {backup}" if backup else ""
        self.notify(f"{lab.title}: progress reset, starter files restored{kept}", timeout=6)
        self.refresh_table()
