"""``netlab lab``: every shipped lab solved by its reference solution, and the other sub-commands."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from netlab_tui.labs.catalog import find_lab, lab_files, missing_requirements
from netlab_tui.labs.progress import ProgressStore

from tests.conftest import netlab_cmd, run_netlab

LAB_IDS = [path.parent.name for path in lab_files()]


@pytest.fixture
def lab_env(tmp_path):
    """netlab's state and data dirs in tmp: the learner's real progress is never touched."""
    return {"NETLAB_STATE_DIR": str(tmp_path / "state"), "NETLAB_DATA_DIR": str(tmp_path / "data"),
            "NETLAB_LANG": "en"}


@pytest.mark.parametrize("lab_id", LAB_IDS)
def test_every_lab_is_proven(lab_id, lab_env):
    """Its starter fails every scripted step, its solution passes every step, each wrong/ file fails its step
    with the diagnosis the lab declares — one run of the lab's servers for the three."""
    missing = missing_requirements(find_lab(lab_id))
    if missing:
        pytest.skip(f"{lab_id} needs {', '.join(missing)} (CI installs it)")
    result = run_netlab("lab", "validate", "--prove", lab_id, timeout=300, env=lab_env)
    assert result.returncode == 0, f"{lab_id}: {result.stdout.decode()}{result.stderr.decode()}"
    err = result.stderr.decode()
    assert f"the solution passes all {len(find_lab(lab_id).steps)} steps" in err and "1 lab OK proven" in err
    assert not (Path(lab_env["NETLAB_STATE_DIR"]) / "progress.json").exists()  # proving is not learning


def test_solve_prints_the_lab_events_as_json(lab_env):
    lab_id = "tcp-first-exchange"
    result = run_netlab("lab", "solve", lab_id, "--json", timeout=240, env=lab_env)
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    failed = [e["meta"] for e in events if e["kind"] == "step" and e["meta"].get("status") == "failed"]
    assert result.returncode == 0, f"{lab_id}: {failed or result.stderr.decode()}"
    assert all(e["proto"] == "lab" for e in events)
    summary = events[-2]  # then "lab … stopped"
    assert summary["meta"]["result"] == "passed" and summary["meta"]["passed"] == len(find_lab(lab_id).steps)
    assert not (Path(lab_env["NETLAB_STATE_DIR"]) / "progress.json").exists()  # solving is not learning


def test_solve_fails_with_details_when_the_solution_is_wrong(tmp_path, lab_env):
    broken = tmp_path / "tcp-first-exchange"
    shutil.copytree(find_lab("tcp-first-exchange").directory, broken)
    shutil.copy(broken / "starter" / "receive_all.py", broken / "solution" / "receive_all.py")
    result = run_netlab("lab", "solve", str(broken), "--step", "recv-loop", timeout=120, env=lab_env)
    out = result.stdout.decode()
    assert result.returncode == 1
    assert "✗ 3/3 Read until the end: the recv loop" in out
    assert "receive_all.py printed 'received " in out and "'received 50000 bytes' expected" in out
    assert "NOT solved: 0/1 steps passed" in out


def test_prove_refuses_a_lab_whose_starter_passes_and_a_mistake_diagnosed_otherwise(tmp_path, lab_env):
    lab = tmp_path / "tcp-first-exchange"
    shutil.copytree(find_lab("tcp-first-exchange").directory, lab)
    shutil.copy(lab / "solution" / "client.py", lab / "starter" / "client.py")  # the starter already passes
    text = (lab / "lab.md").read_text()
    text = text.replace('file = "receive_once.py"\nreplaces = "receive_all.py"\ndiagnosis = "wrong-output"',
                        'file = "receive_once.py"\nreplaces = "receive_all.py"\ndiagnosis = "no-traffic"')
    (lab / "lab.md").write_text(text)
    (lab / "wrong" / "stray.py").write_text("print('never declared')\n")
    static = run_netlab("lab", "validate", str(lab), env=lab_env)
    assert static.returncode == 1 and "wrong/stray.py is not named by any lab:wrong block" in static.stdout.decode()
    (lab / "wrong" / "stray.py").unlink()
    result = run_netlab("lab", "validate", "--prove", str(lab), timeout=240, env=lab_env)
    out = result.stdout.decode()
    assert result.returncode == 1
    assert f"{lab}/starter/client.py:" in out and "step 2 (bytes): the starter already passes it" in out
    assert f"{lab}/wrong/receive_once.py:" in out
    # (Closing with 46 KB unread may also reset the connection: then the close check fails too, wrong-bytes.)
    line = next(row for row in out.splitlines() if "step 3 (recv-loop): fails, but is diagnosed" in row)
    assert "wrong-output" in line.split("not no-traffic")[0] and "not no-traffic" in line
    assert "reference solution fails" not in out


