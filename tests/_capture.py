"""What the capture tests share: can this process capture on lo, and tshark run as a checked command."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest


def can_capture() -> bool:
    """Root or CAP_NET_RAW: packet sockets open."""
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
        return True
    except (PermissionError, OSError, AttributeError):
        return False


needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
needs_capture = pytest.mark.skipif(not can_capture(), reason="capturing on lo needs root or CAP_NET_RAW")
needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="dropping CAP_NET_RAW with setpriv needs root")


def tshark(*args: str) -> str:
    result = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout
