"""Local processes and pipelines, with real programs: sh, bc, ls, sort, sleep, yes, head."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import psutil
import pytest

from netlab_tui.engine.core.journal import by_kind
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.shell.process import (
    CommandNotExecutable,
    CommandNotFound,
    Pipeline,
    ProcessSession,
    split_command,
    split_pipeline,
)


def output(journal, session, kind="stdout") -> bytes:
    return b"".join(e.payload for e in journal.events(lambda e: e.conn == session.conn and e.kind == kind))


def exit_event(journal, conn):
    events = journal.events(lambda e: e.conn == conn and e.kind == "exit")
    assert len(events) == 1
    return events[0]


def gone(pid: int) -> bool:
    """True when the process no longer runs (a zombie waiting for an uninterested init counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# -- command lines ---------------------------------------------------------------------------------------
def test_split_pipeline_understands_quotes_and_bars():
    assert split_pipeline("ls -l / | sort -k 2 -n") == [["ls", "-l", "/"], ["sort", "-k", "2", "-n"]]
    assert split_pipeline("echo 'a|b' \"c d\" e\\|f") == [["echo", "a|b", "c d", "e|f"]]
    assert split_pipeline("a|b|c") == [["a"], ["b"], ["c"]]
    assert split_pipeline("echo '' \"x\\\"y\"") == [["echo", "", 'x"y']]
    assert split_command("echo '$(id)'") == ["echo", "$(id)"]


@pytest.mark.parametrize("text, message", [
    ("", "empty command"),
    ("ls |", "empty command in pipeline"),
    ("| sort", "empty command in pipeline"),
    ("echo 'open", "unterminated ' quote"),
    ('echo "open', 'unterminated " quote'),
])
def test_split_pipeline_errors_are_one_line(text, message):
    with pytest.raises(NetlabError, match=message):
        split_pipeline(text)


def test_split_command_refuses_a_pipe():
    with pytest.raises(NetlabError, match="needs a pipeline"):
        split_command("ls | sort")


# -- one process -------------------------------------------------------------------------------------------
async def test_argv_mode_keeps_command_substitution_as_text(journal, registry):
    session = await registry.start(ProcessSession(journal, ["echo", "$(id)", "; id"]))
    assert await session.wait() == 0
    assert output(journal, session) == b"$(id) ; id\n"


async def test_shell_mode_expands(journal, registry):
    session = await registry.start(ProcessSession(journal, "echo $(id -u) | tr 0-9 a-j", shell=True))
    assert await session.wait() == 0
    expected = str(os.getuid()).translate(str.maketrans("0123456789", "abcdefghij"))
    assert output(journal, session) == f"{expected}\n".encode()
    start = journal.events(by_kind("start"))[0]
    assert start.meta["shell"] is True and start.meta["argv"][:2] == ["/bin/sh", "-c"]


async def test_stdout_and_stderr_are_separate_events_and_exit_carries_the_code(journal, registry):
    session = await registry.start(ProcessSession(journal, ["sh", "-c", "echo out; echo err >&2; exit 3"]))
    assert await session.wait() == 3
    assert output(journal, session, "stdout") == b"out\n"
    assert output(journal, session, "stderr") == b"err\n"
    event = exit_event(journal, session.conn)
    assert event.meta["code"] == 3 and event.meta["signal"] is None and event.meta["timed_out"] is False
    assert event.to_dict()["proto"] == "shell"
    assert all(e.direction == "in" for e in journal.events(by_kind("stdout", "stderr")))


async def test_output_is_streamed_while_the_process_runs(journal, registry):
    seen_while_running = []
    session = ProcessSession(journal, ["sh", "-c", "echo one; sleep 1; echo two"])
    journal.subscribe(lambda e: seen_while_running.append((e.payload, session.exit_code is None)),
                      by_kind("stdout"))
    await registry.start(session)
    await session.wait()
    assert seen_while_running[0] == (b"one\n", True)
    stamps = [e.ts for e in journal.events(by_kind("stdout"))]
    assert stamps[-1] - stamps[0] >= 0.8  # "two" came a second later, not all at the end


async def test_bc_is_fed_line_by_line(journal, registry):
    session = await registry.start(ProcessSession(journal, ["bc", "-q"]))
    assert await session.write_stdin(b"2+3\n")
    await wait_until(lambda: output(journal, session) == b"5\n")
    assert await session.write_stdin(b"6*7\n")
    await wait_until(lambda: output(journal, session) == b"5\n42\n")
    await session.write_stdin(b"quit\n")
    assert await session.wait() == 0
    assert [e.payload for e in journal.events(by_kind("stdin"))] == [b"2+3\n", b"6*7\n", b"quit\n"]
    assert all(e.direction == "out" for e in journal.events(by_kind("stdin")))


async def test_closing_stdin_ends_a_reader(journal, registry):
    session = await registry.start(ProcessSession(journal, ["sort"]))
    await session.write_stdin(b"b\na\n")
    await session.close_stdin()
    assert await session.wait() == 0
    assert output(journal, session) == b"a\nb\n"


async def test_missing_command_is_127_with_one_line(journal, registry):
    with pytest.raises(CommandNotFound, match="^command not found: netlab-no-such-program$") as info:
        await registry.start(ProcessSession(journal, ["netlab-no-such-program", "x"]))
    assert info.value.status == 127
    error = journal.events(by_kind("error"))[0]
    assert error.meta["code"] == 127
    assert len(registry) == 0


async def test_not_executable_is_126(journal, registry, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("echo hi\n")
    script.chmod(0o644)
    if os.geteuid() == 0:
        # root may execute anything with an x bit, but a file with none is still refused
        assert not os.access(script, os.X_OK)
    with pytest.raises(CommandNotExecutable) as info:
        await registry.start(ProcessSession(journal, [str(script)]))
    assert info.value.status == 126


async def test_missing_working_directory(journal, registry, tmp_path):
    with pytest.raises(NetlabError, match="working directory does not exist"):
        await registry.start(ProcessSession(journal, ["ls"], cwd=tmp_path / "nope"))


async def test_cwd_and_extra_environment(journal, registry, tmp_path):
    session = await registry.start(ProcessSession(
        journal, ["sh", "-c", 'pwd; echo "$NETLAB_X"'], cwd=tmp_path, env={"NETLAB_X": "forty two"}))
    assert await session.wait() == 0
    assert output(journal, session) == f"{tmp_path}\nforty two\n".encode()
    assert journal.events(by_kind("start"))[0].meta["env"] == ["NETLAB_X"]  # names only, never values


async def test_timeout_kills_the_process(journal, registry):
    started = time.monotonic()
    session = await registry.start(ProcessSession(journal, ["sleep", "30"], timeout=0.5, kill_grace=1.0))
    code = await session.wait()
    assert time.monotonic() - started < 5
    assert code == 128 + signal.SIGTERM
    event = exit_event(journal, session.conn)
    assert event.meta["timed_out"] is True and event.meta["signal"] == "SIGTERM"
    assert "timed out after 0.5s" in event.message


async def test_timeout_also_kills_a_grandchild_holding_the_output(journal, registry):
    # The shell exits at once, but its background sleep keeps stdout open: only the timeout ends it.
    session = await registry.start(ProcessSession(
        journal, ["sh", "-c", "sleep 60 & echo $!"], timeout=1.0, kill_grace=1.0))
    await session.wait()
    grandchild = int(output(journal, session).split()[0])
    await wait_until(lambda: gone(grandchild))
    assert exit_event(journal, session.conn).meta["timed_out"] is True


async def test_cancel_kills_the_whole_process_group(journal, registry):
    session = await registry.start(ProcessSession(journal, ["sh", "-c", "sleep 60 & echo $!; wait"]))
    await wait_until(lambda: output(journal, session).strip().isdigit())
    grandchild = int(output(journal, session))
    assert os.getpgid(grandchild) == session.pid  # same group as the shell, which leads it
    started = time.monotonic()
    await session.cancel()
    assert time.monotonic() - started < 3
    await wait_until(lambda: gone(grandchild))
    event = exit_event(journal, session.conn)
    assert event.meta["cancelled"] is True
    assert event.meta["code"] == 128 + signal.SIGTERM


async def test_sigkill_follows_when_sigterm_is_ignored(journal, registry):
    session = await registry.start(ProcessSession(
        journal, ["sh", "-c", "trap '' TERM; echo ready; sleep 60 & wait"], kill_grace=0.5))
    await wait_until(lambda: output(journal, session) == b"ready\n")
    await session.cancel()
    assert exit_event(journal, session.conn).meta["signal"] == "SIGKILL"


async def test_writing_after_exit_reports_false(journal, registry):
    session = await registry.start(ProcessSession(journal, ["true"]))
    await session.wait()
    assert await session.write_stdin(b"late\n") is False


# -- pipelines ---------------------------------------------------------------------------------------------
async def test_pipeline_ls_sort_records_each_stage(journal, registry):
    pipeline = await registry.start(Pipeline(journal, "ls -l / | sort -k 2 -n"))
    assert await pipeline.wait() == 0
    ls_stage, sort_stage = pipeline.stages
    listed = output(journal, ls_stage)
    # / changes under our feet (link counts, /tmp), so check each stage against its own input.
    names = sorted(line.split()[8] for line in listed.decode().splitlines()[1:])
    assert names == sorted(n for n in os.listdir("/") if not n.startswith("."))
    expected_sorted = subprocess.run(["sort", "-k", "2", "-n"], input=listed, capture_output=True, check=True).stdout
    assert output(journal, sort_stage) == expected_sorted
    links = [int(line.split()[1]) for line in expected_sorted.decode().splitlines() if len(line.split()) > 2]
    assert links == sorted(links)
    stage_events = journal.events(lambda e: e.kind == "stdout")
    assert {e.meta["stage"] for e in stage_events} == {0, 1}
    assert all(e.meta["pipeline"] == pipeline.conn for e in stage_events)
    final = exit_event(journal, pipeline.conn)
    assert final.meta["codes"] == [0, 0] and final.meta["code"] == 0


async def test_pipeline_stage_that_stops_reading_ends_the_producer(journal, registry):
    pipeline = await registry.start(Pipeline(journal, [["yes"], ["head", "-n", "3"]], timeout=10))
    assert await pipeline.wait() == 0
    assert output(journal, pipeline.stages[1]) == b"y\ny\ny\n"
    assert pipeline.codes == [128 + signal.SIGPIPE, 0]  # yes got SIGPIPE, as in a shell
    assert not pipeline.timed_out


async def test_pipeline_input_goes_to_the_first_stage(journal, registry):
    pipeline = await registry.start(Pipeline(journal, "tr a-z A-Z | rev"))
    await pipeline.write_stdin(b"hello\n")
    await pipeline.close_stdin()
    assert await pipeline.wait() == 0
    assert output(journal, pipeline.stages[0]) == b"HELLO\n"
    assert output(journal, pipeline.stages[1]) == b"OLLEH\n"


async def test_pipeline_with_a_missing_program_fails_and_stops_the_others(journal, registry):
    with pytest.raises(CommandNotFound):
        await registry.start(Pipeline(journal, "netlab-no-such-program | sort"))
    sort_exit = journal.events(lambda e: e.kind == "exit" and (e.meta or {}).get("stage") == 1)
    assert sort_exit and sort_exit[0].meta["cancelled"] is True


async def test_pipeline_timeout_and_cancel(journal, registry):
    pipeline = await registry.start(Pipeline(journal, "sleep 30 | cat", timeout=0.5, kill_grace=1.0))
    await pipeline.wait()
    assert pipeline.timed_out
    pids = [stage.pid for stage in pipeline.stages]
    await wait_until(lambda: all(gone(pid) for pid in pids))

    second = await registry.start(Pipeline(journal, "sleep 30 | cat", kill_grace=1.0))
    await second.cancel()
    assert second.cancelled and exit_event(journal, second.conn).meta["cancelled"] is True
