"""A real OpenSSH server for the SSH tests: ``/usr/sbin/sshd`` on 127.0.0.1 at a free port.

It has its own host key, its own authorized key (and a second key that is *not* authorized) and its own
config, and runs as whoever runs the tests: as root (CI) it needs ``/run/sshd`` (created if missing);
as another user it simply serves that user. Use the ``sshd`` fixture (one server per test module):

    from tests.sshd import sshd  # noqa: F401  (the fixture)

    def test_x(sshd):
        sshd.port, sshd.client_key, sshd.bad_key, sshd.fingerprint, sshd.known_hosts_line()
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"  # sshd re-executes itself, so it must be started by absolute path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.ssh or netlab's real data directory, or uses an agent.

    Autouse in the modules that import it: ``from tests.sshd import isolated_home  # noqa: F401``."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True, timeout=30)
    return path


def fingerprint_of(public_key: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return out.split()[1]  # "256 SHA256:... comment (ED25519)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sshd:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.user = getpass.getuser()
        self.host_key = keygen(root / "ssh_host_ed25519_key", "netlab-test-host")
        self.client_key = keygen(root / "client_key", "netlab-test-client")
        self.bad_key = keygen(root / "bad_key", "netlab-test-unauthorized")
        shutil.copy(root / "client_key.pub", root / "authorized_keys")
        self.fingerprint = fingerprint_of(root / "ssh_host_ed25519_key.pub")
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log = root / "sshd.log"

    def host_key_line(self) -> str:
        """The server's public host key as ``type base64``."""
        return " ".join((self.root / "ssh_host_ed25519_key.pub").read_text().split()[:2])

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key_line()}\n"

    def _config(self) -> Path:
        config = self.root / "sshd_config"
        config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.root / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            f"AllowUsers {self.user}\n"
            "LogLevel VERBOSE\n"
        )
        return config

    def start(self) -> None:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # the privilege separation directory
        last = ""
        for _attempt in range(3):  # a free port can be taken between choosing it and sshd binding it
            self.port = free_port()
            config = self._config()
            log = open(self.log, "wb")  # noqa: SIM115 - sshd writes its log here until stopped
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
            log.close()
            if self._wait_ready(10.0):
                return
            self.stop()
            last = self.log.read_text(errors="replace")
        raise RuntimeError(f"sshd did not start:\n{last}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    if sock.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    if not os.path.exists(SSHD):
        pytest.fail(f"{SSHD} is missing: install openssh-server (./dev installs it)")
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.stop()
