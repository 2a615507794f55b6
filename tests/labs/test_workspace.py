"""The learner's workspace: starter files, real script runs with timeouts, a real watch on the folder."""

from __future__ import annotations

import asyncio
import socket
import sys

from netlab_tui.labs.catalog import find_lab
from netlab_tui.labs.model import ScriptSpec
from netlab_tui.labs.templating import Variables
from netlab_tui.labs.workspace import ScriptRun, Workspace, WorkspaceWatcher, free_port, is_listening, script_command


def test_starter_files_never_overwrite_the_learners_edits(tmp_path):
    lab = find_lab("tcp-first-exchange")
    workspace = Workspace(lab, tmp_path / "ws")
    assert workspace.prepare() == ["client.py", "receive_all.py"]
    (workspace.path / "client.py").write_text("# my edits\n")
    assert workspace.prepare() == []
    assert (workspace.path / "client.py").read_text() == "# my edits\n"
    backup = workspace.reset()
    assert backup is not None and (backup / "client.py").read_text() == "# my edits\n"
    assert "sendall(message)" in (workspace.path / "client.py").read_text()
    workspace.install_solution()
    assert "message.encode" in (workspace.path / "client.py").read_text()
    assert workspace.files() == ["client.py", "receive_all.py"]


async def test_a_script_run_streams_its_output_into_the_journal(journal, tmp_path):
    (tmp_path / "hello.py").write_text("import sys\nprint('out', sys.argv[1])\nprint('err', file=sys.stderr)\n"
                                       "sys.exit(3)\n")
    spec = ScriptSpec(name="hello", file="hello.py", args=["{{ who }}"])
    run = ScriptRun(journal, spec, tmp_path, Variables({"who": "world"}))
    await run.start()
    result = await run.wait(10)
    assert (result.exit_code, result.stdout, result.stderr, result.timed_out) == (3, "out world\n", "err\n", False)
    kinds = [(e.proto, e.kind) for e in journal.events()]
    assert ("shell", "stdout") in kinds and ("shell", "stderr") in kinds and kinds[-1] == ("shell", "exit")
    assert journal.events()[-1].meta["exit"] == 3


async def test_a_script_that_hangs_is_killed_at_its_timeout(journal, tmp_path):
    (tmp_path / "hang.py").write_text("import time\nprint('waiting', flush=True)\ntime.sleep(60)\n")
    run = ScriptRun(journal, ScriptSpec(name="hang", file="hang.py"), tmp_path, Variables())
    await run.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await run.wait(0.5)
    assert loop.time() - started < 5
    assert result.timed_out and result.exit_code is not None and result.stdout == "waiting\n"
    assert "did not finish within 0.5s" in result.error


async def test_a_server_script_is_awaited_until_it_listens_then_stopped(journal, tmp_path):
    port = free_port()
    (tmp_path / "server.py").write_text(
        "import socket, sys, time\ntime.sleep(0.3)\ns = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
        "print('listening', flush=True)\nwhile True:\n    c, _ = s.accept(); c.close()\n")
    spec = ScriptSpec(name="server", file="server.py", args=[str(port)], listen=str(port))
    run = ScriptRun(journal, spec, tmp_path, Variables())
    await run.start()
    assert await run.wait_listening("127.0.0.1", port, 10)
    assert is_listening("127.0.0.1", port)
    await run.stop()
    assert not run.result.running and not is_listening("127.0.0.1", port)


async def test_a_server_script_that_crashes_says_why(journal, tmp_path):
    (tmp_path / "server.py").write_text("raise SystemExit('port already taken, says the learner')\n")
    port = free_port()
    run = ScriptRun(journal, ScriptSpec(name="server", file="server.py", listen=str(port)), tmp_path, Variables())
    await run.start()
    assert not await run.wait_listening("127.0.0.1", port, 10)
    assert run.result.error == f"server.py exited with status 1 before listening on port {port}: " \
                               "port already taken, says the learner"


def test_is_listening_does_not_connect():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert is_listening("127.0.0.1", port)
        server.setblocking(False)
        try:
            server.accept()
            raise AssertionError("is_listening connected to the server")
        except BlockingIOError:
            pass
    assert not is_listening("127.0.0.1", port)


def test_script_commands_by_extension():
    variables = Variables({"p": "4242"})
    assert script_command(ScriptSpec("c", "c.py", args=["{{ p }}"]), variables) == [sys.executable, "-u", "c.py",
                                                                                     "4242"]
    assert script_command(ScriptSpec("c", "c.sh"), variables) == ["sh", "c.sh"]


async def test_the_watcher_reports_saves_once_per_burst(tmp_path):
    seen: list[list[str]] = []
    changed = asyncio.Event()

    def on_change(paths: list[str]) -> None:
        seen.append(paths)
        changed.set()

    watcher = WorkspaceWatcher(tmp_path, on_change, debounce=0.2)
    watcher.start()
    try:
        await asyncio.sleep(0.2)
        for n in range(5):
            (tmp_path / "client.py").write_text(f"print({n})\n")
        (tmp_path / ".client.py.swp").write_text("editor noise")
        (tmp_path / "__pycache__").mkdir()
        (tmp_path / "__pycache__" / "client.cpython-311.pyc").write_bytes(b"\0")
        async with asyncio.timeout(10):
            await changed.wait()
        await asyncio.sleep(0.5)
    finally:
        watcher.stop()
    assert seen == [["client.py"]]
