"""What netlab's SSH client costs over plain paramiko, against ``netlab serve ssh`` in a child process.

Figures, same server and same run:
- per command (connect, host-key check, key login, exec ``true``, exit status): netlab ``SshSession``
  vs paramiko ``SSHClient`` used directly vs the OpenSSH ``ssh`` client;
- output throughput of ``head -c 16M /dev/zero``: netlab (every chunk an event) vs paramiko's
  ``stdout.read()``.

    .venv/bin/python benchmarks/bench_ssh.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import paramiko  # noqa: E402

from netlab_tui.engine.core.journal import Journal  # noqa: E402
from netlab_tui.engine.ssh.client import SshSession, SshTarget  # noqa: E402

MB = 1 << 20


def start_server(tmp: Path, key: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data"), "HOME": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "netlab_tui", "serve", "ssh", "--port", "0", "--json", "--password", "bench",
         "--host-key", str(tmp / "host_key"), "--authorized-keys", f"{key}.pub"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    listen = json.loads(proc.stdout.readline())
    # Keep reading its event lines: a full pipe would stall the server's loop.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, listen["meta"]["port"]


async def netlab_rounds(target: SshTarget, command: str, rounds: int) -> tuple[float, int]:
    journal = Journal()
    started = time.perf_counter()
    received = 0
    for _ in range(rounds):
        session = SshSession(journal, target, command)
        await session.start()
        assert await session.wait() == 0
        received = session.stats["bytes_in"]
    return (time.perf_counter() - started) / rounds, received


def paramiko_rounds(port: int, key: Path, known: Path, command: str, rounds: int) -> tuple[float, int]:
    pkey = paramiko.PKey.from_path(key)
    started = time.perf_counter()
    received = 0
    for _ in range(rounds):
        client = paramiko.SSHClient()
        client.load_host_keys(str(known))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect("127.0.0.1", port, pkey=pkey, allow_agent=False, look_for_keys=False)
        _stdin, stdout, _stderr = client.exec_command(command)
        received = len(stdout.read())
        assert stdout.channel.recv_exit_status() == 0
        client.close()
    return (time.perf_counter() - started) / rounds, received


def openssh_rounds(port: int, key: Path, known: Path, command: str, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        subprocess.run(["ssh", "-F", "/dev/null", "-p", str(port), "-i", str(key), "-o", "BatchMode=yes",
                        "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
                        "-o", "IdentitiesOnly=yes", "127.0.0.1", command],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=30)
    return (time.perf_counter() - started) / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        key = tmp / "client_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        server, port = start_server(tmp, key)
        try:
            host_key = paramiko.PKey.from_path(tmp / "host_key")
            known = tmp / "known_hosts"
            known.write_text(f"[127.0.0.1]:{port} {host_key.get_name()} {host_key.get_base64()}\n")
            target = SshTarget("127.0.0.1", port, key_file=str(key), known_hosts=str(known), agent=False,
                               look_for_keys=False)
            asyncio.run(netlab_rounds(target, "true", 2))  # warm up imports and the server

            ours, _ = asyncio.run(netlab_rounds(target, "true", args.rounds))
            base, _ = paramiko_rounds(port, key, known, "true", args.rounds)
            line = (f"exec 'true' ({args.rounds} connections): paramiko {base * 1e3:6.1f} ms   "
                    f"netlab {ours * 1e3:6.1f} ms   netlab/paramiko time {ours / base:.2f}")
            if shutil.which("ssh"):
                openssh = openssh_rounds(port, key, known, "true", args.rounds)
                line += f"   OpenSSH ssh {openssh * 1e3:6.1f} ms"
            print(line)

            size = 16 * MB
            command = f"head -c {size} /dev/zero"
            ours, got = asyncio.run(netlab_rounds(target, command, 2))
            assert got == size, got
            base, got = paramiko_rounds(port, key, known, command, 2)
            assert got == size, got
            print(f"output {size // MB} MB: paramiko read {size / MB / base:6.1f} MB/s   "
                  f"netlab events {size / MB / ours:6.1f} MB/s   netlab/paramiko throughput {base / ours:.2f}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
