"""The lab runner, live: real servers, a real workspace watched, the learner's saves re-checked."""

from __future__ import annotations

import asyncio
import shutil
import socket

from netlab_tui.labs.catalog import find_lab
from netlab_tui.labs.progress import ProgressStore
from netlab_tui.labs.runner import LabRunner, normalise_answer
from netlab_tui.labs.workspace import Workspace


async def until(predicate, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_a_save_reruns_the_script_and_passes_the_step(journal, registry, tmp_path):
    lab = find_lab("tcp-first-exchange")
    progress = ProgressStore(tmp_path / "progress.json")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, tmp_path / "ws"), progress=progress)
    await runner.start("bytes")
    try:
        runner.watch()
        await runner.wait_idle()  # the starter runs once on entry, and crashes
        status = runner.status
        assert status.step.id == "bytes" and not status.passed
        assert "TypeError: a bytes-like object is required" in status.checks[0].detail
        assert runner.reveal_hint().text.startswith("The error says")
        # The learner fixes the file in their editor: the watch re-runs it.
        shutil.copy(lab.solution_dir / "client.py", runner.workspace.path / "client.py")
        await until(lambda: all(c.passed for c in runner.status.checks))
        assert not runner.status.passed  # the question is still open
        assert runner.answer("q1", "3") is False
        assert runner.answer("q1", " 2 ") is True
        assert runner.status.passed
        assert progress.passed_steps(lab.id) == {"bytes"}
        assert ProgressStore(tmp_path / "progress.json").hints_shown(lab.id, "bytes") == 1
        lab_events = [e for e in journal.events() if e.proto == "lab" and e.kind == "step"]
        assert lab_events[-1].meta == {"lab": lab.id, "step": "bytes", "index": 2, "status": "passed",
                                       "checks": [{"title": c.title, "passed": True, "detail": c.detail}
                                                  for c in runner.status.checks]}
        await runner.next()
        assert runner.step.id == "recv-loop" and ProgressStore(tmp_path / "progress.json").current_step(lab.id) \
            == "recv-loop"
    finally:
        await runner.stop()
    assert runner.servers == {} and not any(s.running for s in registry)


async def test_event_checks_pass_from_any_client_and_only_count_the_current_step(journal, registry, tmp_path):
    lab = find_lab("tcp-first-exchange")
    runner = LabRunner(lab, journal, registry, workspace=Workspace(lab, tmp_path / "ws"))
    await runner.start()
    try:
        port = runner.servers["echo"].port
        assert runner.variables["echo.port"] == str(port) and runner.render("{{ echo.address }}") == \
            f"127.0.0.1:{port}"

        def hello() -> None:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(b"Hello")
                sock.recv(100)

        await asyncio.to_thread(hello)
        assert await runner.wait_passed(5)
        await runner.goto(0)  # entering the step again: what happened before no longer counts
        assert not runner.evaluate().passed
        assert "seen 0" in runner.status.checks[0].detail
    finally:
        await runner.stop()


async def test_answers_are_normalised():
    assert normalise_answer("  B''  ") == "b''"
    assert normalise_answer("An  empty\tbytes object.") == "an empty bytes object"
