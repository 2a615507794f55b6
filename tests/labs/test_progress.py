"""The progress store: saved atomically, shared between processes, never silently lost."""

from __future__ import annotations

import json
import multiprocessing

from netlab_tui.labs.progress import ProgressStore


def test_progress_is_saved_and_read_back(tmp_path):
    path = tmp_path / "state" / "progress.json"
    store = ProgressStore(path)
    assert store.warning is None and store.passed_steps("lab") == set()
    store.set_current("lab", "two")
    store.mark_passed("lab", "one", all_steps=["one", "two"])
    store.set_hints("lab", "two", 1)
    again = ProgressStore(path)
    assert again.passed_steps("lab") == {"one"}
    assert again.current_step("lab") == "two" and again.hints_shown("lab", "two") == 1
    assert again.completed("lab") is None
    again.mark_passed("lab", "two", all_steps=["one", "two"])
    assert ProgressStore(path).completed("lab") is not None
    assert json.loads(path.read_text())["version"] == 1
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".progress-")] == []  # no temp files left


def test_a_corrupt_file_is_backed_up_and_reported_never_lost(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text('{"version": 1, "labs": {"lab": {"passed": {"one": 1')  # cut short by a crash
    store = ProgressStore(path)
    assert store.warning is not None and "not valid JSON" in store.warning
    backups = list(tmp_path.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text().startswith('{"version": 1, "labs": {"lab"')
    assert backups[0].name in store.warning
    assert store.passed_steps("lab") == set()
    store.mark_passed("lab", "one")  # a fresh file; the backup stays
    assert ProgressStore(path).passed_steps("lab") == {"one"} and backups[0].exists()


def test_a_file_of_the_wrong_shape_is_backed_up_too(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text('["not", "a", "progress", "file"]')
    store = ProgressStore(path)
    assert "not a netlab progress file" in store.warning
    assert len(list(tmp_path.glob("progress.json.corrupt-*"))) == 1
    path.write_text('{"version": 99, "labs": {}}')
    assert "newer netlab" in ProgressStore(path).warning
    assert len(list(tmp_path.glob("progress.json.corrupt-*"))) == 2


def test_reset_forgets_one_lab_only(tmp_path):
    store = ProgressStore(tmp_path / "p.json")
    store.mark_passed("a", "one")
    store.mark_passed("b", "one")
    assert store.reset("a") is True and store.reset("a") is False
    assert ProgressStore(tmp_path / "p.json").lab_ids() == ["b"]


def _mark_many(path: str, lab: str, count: int) -> None:
    store = ProgressStore(path)
    for n in range(count):
        store.mark_passed(lab, f"step-{n}")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "progress.json")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_mark_many, args=(path, lab, 25)) for lab in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    store = ProgressStore(path)
    assert len(store.passed_steps("a")) == 25 and len(store.passed_steps("b")) == 25


def test_the_state_dir_follows_netlab_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLAB_STATE_DIR", str(tmp_path / "mystate"))
    store = ProgressStore()
    store.mark_passed("x", "y")
    assert store.path == tmp_path / "mystate" / "progress.json" and store.path.exists()


def test_an_unwritable_state_dir_keeps_progress_in_memory_with_a_warning(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    store = ProgressStore(blocker / "progress.json")
    store.mark_passed("lab", "one")
    assert store.passed_steps("lab") == {"one"}
    assert store.warning is not None and "cannot save progress" in store.warning
    assert blocker.read_text() == "a file where the state folder should be"
