"""The SSH pane driven with Pilot, against a real OpenSSH sshd and netlab's own SSH server."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Label, RichLog, Static

from netlab_tui.engine.ssh.server import SshLabServer
from netlab_tui.ui.app import NetlabApp
from netlab_tui.ui.widgets.ssh_pane import SshPane, TrustHostScreen
from tests.sshd import isolated_home, sshd  # noqa: F401 - the fixtures (isolated_home is autouse)
from tests.ui.helpers import SIZE, wait_for


async def wait_for_dialog(pilot, app) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, TrustHostScreen))
    await pilot.pause()  # laid out, so a click lands on the buttons


def status(app) -> str:
    return str(app.query_one("#ssh-status", Label).content)


def output(app) -> str:
    """The pane's output as logical lines (the RichLog wraps long ones)."""
    return "\n".join(app.query_one(SshPane).transcript)


async def start_lab_server(app, tmp_path, password: str) -> tuple[SshLabServer, Path]:
    """netlab's SSH server in the app, with a known_hosts file that already knows it."""
    lab = await app.registry.start(SshLabServer(app.journal, password=password, host_key=str(tmp_path / "lab_key")))
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{lab.port} {lab.host_key.get_name()} {lab.host_key.get_base64()}\n")
    return lab, known


async def open_pane(pilot, app, **values) -> SshPane:
    pane = await app.open_pane("ssh", **{k: str(v) for k, v in values.items()})
    await pilot.pause()
    return pane


async def test_unknown_host_asks_with_the_fingerprint_and_remembers_only_when_trusted(sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app, host=f"127.0.0.1:{sshd.port}", key=sshd.client_key, known_hosts=known,
                        command="echo out; echo err >&2; exit 5")
        await pilot.click("#ssh-run")
        await wait_for_dialog(pilot, app)
        shown = str(app.screen.query_one("#trust-fingerprint", Static).content)
        assert sshd.fingerprint in shown and "ssh-ed25519" in shown
        assert app.focused is app.screen.query_one("#trust-no")  # the safe answer is the default
        await pilot.click("#trust-no")
        await wait_for(pilot, lambda: "not trusted" in status(app))
        assert not known.exists()

        await pilot.click("#ssh-run")
        await wait_for_dialog(pilot, app)
        await pilot.click("#trust-yes")
        await wait_for(pilot, lambda: "remote exit status 5" in status(app))
        lines = app.query_one("#ssh-output", RichLog).lines
        assert any(line.text == "out" for line in lines)
        err = next(line for line in lines if line.text == "err")
        assert any("red" in str(segment.style) for segment in err)
        assert known.read_text() == sshd.known_hosts_line()
        assert len(app.registry) == 0


async def test_changed_key_is_refused_loudly(sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    impostor = " ".join(Path(f"{sshd.bad_key}.pub").read_text().split()[:2])
    known.write_text(f"[127.0.0.1]:{sshd.port} {impostor}\n")
    app = NetlabApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_pane(pilot, app, host=f"127.0.0.1:{sshd.port}", key=sshd.client_key, known_hosts=known,
                        command="true")
        await pilot.click("#ssh-run")
        await wait_for(pilot, lambda: "REFUSED" in status(app))
        assert app.query_one("#ssh-status", Label).has_class("-danger")
        assert "HOST KEY CHANGED" in output(app) and sshd.fingerprint in output(app)
        assert not isinstance(app.screen, TrustHostScreen)  # nothing to click through
        assert known.read_text() == f"[127.0.0.1]:{sshd.port} {impostor}\n"


async def test_password_login_to_the_lab_server_never_shows_the_password(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        lab, known = await start_lab_server(app, tmp_path, "Zq9-ui-secret")
        await open_pane(pilot, app, host=f"127.0.0.1:{lab.port}", known_hosts=known, command="bc -q <<< 6*7")
        password = app.query_one("#ssh-password", Input)
        password.focus()
        await pilot.press(*"Zq9-ui-secret")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "remote exit status 0" in status(app))
        assert "42" in output(app).splitlines()
        assert "Zq9-ui-secret" not in output(app)
        assert all("Zq9-ui-secret" not in event.to_json() for event in app.journal.events())


async def test_stdin_line_feeds_the_remote_command_then_eof(tmp_path):
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        lab, known = await start_lab_server(app, tmp_path, "pw-for-bc")
        await open_pane(pilot, app, host=f"127.0.0.1:{lab.port}", known_hosts=known, password="pw-for-bc",
                        command="bc -q")
        stdin = app.query_one("#ssh-stdin", Input)
        assert stdin.disabled  # nothing runs yet
        await pilot.click("#ssh-run")
        await wait_for(pilot, lambda: not stdin.disabled and app.focused is stdin)
        await pilot.press(*"6*7", "enter")
        await wait_for(pilot, lambda: "42" in output(app).splitlines())
        assert "→ 6*7" in output(app)
        assert any(e.kind == "stdin" and e.payload == b"6*7\n" for e in app.journal.events())
        await pilot.press("ctrl+d")  # EOF: bc reads its end of input and exits
        await wait_for(pilot, lambda: "remote exit status 0" in status(app))
        assert stdin.disabled and app.query_one("#ssh-eof").disabled


async def test_cancel_a_long_command(sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app, host=f"127.0.0.1:{sshd.port}", key=sshd.client_key, known_hosts=known,
                        command="echo started; sleep 30")
        await pilot.click("#ssh-run")
        await wait_for(pilot, lambda: "started" in output(app).splitlines())
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: "cancelled" in status(app), timeout=10)


async def test_several_hosts_side_by_side_with_a_diff(sshd, tmp_path):  # noqa: F811
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        lab = await app.registry.start(SshLabServer(app.journal, password="unused",
                                                    authorized_keys=f"{sshd.client_key}.pub",
                                                    host_key=str(tmp_path / "lab_key")))
        known = tmp_path / "known_hosts"
        known.write_text(sshd.known_hosts_line())  # sshd known; the lab server will ask
        hosts = f"127.0.0.1:{sshd.port}, 127.0.0.1:{lab.port}"
        pane = await open_pane(pilot, app, host=hosts, key=sshd.client_key, known_hosts=known,
                               command="echo same; echo $SSH_CONNECTION | cut -d' ' -f4")
        await pilot.click("#ssh-run")
        await wait_for_dialog(pilot, app)
        assert lab.host_key.fingerprint in str(app.screen.query_one("#trust-fingerprint", Static).content)
        await pilot.click("#trust-yes")
        await wait_for(pilot, lambda: "outputs differ" in status(app))
        assert [r.code for r in pane.results] == [0, 0]
        text = output(app)
        user = sshd.user
        assert f"{user}@127.0.0.1:{sshd.port} (exit 0)" in text and f"{user}@127.0.0.1:{lab.port} (exit 0)" in text
        rows = text.splitlines()
        assert any(row.startswith("  same") for row in rows)
        assert any(row.startswith("* ") and str(sshd.port) in row and str(lab.port) in row for row in rows)
        assert f"-{sshd.port}" in rows and f"+{lab.port}" in rows
        assert f"{user}@127.0.0.1:{lab.port} same" in rows  # live output, prefixed with its host
