"""Save capture: the events shown in the log written as a pcap (packets rebuilt from the journal).

Asks for a path (a timestamped name in the current directory by default); the packets are built in a
thread so a big journal does not freeze the UI.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


def default_capture_path() -> Path:
    return Path.cwd() / time.strftime("netlab-capture-%Y%m%d-%H%M%S.pcap")


class SaveCaptureScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]

    DEFAULT_CSS = """
    SaveCaptureScreen { align: center middle; }
    SaveCaptureScreen > Vertical { width: 90; max-width: 95%; height: auto; border: thick $accent;
                                   background: $surface; padding: 1 2; }
    SaveCaptureScreen #save-text { height: auto; margin-bottom: 1; }
    SaveCaptureScreen #save-error { height: auto; color: $error; }
    SaveCaptureScreen Horizontal { height: auto; align: right middle; margin-top: 1; }
    SaveCaptureScreen Button { margin-left: 2; }
    """

    def __init__(self, count: int, filtered: bool) -> None:
        super().__init__()
        self.count = count
        self.filtered = filtered

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save capture (pcap)"
            which = "the events the filter shows" if self.filtered else "every event in the log"
            yield Static(f"Write {which} ({self.count:,}) as a pcap file Wireshark and tshark open.\n"
                         "The packets are rebuilt from netlab's journal, not captured on the wire: each TCP "
                         "conversation gets its handshake, data, ACKs and FINs with consistent sequence "
                         "numbers. For the real packets, run `netlab serve KIND --pcap FILE --pcap-from wire` "
                         "(needs root or CAP_NET_RAW).", id="save-text", markup=False)
            yield Input(str(default_capture_path()), id="save-path")
            yield Static("", id="save-error")
            with Horizontal():
                yield Button("Cancel", id="save-cancel")
                yield Button("Save", id="save-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    def _accept(self) -> None:
        path = Path(self.query_one("#save-path", Input).value.strip()).expanduser()
        error = None
        if not path.name:
            error = "give a file name"
        elif path.is_dir():
            error = f"{path} is a directory"
        elif not path.parent.exists():
            error = f"directory {path.parent} does not exist"
        if error:
            self.query_one("#save-error", Static).update(error)
            return
        self.dismiss(path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save-ok":
            self._accept()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
