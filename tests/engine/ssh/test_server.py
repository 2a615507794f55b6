"""netlab's lab SSH server, driven by netlab's client and by the real OpenSSH ``ssh``."""

from __future__ import annotations

import asyncio
import getpass
import os
import subprocess
from pathlib import Path

import paramiko
import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import by_kind, by_source
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.ssh.client import SshSession, SshTarget, with_defaults
from netlab_tui.engine.ssh.server import SshLabServer, load_or_create_host_key, read_authorized_keys
from tests.sshd import isolated_home, keygen  # noqa: F401 - isolated_home: an autouse fixture


@pytest.fixture
def client_key(tmp_path):
    return keygen(tmp_path / "client_key", "lab-client")


@pytest.fixture
async def lab(journal, registry, tmp_path, client_key):
    authorized = tmp_path / "authorized_keys"
    authorized.write_text("# a comment\n" + 'command="x" ' + Path(f"{client_key}.pub").read_text())
    return await registry.start(SshLabServer(journal, password="lab-pw", authorized_keys=str(authorized),
                                             host_key=str(tmp_path / "host_key")))


def lab_target(lab, tmp_path, **changes):
    values = dict(host="127.0.0.1", port=lab.port, known_hosts=str(tmp_path / "known_hosts"), trust=True,
                  look_for_keys=False, agent=False, timeout=10.0)
    values.update(changes)
    return SshTarget(**values)


