"""``KeyValueTable``: an editable list of name/value pairs (query parameters, headers, form fields).

Type a name and a value, press Enter (or **Add**); select a row and press Delete to remove it, or
Enter to load it back into the inputs for editing.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input


class KeyValueTable(Vertical):
    DEFAULT_CSS = """
    KeyValueTable { height: 1fr; }
    KeyValueTable > Horizontal { height: auto; }
    KeyValueTable Input.kv-key { width: 1fr; }
    KeyValueTable Input.kv-value { width: 2fr; }
    KeyValueTable Button { width: auto; min-width: 7; }
    KeyValueTable DataTable { height: 1fr; }
    """

    BINDINGS: ClassVar = [
        Binding("delete", "remove_row", "Remove row", show=False, id="key-value.remove"),
    ]

    class Changed(Message):
        def __init__(self, table: "KeyValueTable") -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> "KeyValueTable":
            return self.table

    def __init__(self, key_placeholder: str = "name", value_placeholder: str = "value", **kwargs) -> None:
        super().__init__(**kwargs)
        self.key_placeholder = key_placeholder
        self.value_placeholder = value_placeholder
        self._pairs: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Input(placeholder=self.key_placeholder, classes="kv-key")
            yield Input(placeholder=self.value_placeholder, classes="kv-value")
            yield Button("Add", classes="kv-add")
        table = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns("Name", "Value")
        yield table

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def set_pairs(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = [(str(k), str(v)) for k, v in pairs]
        self._refresh_table()

    def add(self, key: str, value: str) -> None:
        self._pairs.append((key, value))
        self._refresh_table()
        self.post_message(self.Changed(self))

    def _refresh_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for key, value in self._pairs:
            table.add_row(key, value)

    @on(Button.Pressed, ".kv-add")
    @on(Input.Submitted, ".kv-key, .kv-value")
    def _add_pressed(self, event: Message) -> None:
        event.stop()
        key_input = self.query_one(".kv-key", Input)
        value_input = self.query_one(".kv-value", Input)
        key = key_input.value.strip()
        if not key:
            key_input.focus()
            return
        self.add(key, value_input.value)
        key_input.value = value_input.value = ""
        key_input.focus()

    @on(DataTable.RowSelected)
    def _edit_row(self, event: DataTable.RowSelected) -> None:
        """Enter on a row: take it out of the table and back into the inputs."""
        event.stop()
        index = event.cursor_row
        if not 0 <= index < len(self._pairs):
            return
        key, value = self._pairs.pop(index)
        self._refresh_table()
        self.query_one(".kv-key", Input).value = key
        self.query_one(".kv-value", Input).value = value
        self.query_one(".kv-value", Input).focus()
        self.post_message(self.Changed(self))

    def action_remove_row(self) -> None:
        table = self.query_one(DataTable)
        if not table.has_focus or not self._pairs:
            return
        index = table.cursor_row
        if 0 <= index < len(self._pairs):
            del self._pairs[index]
            self._refresh_table()
            table.move_cursor(row=min(index, len(self._pairs) - 1))
            self.post_message(self.Changed(self))
