"""Shared fixtures: a journal and registry per test, and running the real ``netlab`` command."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import SessionRegistry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
async def registry(journal: Journal):
    reg = SessionRegistry(journal)
    yield reg
    await reg.stop_all()


def netlab_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "netlab_tui", *args]


def reap(proc: subprocess.Popen) -> None:
    """A test's child, whatever happened: killed if it still runs, waited for, its pipes closed."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def run_netlab(*args: str, input: bytes | None = None, timeout: float = 30, env: dict | None = None):
    """Run ``netlab ARGS`` to completion; returns the CompletedProcess (bytes)."""
    return subprocess.run(netlab_cmd(*args), input=input, capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


class ServeProcess:
    """A ``netlab serve ... --json`` child; ``.port`` and ``.host`` come from its first (listen) event."""

    START_TIMEOUT = 30.0  # a loaded CI machine: importing and binding can take seconds

    def __init__(self, *args: str) -> None:
        # Unbuffered (bufsize=0): stdout is a raw FileIO, whose readline() reads one byte at a time and
        # so never takes more than the line it returns. Nothing waits unseen in a Python buffer, which
        # is what lets events() trust select() on the pipe, and tests mix events() with
        # ``proc.stdout.read()`` afterwards without losing a line. (A reader thread, as in
        # tests/_pipes.PipeLines, would take the lines those tests read themselves.)
        self.proc = subprocess.Popen(netlab_cmd("serve", *args, "--json"), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        line = self._readline(self.START_TIMEOUT)
        if not line:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"serve did not start within {self.START_TIMEOUT:g}s: "
                               f"{self.proc.stderr.read().decode()}")
        self.listen = json.loads(line)
        host, _, port = self.listen["local"].rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)

    def _readline(self, timeout: float) -> bytes:
        """The next line, or b"" at EOF or when none starts within ``timeout`` seconds. The child writes
        and flushes a whole line at a time, so a line that has started is finished at once."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=max(0.0, timeout)):
                return b""
        return self.proc.stdout.readline()

    def events(self, timeout: float = 5.0, until=None) -> list[dict]:
        """Read event lines until ``until(event)`` is true, EOF, or the timeout."""
        found = []
        deadline = time.monotonic() + timeout
        while line := self._readline(deadline - time.monotonic()):
            event = json.loads(line)
            found.append(event)
            if until is not None and until(event):
                break
        return found

    def stop(self, sig: int | None = None) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGINT)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture
def serve():
    """``serve("tcp-echo", "--port", "0")`` starts a real ``netlab serve``; stopped after the test."""
    started: list[ServeProcess] = []

    def start(*args: str) -> ServeProcess:
        process = ServeProcess(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()
        for stream in (process.proc.stdout, process.proc.stderr):
            stream.close()
