"""Shared fixtures: a journal and registry per test, and running the real ``netlab`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netlab_tui.engine.journal import Journal
from netlab_tui.engine.sessions import SessionRegistry

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


def run_netlab(*args: str, input: bytes | None = None, timeout: float = 30, env: dict | None = None):
    """Run ``netlab ARGS`` to completion; returns the CompletedProcess (bytes)."""
    return subprocess.run(netlab_cmd(*args), input=input, capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


class ServeProcess:
    """A ``netlab serve ... --json`` child; ``.port`` and ``.host`` come from its first (listen) event."""

    def __init__(self, *args: str) -> None:
        # Unbuffered: events() selects on the pipe, so no line may wait unseen in a Python buffer.
        self.proc = subprocess.Popen(netlab_cmd("serve", *args, "--json"), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"serve did not start: {self.proc.stderr.read().decode()}")
        self.listen = json.loads(line)
        host, _, port = self.listen["local"].rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)

    def events(self, timeout: float = 5.0, until=None) -> list[dict]:
        """Read event lines until ``until(event)`` is true (or the timeout)."""
        import selectors

        found = []
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            event = json.loads(line)
            found.append(event)
            if until is not None and until(event):
                break
        sel.close()
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
