"""The Shell pane driven with Pilot: real processes behind it."""

from __future__ import annotations

import psutil
from textual.widgets import Button, Input, Label, RichLog, Select

from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.shell_pane import ShellPane
from tests.ui.helpers import SIZE, wait_for


def log_text(app) -> str:
    return "\n".join(line.text for line in app.query_one("#shell-output", RichLog).lines)


def status(app) -> str:
    return str(app.query_one("#shell-status", Label).content)


async def type_command(pilot, app, text: str) -> None:
    command = app.query_one("#shell-command", Input)
    command.value = text
    command.focus()
    await pilot.press("enter")


async def test_argv_mode_keeps_substitution_literal_and_shell_mode_warns():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await app.open_pane("shell")
        await pilot.pause()
        pane = app.query_one(ShellPane)
        note = app.query_one("#shell-note", Label)
        assert "no shell" in str(note.content) and not note.has_class("-danger")

        await type_command(pilot, app, "echo '$(id)' ; id")
        await wait_for(pilot, lambda: "exit status 0" in status(app))
        assert "$(id) ; id" in log_text(app)
        assert "uid=" not in log_text(app)

        app.query_one("#shell-mode", Select).value = "shell"
        await pilot.pause()
        assert note.has_class("-danger") and "injection" in str(note.content)
        await type_command(pilot, app, "echo out; echo err >&2; exit 3")
        await wait_for(pilot, lambda: "exit status 3" in status(app))
        lines = app.query_one("#shell-output", RichLog).lines
        assert any(line.text == "out" for line in lines)
        err = next(line for line in lines if line.text == "err")
        assert any("red" in str(segment.style) for segment in err)  # stderr is told apart
        assert pane.session is not None and pane.session.exit_code == 3
        assert len(app.registry) == 0  # finished commands leave the session list


async def test_bc_through_the_stdin_line_then_eof():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await app.open_pane("shell")
        await pilot.pause()
        await type_command(pilot, app, "bc -q")
        stdin = app.query_one("#shell-stdin", Input)
        await wait_for(pilot, lambda: not stdin.disabled)
        assert app.focused is stdin
        await pilot.press(*"2+3", "enter")
        await wait_for(pilot, lambda: "5" in log_text(app).splitlines())
        assert "→ 2+3" in log_text(app)
        await pilot.press("ctrl+d")  # EOF, as in a terminal, from the stdin line itself
        await wait_for(pilot, lambda: "exit status 0" in status(app))
        assert app.query_one("#shell-run", Button).disabled is False
        assert stdin.disabled


async def test_cancel_kills_the_process_group():
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await app.open_pane("shell")
        await pilot.pause()
        await type_command(pilot, app, "sh -c 'sleep 60 & echo $!; wait'")
        await wait_for(pilot, lambda: log_text(app).strip().splitlines()[:1] and
                       log_text(app).strip().splitlines()[0].isdigit())
        grandchild = int(log_text(app).strip().splitlines()[0])
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: "cancelled" in status(app))

        def gone():
            try:
                return psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True

        await wait_for(pilot, gone)


async def test_pipeline_builder_shows_each_stage(tmp_path):
    for name, size in (("small", 1), ("large", 300), ("medium", 20)):
        (tmp_path / name).write_bytes(b"x" * size)
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = await app.open_pane("shell")
        await pilot.pause()
        app.query_one("#shell-mode", Select).value = "pipeline"
        app.query_one("#shell-cwd", Input).value = str(tmp_path)
        app.query_one("#shell-command", Input).value = "ls -l | sort -k 5 -n"
        await pilot.pause()
        note = str(app.query_one("#shell-note", Label).content)
        assert "[1] ls -l" in note and "[2] sort -k 5 -n" in note
        await pilot.click("#shell-run")
        await wait_for(pilot, lambda: "stages: 0 0" in status(app))
        sorted_names = [line.split()[-1] for line in log_text(app).splitlines() if line.startswith("-")]
        assert sorted_names == ["small", "medium", "large"]  # the last stage: sorted by size
        stage_select = app.query_one("#shell-stage", Select)
        assert stage_select.display and stage_select.value == 1
        stage_select.value = 0
        await pilot.pause()
        listed = [line.split()[-1] for line in log_text(app).splitlines() if line.startswith("-")]
        assert listed == ["large", "medium", "small"]  # ls's own output: by name
        assert pane.shown_stage == 0


async def test_bad_input_is_a_notification_not_a_crash():
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.open_pane("shell")
        await pilot.pause()
        await type_command(pilot, app, "netlab-no-such-program")
        await wait_for(pilot, lambda: "command not found" in status(app))
        assert "command not found: netlab-no-such-program" in log_text(app)
        app.query_one("#shell-env", Input).value = "NOEQUALS"
        await type_command(pilot, app, "true")
        await wait_for(pilot, lambda: "expected NAME=value" in status(app))
        app.query_one("#shell-env", Input).value = ""
        app.query_one("#shell-timeout", Input).value = "0.3"
        await type_command(pilot, app, "sleep 30")
        await wait_for(pilot, lambda: "timed out after 0.3s" in status(app))
