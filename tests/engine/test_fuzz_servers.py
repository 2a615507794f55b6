"""The shared fuzz harness: every server kind abused, then asked a normal request (issue 14, "Also").

For each kind, over real loopback sockets: garbage, oversize input (a 70 KiB line, 70 KiB of HTTP
headers, the largest datagram), half-closed and silent connections, a slow sender, and a burst of 300
connections at once. Afterwards the server still serves the kind's normal request
(``tests/_server_probes.py``), no traceback was logged or left in an asyncio task, no behaviour bug
surfaced in the journal, and where the protocol has an error answer (HTTP status, the contact book's
``status: false``, SSH's banner) bad input got it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import by_kind
from tests._server_probes import PROBES, kind_options
from tests.sshd import isolated_home  # noqa: F401 - isolated_home: an autouse fixture

OVERSIZE = 70 * 1024  # > 64 KiB
BURST = 300
READ_TIMEOUT = 3.0
HTTP_KINDS = {"http", "xmlrpc"}
UDP_KINDS = {"udp-echo", "udp-sink"}


def garbage(rng: random.Random, size: int) -> bytes:
    # No FIN/QUIT: those are tcp-finquit's and udp-sink's commands, not garbage.
    data = rng.randbytes(size)
    return data.replace(b"FIN", b"fin").replace(b"QUIT", b"quit")


async def read_some(reader: asyncio.StreamReader, until_eof: bool = True) -> bytes:
    """What the server answers (until it closes, or a quiet moment): b"" when it answers nothing."""
    out = b""
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            while chunk := await reader.read(65536):
                out += chunk
                if not until_eof:
                    break
    except (TimeoutError, ConnectionError):
        pass
    return out


async def connect(port: int):
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)


def close(writer: asyncio.StreamWriter) -> None:
    writer.close()


# -- the abuses, TCP ------------------------------------------------------------------------------------
async def tcp_garbage(kind: str, port: int, rng: random.Random) -> None:
    reader, writer = await connect(port)
    if kind in HTTP_KINDS:
        writer.write(b"\x00\x01GARBAGE \xff\xfe not http\r\n\r\n")
    else:
        writer.write(garbage(rng, 4096) if kind != "contact" else b"\x00\x01\x02 not json {{")
    await writer.drain()
    if kind in HTTP_KINDS:
        reply = await read_some(reader)
        assert reply.startswith(b"HTTP/1.1 400 "), reply[:80]
    elif kind == "contact":
        reply = json.loads(await read_some(reader))
        assert reply["status"] is False and reply["msg"], reply
    elif kind == "ssh":
        reply = await read_some(reader)
        assert reply.startswith(b"SSH-2.0-"), reply[:80]  # its banner; then it hangs up on the garbage
    close(writer)


async def tcp_oversize(kind: str, port: int, rng: random.Random) -> None:
    reader, writer = await connect(port)
    if kind in HTTP_KINDS:
        headers = b"".join(b"X-Fill-%d: %s\r\n" % (i, b"a" * 1000) for i in range(OVERSIZE // 1000))
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    elif kind == "contact":
        writer.write(b'{"cmd": "add", "args": {"name": "' + b"a" * OVERSIZE + b'"}}')
    else:
        writer.write(b"x" * OVERSIZE)  # one line without a newline
    try:
        await writer.drain()
    except ConnectionError:
        pass  # the server gave up on it before it was all sent: allowed
    if kind in HTTP_KINDS:
        reply = await read_some(reader)
        assert reply.startswith(b"HTTP/1.1 431 "), reply[:80]
    elif kind == "contact":
        reply = json.loads(await read_some(reader))
        assert reply["status"] is False, reply
    else:
        await read_some(reader, until_eof=False)
    close(writer)


async def tcp_half_closed(kind: str, port: int, rng: random.Random) -> None:
    reader, writer = await connect(port)
    writer.write(b"GET /api/users HTTP/1.1\r\nHo" if kind in HTTP_KINDS else b'{"cmd": "li' if kind == "contact"
                 else b"half a messa")
    writer.write_eof()
    reply = await read_some(reader)
    if kind in HTTP_KINDS:
        assert reply == b"" or reply.startswith(b"HTTP/1.1 400 "), reply[:80]
    elif kind == "contact":
        assert json.loads(reply)["status"] is False
    close(writer)


async def tcp_slow_sender(kind: str, port: int, rng: random.Random) -> None:
    """The kind's normal request, a few bytes at a time: it must be answered as a whole."""
    reader, writer = await connect(port)
    if kind in HTTP_KINDS:
        request = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    elif kind == "contact":
        request = json.dumps({"cmd": "list", "args": {}}).encode()
    elif kind == "watch-collector":
        request = json.dumps({"kind": "created", "path": "/tmp/slow", "seq": 1, "run": "slow"}).encode() + b"\n"
    else:
        request = b"slow message\n"
    for i in range(0, len(request), 5):
        writer.write(request[i:i + 5])
        await writer.drain()
        await asyncio.sleep(0.005)
    if kind in HTTP_KINDS:
        assert (await read_some(reader)).startswith(b"HTTP/1.1 200 ")
    elif kind == "contact":
        assert json.loads(await read_some(reader))["status"] is True
    close(writer)


async def tcp_burst(kind: str, port: int, rng: random.Random) -> None:
    async def one(i: int):
        try:
            reader, writer = await connect(port)
        except (OSError, TimeoutError):
            return None  # the backlog was full: refused is allowed, the server must live on
        if i % 3 == 0:
            writer.write(garbage(rng, 64))
        return writer

    writers = await asyncio.gather(*(one(i) for i in range(BURST)))
    assert sum(w is not None for w in writers) >= BURST // 2
    await asyncio.sleep(0.05)
    for writer in writers:
        if writer is not None:
            writer.transport.abort()  # a reset, not a polite close


# -- the abuses, UDP ------------------------------------------------------------------------------------
async def udp_abuse(kind: str, port: int, rng: random.Random) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    try:
        for size in (0, 1, 1500, 65507):  # empty, tiny, a frame, the largest IPv4 datagram
            await loop.sock_sendall(sock, garbage(rng, size))
        for _ in range(BURST):
            await loop.sock_sendall(sock, garbage(rng, 32))
    finally:
        sock.close()
    await asyncio.sleep(0.1)


TCP_ABUSES = (tcp_garbage, tcp_oversize, tcp_half_closed, tcp_slow_sender, tcp_burst)


@pytest.mark.parametrize("kind", sorted(PROBES))
async def test_every_server_survives_abuse_and_serves_a_normal_request(kind, journal, registry, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    loop_errors: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    server = await registry.start(server_kinds()[kind].create(journal, **kind_options(kind, tmp_path)))
    port = server.port
    rng = random.Random(kind)
    silent: list[asyncio.StreamWriter] = []
    try:
        if kind in UDP_KINDS:
            await udp_abuse(kind, port, rng)
        else:
            _reader, writer = await connect(port)  # silent: connects, says nothing, stays
            silent.append(writer)
            for abuse in TCP_ABUSES:
                await abuse(kind, port, rng)
                assert server.running, f"{kind} stopped after {abuse.__name__}"
        await asyncio.wait_for(PROBES[kind]("127.0.0.1", port), 15)  # while the silent one is still open
    finally:
        for writer in silent:
            writer.close()
        loop.set_exception_handler(None)
    assert server.running
    bugs = [e.message for e in journal.events(by_kind("error"))
            if "failed on data" in (e.message or "") or "Traceback" in (e.message or "")]
    assert not bugs, bugs
    assert not loop_errors, loop_errors
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
