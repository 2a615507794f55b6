"""One normal request per server kind, over real sockets, and what each kind's options need in a test.

``PROBES[kind](host, port)`` sends the request a learner's client would send and asserts the server's
complete answer. The readiness tests (``tests/engine/test_readiness.py``) send it the instant ``listen`` is
published; the fuzz harness (``tests/engine/test_fuzz_servers.py``) sends it after abusing the server.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import paramiko

TIMEOUT = 5.0


async def _tcp(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)


async def _exchange(host: str, port: int, request: bytes, *, until_eof: bool = False, size: int = 4096) -> bytes:
    reader, writer = await _tcp(host, port)
    try:
        writer.write(request)
        await writer.drain()
        if until_eof:
            return await asyncio.wait_for(reader.read(-1), TIMEOUT)
        return await asyncio.wait_for(reader.read(size), TIMEOUT)
    finally:
        writer.close()


async def _read_until(reader: asyncio.StreamReader, needle: bytes) -> bytes:
    return await asyncio.wait_for(reader.readuntil(needle), TIMEOUT)


async def probe_echo(host: str, port: int) -> None:
    assert await _exchange(host, port, b"ping") == b"ping"


async def probe_greet(host: str, port: int) -> None:
    assert await _exchange(host, port, b"ping") == b"Recu: ping"


async def probe_time(host: str, port: int) -> None:
    reply = await _exchange(host, port, b"ping")
    assert reply.startswith(b"received at ") and reply.endswith(b": ping"), reply


async def probe_finquit(host: str, port: int) -> None:
    """The course's client: a message is answered 'Coucou ' + message; FIN closes without an answer."""
    reader, writer = await _tcp(host, port)
    try:
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.read(4096), TIMEOUT) == b"Coucou ping"
        writer.write(b"FIN")
        assert await asyncio.wait_for(reader.read(-1), TIMEOUT) == b""
    finally:
        writer.close()


async def probe_contact(host: str, port: int) -> None:
    """The course's ContactClient ``list``: one JSON request, then read the reply until EOF."""
    raw = await _exchange(host, port, json.dumps({"cmd": "list", "args": {}}).encode(), until_eof=True)
    reply = json.loads(raw)
    assert reply["status"] is True and isinstance(reply["data"], list), reply


async def probe_roles(host: str, port: int) -> None:
    reader, writer = await _tcp(host, port)
    try:
        line = await _read_until(reader, b"\n")
        assert line in (b"primary\n", b"secondary\n"), line
    finally:
        writer.close()


async def probe_chat(host: str, port: int) -> None:
    ra, wa = await _tcp(host, port)
    rb, wb = await _tcp(host, port)
    try:
        joined = await _read_until(ra, b"\n")
        assert joined.startswith(b"* ") and b"joined" in joined, joined
        wb.write(b"hello room\n")
        line = await _read_until(ra, b"\n")
        assert line.endswith(b"> hello room\n"), line
    finally:
        wa.close()
        wb.close()


async def probe_collector(host: str, port: int) -> None:
    reader, writer = await _tcp(host, port)
    try:
        greeting = json.loads(await _read_until(reader, b"\n"))
        assert greeting.get("ack") is True, greeting
        change = {"kind": "created", "path": "/tmp/x.txt", "seq": 1, "run": "r1", "watcher": "probe"}
        writer.write(json.dumps(change).encode() + b"\n")
        ack = json.loads(await _read_until(reader, b"\n"))
        assert ack == {"ack": 1}, ack
    finally:
        writer.close()


async def _udp(host: str, port: int, data: bytes, *, answer: bool) -> bytes | None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, (host, port))
        await loop.sock_sendall(sock, data)
        if not answer:
            return None
        return await asyncio.wait_for(loop.sock_recv(sock, 65536), TIMEOUT)
    finally:
        sock.close()


async def probe_udp_echo(host: str, port: int) -> None:
    assert await _udp(host, port, b"ping", answer=True) == b"Recu: ping"


async def probe_udp_sink(host: str, port: int) -> None:
    # A sink answers nothing: the port must not refuse (an ICMP refusal shows as ECONNREFUSED on the
    # next call on a connected UDP socket), and the journal check is the caller's.
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, (host, port))
        await loop.sock_sendall(sock, b"ping")
        await asyncio.sleep(0.01)
        await loop.sock_sendall(sock, b"ping again")
    finally:
        sock.close()


async def _http(host: str, port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    raw = await _exchange(host, port, request, until_eof=True)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


async def probe_http(host: str, port: int) -> None:
    status, _, body = await _http(host, port, b"GET /api/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200, (status, body)
    assert isinstance(json.loads(body), list)


XMLRPC_ADD = (b"<?xml version='1.0'?><methodCall><methodName>add</methodName><params>"
              b"<param><value><int>2</int></value></param><param><value><int>3</int></value></param>"
              b"</params></methodCall>")


async def probe_xmlrpc(host: str, port: int) -> None:
    request = (b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nConnection: close\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(XMLRPC_ADD), XMLRPC_ADD))
    status, _, body = await _http(host, port, request)
    assert status == 200 and b"<int>5</int>" in body, (status, body)


SSH_PASSWORD = "probe-pw"


def _ssh_blocking(host: str, port: int) -> None:
    import getpass

    transport = paramiko.Transport((host, port))
    try:
        transport.start_client(timeout=TIMEOUT)
        transport.auth_password(getpass.getuser(), SSH_PASSWORD)
        channel = transport.open_session(timeout=TIMEOUT)
        channel.settimeout(TIMEOUT)
        channel.exec_command("echo ready")
        out = b""
        while chunk := channel.recv(4096):
            out += chunk
        assert out == b"ready\n", out
        assert channel.recv_exit_status() == 0
    finally:
        transport.close()


async def probe_ssh(host: str, port: int) -> None:
    await asyncio.to_thread(_ssh_blocking, host, port)


PROBES = {
    "tcp-echo": probe_echo,
    "tcp-greet": probe_greet,
    "tcp-time": probe_time,
    "tcp-finquit": probe_finquit,
    "contact": probe_contact,
    "roles": probe_roles,
    "chat": probe_chat,
    "udp-echo": probe_udp_echo,
    "udp-sink": probe_udp_sink,
    "ssh": probe_ssh,
    "watch-collector": probe_collector,
    "xmlrpc": probe_xmlrpc,
    "http": probe_http,
}


def kind_options(kind: str, tmp: Path) -> dict:
    """Options that keep a kind's files in ``tmp`` (databases, host key, authorized keys)."""
    if kind in ("contact", "http"):
        return {"db": str(tmp / f"{kind}.sqlite3")}
    if kind == "ssh":
        empty = tmp / "authorized_keys"
        empty.touch()
        return {"password": SSH_PASSWORD, "host_key": str(tmp / "host_key"), "authorized_keys": str(empty)}
    return {}
