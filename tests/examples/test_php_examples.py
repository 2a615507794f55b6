"""The shipped PHP examples, run with the real php-cli against netlab: REST, JSON-RPC, a shared SQLite
database, a shared (watched) file, and PHP exec-ing a Python script. Skipped only where php is absent."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netlab_tui.engine.http.lab import EXAMPLES_DIR
from tests.conftest import run_netlab

PHP = shutil.which("php")
pytestmark = pytest.mark.skipif(PHP is None, reason="php-cli is not installed (./dev installs php-cli)")


def php(script: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([PHP, str(EXAMPLES_DIR / "php" / script), *args], capture_output=True, text=True,
                          timeout=timeout)


def has_pdo_sqlite() -> bool:
    if PHP is None:
        return False
    modules = subprocess.run([PHP, "-m"], capture_output=True, text=True, timeout=30).stdout.split()
    return "pdo_sqlite" in modules


@pytest.fixture
def lab(serve, tmp_path):
    server = serve("http", "--port", "0", "--db", str(tmp_path / "lab.db"))
    yield server
    server.stop()


def journal_of(server) -> list[dict]:
    """Stop the server and read every event it printed (it flushes each line as it goes)."""
    assert server.stop() == 0
    return [json.loads(line) for line in server.proc.stdout.read().splitlines()]


def test_rest_client(lab, tmp_path):
    done = php("rest_client.php", f"http://127.0.0.1:{lab.port}")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "GET /api/users -> 200"
    assert "PATCH /api/users/2 -> 200: bob is now online" in lines
    assert "POST /api/messages -> 201: message 1" in lines
    assert "  #1 from 2: Hello from PHP" in lines
    assert lines[-1] == "GET /api/users/999 -> 404: no user with id 999"
    # netlab saw PHP's requests byte for byte
    seen = journal_of(lab)
    requests = [bytes.fromhex(e["hex"]) for e in seen if e["kind"] == "request"]
    assert any(r.startswith(b"PATCH /api/users/2 HTTP/1.") and r.endswith(b'{"status":"online"}') for r in requests)
    # and the state is where a Python program finds it
    with sqlite3.connect(tmp_path / "lab.db") as db:
        assert db.execute("SELECT status FROM users WHERE id = 2").fetchone() == ("online",)


def test_jsonrpc_client(lab):
    done = php("jsonrpc_client.php", f"http://127.0.0.1:{lab.port}/jsonrpc")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "add(2, 3) = 5",
        'add(\'ab\', \'cd\') = "abcd"',
        "double(21) = 42",
        done.stdout.splitlines()[3],
        "add(1, 'x') -> fault -32602: add needs two numbers or two strings, got int and string",
    ]
    assert done.stdout.splitlines()[3].startswith("weather_forecast(2): 2 days, first ")
    seen = journal_of(lab)
    calls = [e["meta"]["method"] for e in seen if e["proto"] == "rpc" and e["kind"] == "request"]
    assert calls == ["add", "add", "double", "weather_forecast", "add"]


@pytest.mark.skipif(not has_pdo_sqlite(), reason="PHP's pdo_sqlite is missing (Debian: php-sqlite3)")
def test_shared_sqlite_database(lab, tmp_path):
    done = php("sqlite_shared.php", str(tmp_path / "lab.db"), "written by PHP")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "inserted message 1"
    assert "user 1 alice online" in done.stdout
    # the server serves what PHP wrote ...
    answer = run_netlab("http", "GET", f"http://127.0.0.1:{lab.port}/api/messages?to=1")
    messages = json.loads(answer.stdout.decode().partition("\n\n")[2])
    assert [(m["from"], m["text"]) for m in messages] == [(3, "written by PHP")]
    # ... and told its journal that another program committed (it checks twice a second)
    time.sleep(1.2)
    changes = [e for e in journal_of(lab) if e["proto"] == "fs" and e["kind"] == "modified"]
    assert changes and changes[0]["meta"]["messages"] == 1
    # the Python side reads the same file
    python = subprocess.run([sys.executable, str(EXAMPLES_DIR / "python" / "sqlite_shared.py"),
                             str(tmp_path / "lab.db")], capture_output=True, text=True, timeout=30)
    assert python.stdout.strip() == "#1 carol -> alice: written by PHP"


def test_sqlite_script_explains_its_usage(tmp_path):
    done = php("sqlite_shared.php")
    assert done.returncode == 2 and "usage:" in done.stderr
    missing = php("sqlite_shared.php", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no database at" in missing.stderr and "netlab serve http" in missing.stderr
    assert not (tmp_path / "none.db").exists()


async def test_shared_file_watched(journal, registry, tmp_path):
    from netlab_tui.engine.watch.watcher import WatchSession

    share = tmp_path / "share"
    share.mkdir()
    watch = WatchSession(journal, str(share))
    await registry.start(watch)
    done = await asyncio.to_thread(php, "shared_file.php", str(share), "ping from PHP")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"wrote {share}/from_php.json", "no message from python yet"]
    python = await asyncio.to_thread(
        subprocess.run, [sys.executable, str(EXAMPLES_DIR / "python" / "shared_file.py"), str(share), "pong"],
        capture_output=True, text=True, timeout=30)
    assert python.stdout.splitlines()[-1] == "php said: ping from PHP"
    again = await asyncio.to_thread(php, "shared_file.php", str(share))
    assert again.stdout.splitlines()[-1] == "python said: pong"

    def names() -> set[str]:
        found = set()
        for event in journal.events():
            if event.proto == "fs" and event.meta:
                for key in ("path", "dest_path"):
                    if event.meta.get(key):
                        found.add(Path(event.meta[key]).name)
        return found

    for _ in range(100):
        if {"from_php.json", "from_python.json"} <= names():
            break
        await asyncio.sleep(0.05)
    assert {"from_php.json", "from_python.json"} <= names()


def test_exec_python_from_php():
    done = php("exec_python.php", sys.executable, "1", "2", "3.5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"python {sys.version.split()[0]} computed sum=6.5 mean=2.1666666666667"
    failing = php("exec_python.php", sys.executable, "not-a-number")
    assert failing.returncode == 1 and "python exited with 2" in failing.stderr


def test_python_rest_client_counterpart(lab):
    done = subprocess.run([sys.executable, str(EXAMPLES_DIR / "python" / "rest_client.py"), f"127.0.0.1:{lab.port}"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "PATCH /api/users/1 -> 200: alice is now busy" in done.stdout
    assert "GET /api/messages?to=2 -> 200: 1 message(s)" in done.stdout


def test_exec_observed_through_netlab_run():
    script = str(EXAMPLES_DIR / "php" / "exec_python.php")
    done = run_netlab("run", "--json", "--", PHP, script, sys.executable, "2", "4")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    stdout = "".join(e["text"] for e in events if e["kind"] == "stdout")
    assert "computed sum=6 mean=3" in stdout
    [exit_event] = [e for e in events if e["kind"] == "exit"]
    assert exit_event["meta"]["code"] == 0
