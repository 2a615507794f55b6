"""``netlab serve KIND`` for each server of the course, talked to by outside clients (socket, socat)."""

import json
import os
import shutil
import signal
import socket
import subprocess

import pytest

from tests.conftest import run_netlab

needs_socat = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")


def socat(address: str, data: bytes, *extra: str, timeout: float = 10) -> bytes:
    """socat as an outside client: stdin to the server, the server's reply to stdout."""
    result = subprocess.run(["socat", *extra, "-", address], input=data, capture_output=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_course_kind_is_listed_in_help():
    result = run_netlab("serve", "--help")
    out = result.stdout.decode()
    for kind in ("tcp-echo", "tcp-greet", "tcp-time", "tcp-finquit", "contact", "roles", "chat",
                 "udp-echo", "udp-sink"):
        assert f"  {kind} " in out
    assert "--greeting TEXT" in out and "--db PATH" in out


@needs_socat
def test_greet_with_socat_and_a_custom_greeting(serve):
    server = serve("tcp-greet", "--port", "0", "--greeting", "Coucou ")
    assert socat(f"TCP:127.0.0.1:{server.port}", b"Lea") == b"Coucou Lea"
    events = server.events(until=lambda e: e["kind"] == "close")
    assert [e["hex"] for e in events if e["kind"] == "data"] == [b"Lea".hex(), b"Coucou Lea".hex()]
    assert server.stop() == 0


def test_option_of_another_kind_is_refused():
    result = run_netlab("serve", "tcp-echo", "--port", "0", "--db", "x.db")
    assert result.returncode == 2
    assert b"--db does not apply to tcp-echo" in result.stderr


@needs_socat
def test_time_with_socat(serve):
    server = serve("tcp-time", "--port", "0")
    reply = socat(f"TCP:127.0.0.1:{server.port}", b"hello").decode()
    assert reply.startswith("received at ") and reply.endswith(": hello")
    assert server.stop() == 0


def test_finquit_quit_makes_serve_exit_0(serve):
    server = serve("tcp-finquit", "--port", "0")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"Bonjour")
        assert s.recv(1024) == b"Coucou Bonjour"
        s.sendall(b"FIN,QUIT")
        data = b""
        while chunk := s.recv(1024):
            data += chunk
        assert data == b""  # the course's server closes on FIN without answering
    assert server.proc.wait(timeout=10) == 0
    events = [json.loads(line) for line in server.proc.stdout.read().splitlines()]
    assert any(e["kind"] == "info" and "FIN,QUIT received" in e["text"] for e in events)
    assert b"Traceback" not in server.proc.stderr.read()


@needs_socat
def test_contact_with_socat_and_a_db_file(serve, tmp_path):
    db = tmp_path / "book.sqlite3"
    server = serve("contact", "--port", "0", "--db", str(db))
    events = server.events(until=lambda e: e["kind"] == "info")
    assert events[-1]["meta"] == {"db": str(db)}
    address = f"TCP:127.0.0.1:{server.port}"
    # socat's -t: keep reading after stdin ends, as the course's client keeps its write side open
    added = json.loads(socat(address, b'{"cmd": "add", "args": {"name": "Ana", "mail": "ana@x.fr"}}', "-t", "5"))
    assert added["status"] is True
    listed = json.loads(socat(address, b'{"cmd": "list"}', "-t", "5"))
    assert listed == {"status": True, "msg": "1 contact", "data": [{"name": "Ana", "mail": "ana@x.fr"}]}
    bad = json.loads(socat(address, b'{"cmd": "list"', "-t", "5"))
    assert bad["status"] is False and "incomplete" in bad["msg"]
    assert server.stop() == 0
    assert db.exists()


def test_contact_default_db_is_under_the_user_data_dir(tmp_path):
    from tests.conftest import ServeProcess

    env_home = tmp_path / "xdg"
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(env_home)
    try:
        server = ServeProcess("contact", "--port", "0")
    finally:
        if old is None:
            del os.environ["XDG_DATA_HOME"]
        else:
            os.environ["XDG_DATA_HOME"] = old
    try:
        events = server.events(until=lambda e: e["kind"] == "info")
        assert events[-1]["meta"]["db"] == str(env_home / "netlab" / "contacts.sqlite3")
        assert server.stop() == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        server.proc.stdout.close(), server.proc.stderr.close()


def test_roles_and_chat_from_the_command_line(serve):
    roles = serve("roles", "--port", "0")
    with socket.create_connection(("127.0.0.1", roles.port), timeout=5) as first, \
            socket.create_connection(("127.0.0.1", roles.port), timeout=5) as second:
        assert first.recv(100) == b"primary\n"
        assert second.recv(100) == b"secondary\n"
        first.close()
        assert second.recv(100) == b"primary\n"
    assert roles.stop() == 0

    chat = serve("chat", "--port", "0")
    with socket.create_connection(("127.0.0.1", chat.port), timeout=5) as a:
        with socket.create_connection(("127.0.0.1", chat.port), timeout=5) as b:
            assert a.recv(200).startswith(b"* ")  # b joined
            b.sendall(b"bonjour\n")
            tag = "%s:%d" % b.getsockname()[:2]
            assert a.recv(200) == f"<{tag}> bonjour\n".encode()
    assert chat.stop(signal.SIGTERM) == 0


def test_serve_udp_kinds_and_the_all_interfaces_warning(serve):
    echo = serve("udp-echo", "--port", "0")
    assert echo.listen["proto"] == "udp" and echo.listen["local"] == f"127.0.0.1:{echo.port}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"Hello", ("127.0.0.1", echo.port))
        assert s.recvfrom(100)[0] == b"Recu: Hello"
    assert echo.stop() == 0

    sink = serve("udp-sink", "--port", "0", "--host", "0.0.0.0")
    warning = sink.events(until=lambda e: e["kind"] == "info")[-1]
    assert warning["meta"] == {"warning": "all-interfaces"} and "all interfaces" in warning["text"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"reading 1", ("127.0.0.1", sink.port))
        s.sendto(b"FIN", ("127.0.0.1", sink.port))
    assert sink.proc.wait(timeout=10) == 0  # the FIN datagram stops it


def test_serve_on_ipv6(serve):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    server = serve("tcp-greet", "--host", "::1", "--port", "0")
    assert server.listen["local"] == f"[::1]:{server.port}"
    with socket.create_connection(("::1", server.port), timeout=5) as s:
        s.sendall(b"six")
        assert s.recv(100) == b"Recu: six"
    udp = serve("udp-echo", "--host", "::1", "--port", "0")
    result = run_netlab("send", "udp", "::1", str(udp.port), "v6")
    assert result.returncode == 0 and result.stdout == b"Recu: v6"
    assert server.stop() == 0 and udp.stop() == 0


def test_udp_port_in_use_is_one_line(serve):
    echo = serve("udp-echo", "--port", "0")
    result = run_netlab("serve", "udp-sink", "--port", str(echo.port))
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"netlab: address already in use: 127.0.0.1:{echo.port} " \
                                             "(another program is listening there)"
