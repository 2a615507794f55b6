"""``netlab web`` serves the TUI's page over HTTP on loopback."""

import signal
import socket
import subprocess
import time

import httpx

from tests.conftest import netlab_cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_web_serves_the_app_page_and_stops_on_sigint():
    port = free_port()
    proc = subprocess.Popen(netlab_cmd("web", "--port", str(port)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        page = None
        while time.monotonic() < deadline:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200
        assert "netlab" in page.text and f"ws://127.0.0.1:{port}/ws" in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        out = proc.stdout.read().decode()
        proc.stdout.close()
        proc.stderr.close()
    assert f"http://127.0.0.1:{port}/" in out


def test_web_port_zero_is_refused():
    result = subprocess.run(netlab_cmd("web", "--port", "0"), capture_output=True, timeout=30)
    assert result.returncode == 2 and b"--port 0" in result.stderr
