"""``netlab run``: the real command, real children."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import psutil

from tests.conftest import netlab_cmd, reap, run_netlab

CONTRACT_KEYS = {"ts", "source", "proto", "kind", "direction", "local", "peer", "conn", "size", "text", "hex", "meta", "host"}


def test_argv_mode_prints_command_substitution_literally():
    result = run_netlab("run", "--", "echo", "$(id)")
    assert result.returncode == 0
    assert result.stdout == b"$(id)\n"


def test_shell_mode_expands():
    result = run_netlab("run", "--shell", "--", "echo $(id -u)")
    assert result.stdout == f"{os.getuid()}\n".encode()


def test_exit_status_is_the_commands_and_streams_stay_apart():
    result = run_netlab("run", "--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert result.returncode == 7
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"


def test_missing_command_is_127_and_one_line():
    result = run_netlab("run", "--", "netlab-no-such-program", "--flag")
    assert result.returncode == 127
    assert result.stderr == b"netlab: command not found: netlab-no-such-program\n"
    assert result.stdout == b""


def test_timeout_returns_124_quickly():
    started = time.monotonic()
    result = run_netlab("run", "--timeout", "0.5", "--", "sleep", "30")
    assert time.monotonic() - started < 10
    assert result.returncode == 124
    assert result.stderr == b"netlab: timed out after 0.5s; killed the process group\n"


def test_stdin_is_forwarded_to_bc():
    result = run_netlab("run", "--", "bc", "-q", input=b"2+3\n6*7\nquit\n")
    assert result.returncode == 0
    assert result.stdout == b"5\n42\n"


def test_no_stdin_gives_eof():
    result = run_netlab("run", "--no-stdin", "--", "wc", "-c", input=b"ignored")
    assert result.stdout.split() == [b"0"]


def test_pipe_mode_runs_a_pipeline_without_a_shell():
    result = run_netlab("run", "--pipe", "--", "printf", "b 2\\na 10\\nc 1\\n", "|", "sort", "-k", "2", "-n")
    assert result.returncode == 0
    assert result.stdout == b"c 1\nb 2\na 10\n"


def test_pipe_mode_json_records_every_stage():
    result = run_netlab("run", "--json", "--pipe", "--", "ls", "-l", "/", "|", "sort", "-k", "2", "-n")
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    stages = {e["meta"]["stage"] for e in events if e["kind"] == "stdout"}
    assert stages == {0, 1}
    assert events[-1]["kind"] == "exit" and events[-1]["meta"]["codes"] == [0, 0]


def test_cwd_and_env(tmp_path):
    result = run_netlab("run", "--cwd", str(tmp_path), "--env", "NETLAB_A=x=y", "--",
                        "sh", "-c", 'pwd; echo "$NETLAB_A"')
    assert result.stdout == f"{tmp_path}\nx=y\n".encode()


def test_bad_arguments_are_one_clear_line(tmp_path):
    result = run_netlab("run", "--cwd", str(tmp_path / "nope"), "--", "ls")
    assert result.returncode == 1
    assert result.stderr == f"netlab: working directory does not exist: {tmp_path / 'nope'}\n".encode()
    result = run_netlab("run")
    assert result.returncode == 2 and b"no command given" in result.stderr
    result = run_netlab("run", "--env", "NOEQUALS", "--", "true")
    assert result.returncode == 2 and b"expected NAME=VALUE" in result.stderr
    assert b"Traceback" not in result.stderr


def test_json_events_follow_the_contract():
    result = run_netlab("run", "--json", "--", "sh", "-c", "echo hi; exit 3")
    assert result.returncode == 3
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert all(set(e) == CONTRACT_KEYS for e in events)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "exit"
    stdout = [e for e in events if e["kind"] == "stdout"]
    assert stdout[0]["text"] == "hi\n" and stdout[0]["hex"] == "68690a" and stdout[0]["proto"] == "shell"
    assert events[-1]["meta"]["code"] == 3


def test_ctrl_c_kills_the_process_group():
    proc = subprocess.Popen(netlab_cmd("run", "--", "sh", "-c", "sleep 60 & echo $!; wait"),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        grandchild = int(proc.stdout.readline())
        assert psutil.pid_exists(grandchild)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the background sleep survived Ctrl+C")
        assert b"Traceback" not in proc.stderr.read()
    finally:
        reap(proc)
