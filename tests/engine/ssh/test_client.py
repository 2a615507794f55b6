"""SSH client sessions against a real OpenSSH sshd (and netlab's own server for comparing hosts)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from netlab_tui.engine.core.journal import by_kind
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.ssh.client import (
    HostKeyChanged,
    SshSession,
    SshTarget,
    UnknownHostKey,
    compare,
    netlab_known_hosts,
    parse_hosts,
    run_on_hosts,
    with_defaults,
)
from netlab_tui.engine.ssh.server import SshLabServer
from tests.sshd import isolated_home, sshd  # noqa: F401 - the fixtures (isolated_home is autouse)


def target(sshd, known_hosts: Path | None, **changes) -> SshTarget:  # noqa: F811
    values = dict(host="127.0.0.1", port=sshd.port, key_file=str(sshd.client_key), timeout=10.0,
                  known_hosts=str(known_hosts) if known_hosts else None)
    values.update(changes)
    return SshTarget(**values)


def stdout_of(journal, session) -> bytes:
    return b"".join(e.payload for e in journal.events(lambda e: e.conn == session.conn and e.kind == "stdout"))


async def run_command(journal, registry, tgt, command):
    session = await registry.start(SshSession(journal, tgt, command))
    code = await session.wait()
    return session, code


# -- targets -----------------------------------------------------------------------------------------------
def test_target_parsing():
    t = SshTarget.parse("alice@example.org:2222")
    assert (t.user, t.host, t.port, t.label) == ("alice", "example.org", 2222, "alice@example.org:2222")
    assert SshTarget.parse("[::1]:2200").host == "::1" and SshTarget.parse("[::1]:2200").port == 2200
    assert SshTarget.parse("::1").port == 22
    assert SshTarget.parse("h", port=2201).port == 2201
    assert [t.port for t in parse_hosts(["127.0.0.1:1,127.0.0.1:2", "h:3"])] == [1, 2, 3]
    with pytest.raises(NetlabError, match="invalid port"):
        SshTarget.parse("h:99999")
    with pytest.raises(NetlabError, match="empty user"):
        SshTarget.parse("@h")


def test_password_never_in_repr():
    assert "s3cret" not in repr(SshTarget("h", password="s3cret", passphrase="s3cret"))


# -- host keys -----------------------------------------------------------------------------------------------
async def test_unknown_host_is_refused_with_its_fingerprint(journal, registry, sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    with pytest.raises(UnknownHostKey) as info:
        await run_command(journal, registry, target(sshd, known), "true")
    assert info.value.fingerprint == sshd.fingerprint
    assert sshd.fingerprint in str(info.value)
    assert info.value.host == f"[127.0.0.1]:{sshd.port}"
    assert not known.exists()  # nothing remembered without trust
    error = journal.events(by_kind("error"))[-1]
    assert error.meta["host_key_error"] == "unknown" and error.meta["fingerprint"] == sshd.fingerprint


async def test_trust_accepts_remembers_and_is_not_needed_again(journal, registry, sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    session, code = await run_command(journal, registry, target(sshd, known, trust=True), "echo trusted")
    assert code == 0 and stdout_of(journal, session) == b"trusted\n"
    assert known.read_text() == sshd.known_hosts_line()
    assert known.stat().st_mode & 0o777 == 0o600
    info = [e for e in journal.events(by_kind("info")) if (e.meta or {}).get("trusted")]
    assert info and info[0].meta["fingerprint"] == sshd.fingerprint
    # Second time: known, so no trust needed and nothing appended.
    session, code = await run_command(journal, registry, target(sshd, known), "echo again")
    assert code == 0 and stdout_of(journal, session) == b"again\n"
    assert known.read_text() == sshd.known_hosts_line()


async def test_changed_key_is_refused_even_with_trust(journal, registry, sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    impostor = " ".join(Path(f"{sshd.bad_key}.pub").read_text().split()[:2])
    known.write_text(f"[127.0.0.1]:{sshd.port} {impostor}\n")
    before = known.read_text()
    with pytest.raises(HostKeyChanged) as info:
        await run_command(journal, registry, target(sshd, known, trust=True), "true")
    message = str(info.value)
    assert message.startswith(f"HOST KEY CHANGED for [127.0.0.1]:{sshd.port}")
    assert sshd.fingerprint in message and "ssh-keygen -R" in message and "\n" not in message
    assert info.value.expected_file == known
    assert known.read_text() == before  # never overridden


async def test_users_known_hosts_is_read_and_netlab_store_is_written(journal, registry, sshd,  # noqa: F811
                                                                     isolated_home):  # noqa: F811
    # Trusting without --known-hosts writes netlab's store, never ~/.ssh/known_hosts.
    session, code = await run_command(journal, registry, target(sshd, None, trust=True), "true")
    assert code == 0
    store = netlab_known_hosts()
    assert store.read_text() == sshd.known_hosts_line()
    assert str(store).startswith(str(isolated_home.parent / "data"))
    assert not (isolated_home / ".ssh" / "known_hosts").exists()
    # A key in the user's own known_hosts is honoured too.
    store.unlink()
    ssh_dir = isolated_home / ".ssh"
    ssh_dir.mkdir()
    (ssh_dir / "known_hosts").write_text(sshd.known_hosts_line())
    session, code = await run_command(journal, registry, target(sshd, None), "echo from-user-file")
    assert code == 0 and stdout_of(journal, session) == b"from-user-file\n"
    assert not store.exists()


# -- authentication and connection errors ----------------------------------------------------------------
@pytest.fixture
def known(sshd, tmp_path):  # noqa: F811
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line())
    return path


async def test_unauthorized_key_fails_with_one_line(journal, registry, sshd, known):  # noqa: F811
    with pytest.raises(NetlabError) as info:
        await run_command(journal, registry, target(sshd, known, key_file=str(sshd.bad_key)), "true")
    assert str(info.value) == (f"authentication failed for {sshd.user} on 127.0.0.1:{sshd.port} "
                               f"(tried key {sshd.bad_key}, ~/.ssh keys)")


async def test_password_refused_by_a_key_only_server(journal, registry, sshd, known):  # noqa: F811
    with pytest.raises(NetlabError, match="authentication failed .*the server accepts only publickey"):
        await run_command(journal, registry, target(sshd, known, key_file=None, password="x",
                                                    look_for_keys=False), "true")


@pytest.mark.parametrize("content, message", [
    (None, "key file not found"),
    (b"not a key\n", "is not a private key netlab can use"),
    ("public", "is a public key"),
])
async def test_bad_key_files(journal, registry, sshd, known, tmp_path, content, message):  # noqa: F811
    path = tmp_path / "key"
    if content == "public":
        path.write_bytes(Path(f"{sshd.client_key}.pub").read_bytes())
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(NetlabError, match=message):
        await run_command(journal, registry, target(sshd, known, key_file=str(path)), "true")


async def test_connection_refused(journal, registry, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetlabError, match=rf"^connection refused by 127.0.0.1:{port} \(nothing is listening there\)$"):
        await run_command(journal, registry, SshTarget("127.0.0.1", port, password="x"), "true")


async def test_silent_server_times_out(journal, registry):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        with pytest.raises(NetlabError, match="did not answer as an SSH server .*within 1s"):
            await run_command(journal, registry, SshTarget("127.0.0.1", listener.getsockname()[1], password="x",
                                                           timeout=1.0), "true")
        assert time.monotonic() - started < 8
    finally:
        listener.close()
        for conn, _addr in accepted:
            conn.close()


# -- exec --------------------------------------------------------------------------------------------------
async def test_exec_streams_stdout_and_stderr_and_returns_the_status(journal, registry, sshd, known):  # noqa: F811
    running_when_first = []
    session = SshSession(journal, target(sshd, known), "echo one; sleep 1; echo oops >&2; echo two; exit 3")
    journal.subscribe(lambda e: running_when_first.append(session.exit_code is None and not session._exited.is_set()),
                      lambda e: e.kind == "stdout" and e.conn == session.conn)
    await registry.start(session)
    assert await session.wait() == 3
    assert stdout_of(journal, session) == b"one\ntwo\n"
    stderr = [e for e in journal.events(by_kind("stderr")) if e.conn == session.conn]
    assert b"".join(e.payload for e in stderr) == b"oops\n"
    assert running_when_first[0] is True
    stamps = [e.ts for e in journal.events(lambda e: e.conn == session.conn and e.kind in ("stdout", "stderr"))]
    assert stamps[-1] - stamps[0] >= 0.8  # streamed, not delivered at the end
    kinds = [e.kind for e in journal.events(lambda e: e.conn == session.conn)]
    assert kinds[0] == "connect" and kinds[1] == "request" and kinds[-1] == "exit"
    connect = journal.events(by_kind("connect"))[0]
    assert connect.meta["fingerprint"] == sshd.fingerprint and connect.meta["server_version"].startswith("SSH-2.0-OpenSSH")
    assert connect.peer == f"127.0.0.1:{sshd.port}"
    assert journal.events(by_kind("exit"))[-1].meta["code"] == 3


async def test_stdin_reaches_the_remote_command(journal, registry, sshd, known):  # noqa: F811
    session = await registry.start(SshSession(journal, target(sshd, known), "tr a-z A-Z"))
    await session.write_stdin(b"hello\n")
    await session.close_stdin()
    assert await session.wait() == 0
    assert stdout_of(journal, session) == b"HELLO\n"
    assert journal.events(by_kind("stdin"))[0].direction == "out"


async def test_cancel_closes_a_long_command(journal, registry, sshd, known):  # noqa: F811
    session = await registry.start(SshSession(journal, target(sshd, known), "echo started; sleep 30"))
    deadline = time.monotonic() + 10
    while stdout_of(journal, session) != b"started\n":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    started = time.monotonic()
    await session.cancel()
    assert time.monotonic() - started < 5
    exit_event = journal.events(by_kind("exit"))[-1]
    assert exit_event.meta["cancelled"] is True and exit_event.meta["code"] is None


# -- several hosts ---------------------------------------------------------------------------------------
async def test_same_command_on_two_hosts_side_by_side_and_diff(journal, registry, sshd, tmp_path):  # noqa: F811
    lab = await registry.start(SshLabServer(journal, password="pw", host_key=str(tmp_path / "lab_key")))
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    hosts = [target(sshd, known), SshTarget("127.0.0.1", lab.port, password="pw", trust=True,
                                           known_hosts=str(known), look_for_keys=False)]
    results = await run_on_hosts(journal, hosts, "echo same; echo $SSH_CONNECTION | cut -d' ' -f4",
                                 registry=registry)
    assert [r.code for r in results] == [0, 0] and [r.error for r in results] == [None, None]
    assert results[0].stdout == f"same\n{sshd.port}\n".encode()
    assert results[1].stdout == f"same\n{lab.port}\n".encode()
    comparison = compare(results)
    assert not comparison.identical
    (_a, _b, diff), = comparison.diffs
    assert f"-{sshd.port}" in diff and f"+{lab.port}" in diff
    table = comparison.side_by_side(80)
    assert results[0].label in table[0] and results[1].label in table[0]
    same_row, port_row = table[2], table[3]
    assert same_row.startswith("  same") and port_row.startswith("* ")
    assert len(registry) == 1  # the host sessions were removed once done; the lab server remains

    again = compare(await run_on_hosts(journal, hosts, "echo same"))
    assert again.identical


async def test_a_failing_host_does_not_stop_the_others(journal, registry, sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    unknown = SshTarget("localhost", sshd.port, key_file=str(sshd.client_key), known_hosts=str(known))
    results = await run_on_hosts(journal, [target(sshd, known), unknown], "echo ok")
    assert results[0].code == 0 and results[0].stdout == b"ok\n"
    assert results[1].error and "unknown host key for [localhost]" in results[1].error
    assert "[unknown host key" in compare(results).side_by_side(200)[2]
    assert with_defaults(unknown, trust=True).trust is True


async def test_trust_with_a_confirmed_fingerprint_accepts_only_that_key(journal, registry, sshd, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    wrong = "SHA256:" + "A" * 43
    with pytest.raises(UnknownHostKey, match="is not the key you confirmed"):
        await run_command(journal, registry, target(sshd, known, trust=True, trust_fingerprint=wrong), "true")
    assert not known.exists()
    session, code = await run_command(journal, registry,
                                      target(sshd, known, trust=True, trust_fingerprint=sshd.fingerprint), "true")
    assert code == 0 and known.read_text() == sshd.known_hosts_line()


def test_encrypted_key_needs_its_passphrase(tmp_path):
    from netlab_tui.engine.ssh.client import KeyNeedsPassphrase, load_private_key

    path = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "open sesame", "-f", str(path)], check=True,
                   capture_output=True, timeout=30)
    with pytest.raises(KeyNeedsPassphrase, match="is encrypted"):
        load_private_key(str(path))
    with pytest.raises(KeyNeedsPassphrase, match="wrong passphrase"):
        load_private_key(str(path), "wrong")
    assert load_private_key(str(path), "open sesame").get_name() == "ssh-ed25519"