def test_list_show_and_validate(lab_env):
    listed = run_netlab("lab", "list", "--json", env=lab_env)
    assert listed.returncode == 0, listed.stderr
    labs = json.loads(listed.stdout)
    assert [lab["id"] for lab in labs][:2] == ["tcp-first-exchange", "udp-datagrams"]
    assert {lab["id"] for lab in labs} == set(LAB_IDS)
    first = labs[0]
    assert first["steps"] == 3 and first["passed"] == 0 and "fr" in first["languages"]

    shown = run_netlab("lab", "show", "tcp-first-exchange", env=lab_env)
    text = shown.stdout.decode()
    assert shown.returncode == 0
    assert "netlab send tcp <echo.host> <echo.port> Hello" in text  # run-time values as placeholders
    assert "check: the echo server received Hello" in text and "hints: 2" in text

    french = run_netlab("lab", "show", "tcp-first-exchange", "--lang", "fr", env=lab_env)
    assert "Premier échange TCP" in french.stdout.decode()

    valid = run_netlab("lab", "validate", env=lab_env)
    assert valid.returncode == 0 and f"{len(LAB_IDS)} labs OK" in valid.stderr.decode()


def test_validate_reports_every_problem_with_file_and_line(tmp_path, lab_env):
    lab = tmp_path / "bad"
    lab.mkdir()
    (lab / "lab.md").write_text('+++\nid = "bad"\ntitle = "Bad"\nsummary = "x"\n+++\n\n## Step\n\n'
                                '```lab:chek\n```\n\nPort {{ nowhere.port }}\n')
    result = run_netlab("lab", "validate", str(lab), env=lab_env)
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 1
    assert f"{lab / 'lab.md'}:9: unknown block 'lab:chek'" in lines[0]
    assert lines[1].startswith(f"{lab / 'lab.md'}:12: undefined variable {{{{ nowhere.port }}}}")
    assert "2 problems in 1 lab" in result.stderr.decode()


def test_unknown_lab_and_missing_path_are_one_line_errors(lab_env):
    result = run_netlab("lab", "show", "no-such-lab", env=lab_env)
    assert result.returncode == 1
    assert result.stderr.decode().startswith("netlab: no lab 'no-such-lab' (labs: ")
    assert b"Traceback" not in result.stderr
    missing = run_netlab("lab", "validate", "/no/such/folder", env=lab_env)
    assert missing.returncode == 1 and missing.stderr.decode() == "netlab: no such file or folder: /no/such/folder\n"


def test_reset_forgets_progress_and_keeps_old_files(tmp_path, lab_env):
    store = ProgressStore(Path(lab_env["NETLAB_STATE_DIR"]) / "progress.json")
    store.mark_passed("tcp-first-exchange", "hello")
    workspace = Path(lab_env["NETLAB_DATA_DIR"]) / "labs" / "tcp-first-exchange"
    workspace.mkdir(parents=True)
    (workspace / "client.py").write_text("# my work\n")
    result = run_netlab("lab", "reset", "tcp-first-exchange", env=lab_env)
    out = result.stdout.decode()
    assert result.returncode == 0 and "progress forgotten" in out
    assert ProgressStore(store.path).passed_steps("tcp-first-exchange") == set()
    backups = list(workspace.parent.glob("tcp-first-exchange.old-*"))
    assert len(backups) == 1 and (backups[0] / "client.py").read_text() == "# my work\n"
    assert "sendall(message)" in (workspace / "client.py").read_text()


