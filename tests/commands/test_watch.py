"""``netlab watch DIR`` as a child process, with real files and a real collector."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from tests._pipes import PipeLines
from tests.conftest import netlab_cmd, run_netlab


class WatchProcess:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(netlab_cmd("watch", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = PipeLines(self.proc.stdout)
        self.first = self.readline(10)
        assert self.first, self.proc.stderr.read().decode()

    def readline(self, timeout: float) -> bytes:
        return self.lines.readline(timeout)

    def lines_until(self, predicate, timeout: float = 10.0) -> list[bytes]:
        found = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.readline(max(0.0, deadline - time.monotonic()))
            if not line:
                break
            found.append(line)
            if predicate(line):
                break
        return found

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=10)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()


def test_json_changes(tmp_path):
    watch = WatchProcess(str(tmp_path), "--json", "--exclude", "*.swp")
    try:
        first = json.loads(watch.first)
        assert first["kind"] == "info" and first["proto"] == "fs" and first["meta"]["path"] == str(tmp_path.resolve())
        time.sleep(0.3)
        (tmp_path / ".a.txt.swp").write_text("ignored")
        (tmp_path / "a.txt").write_text("hi")
        (tmp_path / "a.txt").rename(tmp_path / "b.txt")
        lines = watch.lines_until(lambda line: json.loads(line)["kind"] == "moved")
        events = [json.loads(line) for line in lines]
        moved = events[-1]
        assert moved["kind"] == "moved", events
        assert (moved["meta"]["rel"], moved["meta"]["dest_rel"]) == ("a.txt", "b.txt"), events
        assert moved["meta"]["dest_path"] == str(tmp_path.resolve() / "b.txt") and moved["meta"]["is_dir"] is False
        assert not any("swp" in e["meta"]["rel"] for e in events if e["kind"] != "info")
    finally:
        assert watch.stop() == 0


def test_human_lines(tmp_path):
    watch = WatchProcess(str(tmp_path))
    try:
        assert b"watching" in watch.first
        time.sleep(0.3)
        (tmp_path / "notes.md").write_text("x")
        lines = watch.lines_until(lambda line: b"notes.md" in line)
        assert lines and lines[-1].split()[1:] == [b"created", b"notes.md"]
    finally:
        assert watch.stop() == 0


def test_forward_to_a_collector_with_restart(tmp_path, serve):
    collector = serve("watch-collector", "--port", "0")
    watch = WatchProcess(str(tmp_path), "--forward", f"127.0.0.1:{collector.port}")
    try:
        assert watch.lines_until(lambda line: b"connect" in line)
        (tmp_path / "one").write_text("1")
        got = PipeLines(collector.proc.stdout).events_until(lambda e: e["kind"] == "created")
        created = [e for e in got if e["kind"] == "created"]
        assert created and created[0]["meta"]["rel"] == "one" and created[0]["text"].endswith("created one")
        assert collector.stop() == 0
        time.sleep(0.3)
        (tmp_path / "two").write_text("2")  # while nobody listens
        again = serve("watch-collector", "--port", str(collector.port))
        got = PipeLines(again.proc.stdout).events_until(lambda e: e["kind"] == "created", timeout=15)
        assert [e["meta"]["rel"] for e in got if e["kind"] == "created"] == ["two"]
    finally:
        assert watch.stop() == 0


def test_errors_are_one_line(tmp_path):
    for args, message in [
        ((str(tmp_path / "missing"),), "no such directory"),
        ((str(tmp_path), "--forward", "localhost"), "invalid forward target"),
        ((str(tmp_path), "--forward", "127.0.0.1:99999"), "invalid port"),
    ]:
        result = run_netlab("watch", *args)
        err = result.stderr.decode()
        assert result.returncode == 1 and err.startswith("netlab: ") and message in err and err.count("\n") == 1