async def wait_for(condition, timeout=5.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_ssh_kind_is_in_the_catalogue():
    kind = server_kinds()["ssh"]
    assert kind.proto == "ssh" and {o.name for o in kind.options} == {"password", "authorized-keys", "host-key"}


async def test_listen_event_shows_address_fingerprint_and_no_given_password(journal, lab):
    listen = journal.events(by_kind("listen"))[0]
    assert listen.local == f"127.0.0.1:{lab.port}"
    assert listen.meta["fingerprint"] == lab.host_key.fingerprint
    assert listen.meta["user"] == getpass.getuser() and listen.meta["authorized_keys"] == 1
    assert "password" not in listen.meta and "lab-pw" not in listen.message


async def test_generated_password_is_shown_and_works(journal, registry, tmp_path):
    server = await registry.start(SshLabServer(journal, host_key=str(tmp_path / "k")))
    listen = journal.events(by_kind("listen"))[0]
    password = listen.meta["password"]
    assert len(password) >= 12 and password in listen.message
    session = await registry.start(SshSession(journal, lab_target(server, tmp_path, password=password), "echo in"))
    assert await session.wait() == 0


async def test_password_login_runs_the_command_as_me_and_journals_every_step(journal, registry, lab, tmp_path):
    session = await registry.start(SshSession(journal, lab_target(lab, tmp_path, password="lab-pw"),
                                              "id -u; echo err >&2; exit 4"))
    assert await session.wait() == 4
    await wait_for(lambda: journal.events(lambda e: e.source == lab.name and e.kind == "close"))
    server_events = journal.events(by_source(lab.name))
    kinds = [e.kind for e in server_events]
    for kind in ("listen", "accept", "info", "auth", "request", "stdout", "stderr", "exit", "close"):
        assert kind in kinds, kind
    handshake = next(e for e in server_events if (e.meta or {}).get("handshake"))
    assert handshake.meta["client_version"].startswith("SSH-2.0-paramiko")
    auth = next(e for e in server_events if e.kind == "auth")
    assert auth.meta == {"user": getpass.getuser(), "method": "password", "ok": True}
    request = next(e for e in server_events if e.kind == "request")
    assert request.meta["command"] == "id -u; echo err >&2; exit 4"
    out = next(e for e in server_events if e.kind == "stdout")
    assert out.payload == f"{os.getuid()}\n".encode() and out.direction == "out"
    assert next(e for e in server_events if e.kind == "exit").meta["code"] == 4
    assert all("lab-pw" not in (e.text or "") and "lab-pw" not in str(e.meta) for e in journal.events())


async def test_key_login(journal, registry, lab, tmp_path, client_key):
    session = await registry.start(SshSession(journal, lab_target(lab, tmp_path, key_file=str(client_key)),
                                              "echo key"))
    assert await session.wait() == 0
    await wait_for(lambda: [e for e in journal.events(by_kind("auth")) if e.meta["ok"]])
    auth = [e for e in journal.events(by_kind("auth")) if e.meta["ok"]][0]
    assert auth.meta["method"].startswith("publickey ssh-ed25519 SHA256:")


async def test_wrong_password_wrong_user_and_unknown_key_are_refused(journal, registry, lab, tmp_path):
    with pytest.raises(NetlabError, match="authentication failed"):
        await registry.start(SshSession(journal, lab_target(lab, tmp_path, password="nope"), "true"))
    with pytest.raises(NetlabError, match="authentication failed"):
        await registry.start(SshSession(journal, lab_target(lab, tmp_path, user="nobody-else", password="lab-pw"),
                                        "true"))
    other = keygen(tmp_path / "other", "other")
    with pytest.raises(NetlabError, match="authentication failed"):
        await registry.start(SshSession(journal, lab_target(lab, tmp_path, key_file=str(other)), "true"))
    await wait_for(lambda: len([e for e in journal.events(by_kind("auth")) if not e.meta["ok"]]) >= 3)
    reasons = {e.message for e in journal.events(by_kind("auth")) if not e.meta["ok"]}
    assert any("wrong password" in r for r in reasons)
    assert any("only " in r and "nobody-else" in r for r in reasons)
    assert any("is not authorized" in r for r in reasons)
    assert lab.running  # the server keeps serving


async def test_stdin_is_fed_to_the_remote_process(journal, registry, lab, tmp_path):
    session = await registry.start(SshSession(journal, lab_target(lab, tmp_path, password="lab-pw"), "bc -q"))
    await session.write_stdin(b"6*7\n")
    await wait_for(lambda: b"42\n" in b"".join(e.payload for e in journal.events(
        lambda e: e.conn == session.conn and e.kind == "stdout")))
    await session.close_stdin()
    assert await session.wait() == 0
    assert [e.payload for e in journal.events(lambda e: e.source == lab.name and e.kind == "stdin")] == [b"6*7\n"]


async def test_openssh_client_talks_to_the_lab_server(journal, registry, lab, tmp_path, client_key):
    known = tmp_path / "openssh_known_hosts"
    known.write_text(f"[127.0.0.1]:{lab.port} {lab.host_key.get_name()} {lab.host_key.get_base64()}\n")
    proc = await asyncio.create_subprocess_exec(
        "ssh", "-p", str(lab.port), "-i", str(client_key), "-o", f"UserKnownHostsFile={known}",
        "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
        "-F", "/dev/null", f"{getpass.getuser()}@127.0.0.1", "echo from-openssh; exit 6",
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 6, err
    assert out == b"from-openssh\n"
    handshake = next(e for e in journal.events(by_kind("info")) if (e.meta or {}).get("handshake"))
    assert handshake.meta["client_version"].startswith("SSH-2.0-OpenSSH")


async def test_host_key_is_generated_once_and_kept(tmp_path):
    path = tmp_path / "keys" / "host"
    key, created = load_or_create_host_key(path)
    again, created_again = load_or_create_host_key(path)
    assert created and not created_again
    assert key.fingerprint == again.fingerprint and key.get_name() == "ssh-ed25519"
    assert path.stat().st_mode & 0o777 == 0o600


async def test_restarted_server_keeps_its_fingerprint_so_clients_keep_trusting(journal, registry, tmp_path):
    first = await registry.start(SshLabServer(journal, password="pw"))  # default key path: netlab's data dir
    target = lab_target(first, tmp_path, password="pw")
    assert await (await registry.start(SshSession(journal, target, "true"))).wait() == 0
    fingerprint = first.host_key.fingerprint
    await registry.stop(first)
    second = await registry.start(SshLabServer(journal, password="pw", port=first.port))
    assert second.host_key.fingerprint == fingerprint
    session = await registry.start(SshSession(journal, with_defaults(target, trust=False), "true"))
    assert await session.wait() == 0


def test_authorized_keys_parsing(tmp_path, client_key):
    key_type, blob = Path(f"{client_key}.pub").read_text().split()[:2]
    path = tmp_path / "ak"
    path.write_text(f"# comment\n\n{key_type} {blob} me@x\n"
                    'from="127.0.0.1",no-pty ssh-rsa AAAAB3NzaC1yc2E= other\nssh-ed25519 !!notbase64\n')
    keys = read_authorized_keys(path)
    assert [(t, c) for t, _b, c in keys] == [("ssh-ed25519", "me@x"), ("ssh-rsa", "other")]
    assert keys[0][1] == paramiko.PKey.from_path(client_key).asbytes()
    with pytest.raises(NetlabError, match="authorized keys file not found"):
        read_authorized_keys(tmp_path / "missing")


async def test_bind_conflict_is_one_line(journal, registry, lab, tmp_path):
    with pytest.raises(NetlabError, match="address already in use"):
        await registry.start(SshLabServer(journal, port=lab.port, password="x", host_key=str(tmp_path / "k2")))