def test_run_in_the_terminal_while_the_learner_edits_in_their_editor(tmp_path, lab_env):
    """`netlab lab run`: a save in the workspace re-runs the script and passes the step; answers typed."""
    workspace = tmp_path / "ws"
    lab = find_lab("tcp-first-exchange")
    process = subprocess.Popen(
        netlab_cmd("lab", "run", "tcp-first-exchange", "--step", "hello", "--workspace", str(workspace)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **lab_env}, text=True, bufsize=1)
    seen: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, process.stdout), lines.put(None)], daemon=True).start()

    def read_until(needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if needle in line:
                return
        raise AssertionError(f"never saw {needle!r} in:\n{''.join(seen)}")

    try:
        read_until("The echo server listens on")
        port = re.search(r"127\.0\.0\.1:(\d+)", seen[-1]).group(1)
        read_until("Step 1/3")
        # From another terminal, the wrong case first: the check names what it saw.
        sent = run_netlab("send", "tcp", "127.0.0.1", port, "hello", env=lab_env)
        assert sent.returncode == 0, sent.stderr
        read_until("saw 'hello' at echo — 'Hello' expected; the case differs")
        process.stdin.write("hint\n")
        read_until("Hint 1/3 (for what went wrong just now)")
        assert "compares bytes exactly" in seen[-1] or "compares bytes exactly" in lines.get(timeout=5)
        assert run_netlab("send", "tcp", "127.0.0.1", port, "Hello", env=lab_env).returncode == 0
        read_until("step 1 passed!")
        process.stdin.write("next\n")
        read_until("Step 2/3")
        read_until("TypeError: a bytes-like object is required")  # the starter, run once on entry
        process.stdin.write("hint\n")
        read_until("Hint 1/2")
        shutil.copy(lab.solution_dir / "client.py", workspace / "client.py")  # "saved in the editor"
        read_until("✓ client.py prints the reply as text")
        process.stdin.write("3\n")
        read_until("not quite")
        process.stdin.write("2\n")
        read_until("step 2 passed!")
        process.stdin.write("quit\n")
        read_until("progress saved")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
        process.stdin.close()
    store = ProgressStore(Path(lab_env["NETLAB_STATE_DIR"]) / "progress.json")
    assert store.passed_steps("tcp-first-exchange") == {"hello", "bytes"}
    assert store.hints_shown("tcp-first-exchange", "bytes") == 1
    # What a teacher's dashboard reads: per step, passed, hints, tries, time spent.
    report = run_netlab("lab", "progress", "--json", env=lab_env)
    assert report.returncode == 0, report.stderr
    (row,) = json.loads(report.stdout)
    assert row["id"] == "tcp-first-exchange" and row["passed"] == 2 and row["current"] == "bytes"
    hello, bytes_step, recv = row["steps"]
    assert hello["step"] == "hello" and hello["passed"] and hello["hints"] == 1 and hello["seconds"] > 0
    assert bytes_step["passed"] and bytes_step["hints"] == 1 and bytes_step["tries"] >= 2  # starter, then fixed
    assert bytes_step["seconds"] >= 0 and recv["passed"] is None and recv["tries"] == 0
    text = run_netlab("lab", "progress", env=lab_env).stdout.decode()
    assert "tcp-first-exchange — First TCP exchange" in text and "hints  1" in text and "tries" in text


def test_a_non_editable_install_ships_and_lists_every_lab(tmp_path):
    """The wheel carries the top-level labs/ folder (lab.md, translations, starter/, solution/, wrong/);
    installed from it, not from the checkout, ``netlab lab list`` lists every lab."""
    root = Path(__file__).resolve().parents[2]
    # With build isolation: pyproject asks for setuptools>=77, newer than a venv's own may be.
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                             str(root)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and any(s in result.stderr for s in (
            "No matching distribution", "Could not find a version", "Failed to establish a new connection")):
        pytest.skip("no package index reachable to build a wheel with")
    assert result.returncode == 0, result.stderr
    import zipfile

    wheel = next(tmp_path.glob("netlab_tui-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    content = root / "labs"
    shipped = {f"netlab_tui/labs_content/{p.relative_to(content)}" for p in content.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert shipped and shipped <= names, sorted(shipped - names)[:5]
    assert not any(n.startswith("netlab_tui/labs/content/") for n in names)

    # Install the wheel alone (its dependencies come from this venv) and run it from elsewhere: the
    # checkout's labs/ must not be what it reads.
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "NETLAB_LANG": "en"}
    env.pop("NETLAB_LABS_DIR", None)
    listed = subprocess.run([sys.executable, "-c",
                             "import netlab_tui, sys; from netlab_tui.labs.catalog import content_dir;"
                             "print(netlab_tui.__file__); print(content_dir());"
                             "from netlab_tui.cli import entry; sys.argv = ['netlab', 'lab', 'list']; entry()"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    module_file, where, *rows = listed.stdout.splitlines()
    assert module_file.startswith(str(target)) and where.startswith(str(target)), listed.stdout[:300]
    lab_ids = sorted(p.parent.name for p in content.glob("*/lab.md"))
    assert len(lab_ids) >= 18
    for lab_id in lab_ids:
        assert any(lab_id in row for row in rows), (lab_id, listed.stdout)
