"""Every TCP server of the course, driven by plain-``socket`` clients written as the course writes them."""

import asyncio
import json
import os
import random
import socket
import threading
import time

import pytest

from netlab_tui.engine.core.catalog import server_kinds
from netlab_tui.engine.core.journal import Journal, by_kind
from netlab_tui.engine.core.sessions import NetlabError, SessionStatus
from netlab_tui.engine.sockets.behaviours import ContactBehaviour
from netlab_tui.engine.sockets.tcp import TcpServer


async def start(registry, journal, kind, host="127.0.0.1", **options):
    return await registry.start(server_kinds()[kind].create(journal, host=host, port=0, **options))


def connect(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    return s


def read_until_eof(s):
    data = b""
    while True:
        chunk = s.recv(1024)
        if not chunk:
            break
        data += chunk
    return data


def read_line(s):
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def ask_contact(port, request: bytes) -> dict:
    """The course's contact client: send the JSON, never shut down writing, read until EOF."""
    s = connect(port)
    s.sendall(request)
    data = read_until_eof(s)
    s.close()
    return json.loads(data)


# -- tcp-greet, tcp-time --------------------------------------------------------------------------------
async def test_greet_prefixes_each_message(registry, journal):
    server = await start(registry, journal, "tcp-greet")

    def client():
        s = connect(server.port)
        s.sendall(b"Bonjour")
        first = s.recv(1024)
        s.sendall(b"encore")
        second = s.recv(1024)
        s.close()
        return first, second

    assert await asyncio.to_thread(client) == (b"Recu: Bonjour", b"Recu: encore")
    outs = [e.payload for e in journal.events(by_kind("data")) if e.direction == "out"]
    assert outs == [b"Recu: Bonjour", b"Recu: encore"]


async def test_greet_with_the_course_coucou_greeting(registry, journal):
    server = await start(registry, journal, "tcp-greet", greeting="Coucou ")

    def client():
        s = connect(server.port)
        s.sendall("Léa".encode())
        data = s.recv(1024)
        s.close()
        return data

    assert await asyncio.to_thread(client) == "Coucou Léa".encode()


async def test_time_reply_carries_a_timestamp_and_the_data(registry, journal):
    server = await start(registry, journal, "tcp-time")

    def client():
        s = connect(server.port)
        s.sendall(b"ping")
        data = s.recv(1024)
        s.close()
        return data

    before = time.strftime("%Y-%m-%d")
    reply = (await asyncio.to_thread(client)).decode()
    assert reply.startswith(f"received at {before} ") and reply.endswith(": ping")
    stamp = reply[len("received at "):-len(": ping")]
    assert time.strptime(stamp.split(".")[0], "%Y-%m-%d %H:%M:%S")


# -- tcp-finquit ------------------------------------------------------------------------------------------
async def test_finquit_fin_closes_only_that_connection(registry, journal):
    server = await start(registry, journal, "tcp-finquit")

    def client():
        other = connect(server.port)
        s = connect(server.port)
        s.sendall(b"Bonjour")
        first = s.recv(1024)
        s.sendall(b"FIN")
        rest = read_until_eof(s)  # the server closes without answering
        s.close()
        other.sendall(b"toujours la")
        still = other.recv(1024)
        other.close()
        return first, rest, still

    first, rest, still = await asyncio.to_thread(client)
    assert first == b"Coucou Bonjour"  # the course's server: 'Coucou ' + data
    assert rest == b""  # FIN: closed without an answer
    assert still == b"Coucou toujours la"
    assert server.status == SessionStatus.RUNNING
    closes = [e for e in journal.events(by_kind("close")) if e.message == "FIN received"]
    assert len(closes) == 1


async def test_finquit_fin_split_across_two_reads_is_seen(registry, journal):
    server = await start(registry, journal, "tcp-finquit")

    def client():
        s = connect(server.port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"xxF")
        s.recv(1024)
        s.sendall(b"IN")
        data = read_until_eof(s)
        s.close()
        return data

    assert await asyncio.to_thread(client) == b""  # "F" then "IN": FIN, closed without an answer


async def test_finquit_quit_stops_the_server(registry, journal):
    server = await start(registry, journal, "tcp-finquit")

    def client():
        s = connect(server.port)
        s.sendall(b"FIN,QUIT")
        data = read_until_eof(s)
        s.close()
        return data

    assert await asyncio.to_thread(client) == b""  # no answer to FIN,QUIT either
    async with asyncio.timeout(5):
        await server.wait_closed()
    assert server.status == SessionStatus.STOPPED and server.error is None
    with pytest.raises(ConnectionRefusedError):
        await asyncio.to_thread(connect, server.port)


# -- roles -------------------------------------------------------------------------------------------------
async def test_roles_primary_then_secondaries_and_promotion(registry, journal):
    server = await start(registry, journal, "roles")

    def scenario():
        first = connect(server.port)
        r1 = read_line(first)
        second = connect(server.port)
        r2 = read_line(second)
        third = connect(server.port)
        r3 = read_line(third)
        first.close()  # the primary leaves: the oldest secondary is promoted
        promoted = read_line(second)
        third.settimeout(0.3)
        try:
            nothing = third.recv(1024)
        except TimeoutError:
            nothing = b""
        second.close()
        third.settimeout(5)
        last = read_line(third)
        third.close()
        return r1, r2, r3, promoted, nothing, last

    r1, r2, r3, promoted, nothing, last = await asyncio.to_thread(scenario)
    assert (r1, r2, r3) == (b"primary\n", b"secondary\n", b"secondary\n")
    assert promoted == b"primary\n"
    assert nothing == b""  # the youngest secondary was not told anything
    assert last == b"primary\n"
    async with asyncio.timeout(5):
        while server.behaviour.members:
            await asyncio.sleep(0.01)


# -- chat ---------------------------------------------------------------------------------------------------
async def test_chat_relays_lines_to_the_others_with_a_sender_tag(registry, journal):
    server = await start(registry, journal, "chat")

    def scenario():
        alice = connect(server.port)
        time.sleep(0.1)
        bob = connect(server.port)
        joined = read_line(alice)
        carol = connect(server.port)
        read_line(alice), read_line(bob)  # carol's arrival
        alice_addr = "%s:%d" % alice.getsockname()[:2]
        alice.sendall(b"sal")
        alice.sendall(b"ut\nsecond line\n")
        got_bob = read_line(bob) + read_line(bob)
        got_carol = read_line(carol) + read_line(carol)
        alice.setblocking(False)
        try:
            echoed = alice.recv(1024)
        except BlockingIOError:
            echoed = b""
        for s in (alice, bob, carol):
            s.close()
        return joined, alice_addr, got_bob, got_carol, echoed

    joined, alice_addr, got_bob, got_carol, echoed = await asyncio.to_thread(scenario)
    assert joined.startswith(b"* 127.0.0.1:") and b"joined (2 in the room)" in joined
    expected = f"<{alice_addr}> salut\n<{alice_addr}> second line\n".encode()
    assert got_bob == expected
    assert got_carol == expected
    assert echoed == b""  # the sender does not get its own lines back


async def test_chat_drops_a_member_that_reads_nothing(registry, journal):
    server = await start(registry, journal, "chat")
    server.behaviour.max_backlog = 64 * 1024
    sleeper = await asyncio.to_thread(connect, server.port)
    sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sleeper_addr = "%s:%d" % sleeper.getsockname()[:2]
    async with asyncio.timeout(5):
        while not any(c.peer == sleeper_addr for c in server.connections.values()):
            await asyncio.sleep(0.01)
    # make the kernel buffers towards the sleeper small, so its backlog builds up in netlab quickly
    conn = next(c for c in server.connections.values() if c.peer == sleeper_addr)
    conn.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    line = b"x" * 1000 + b"\n"

    def scenario():
        talker = connect(server.port)
        listener = connect(server.port)
        read_line(sleeper)  # talker joined
        read_line(sleeper)  # listener joined
        tag = f"<{'%s:%d' % talker.getsockname()[:2]}> ".encode()
        want = 1000 * (len(tag) + len(line))
        got = []

        def listen():
            listener.settimeout(10)
            total = 0
            while total < want:
                chunk = listener.recv(65536)
                if not chunk:
                    break
                total += len(chunk)
                got.append(chunk)

        reader = threading.Thread(target=listen)
        reader.start()
        for _ in range(1000):  # 1 MB, far more than the sleeper's buffers and the backlog bound
            talker.sendall(line)
        reader.join(15)
        for s in (talker, listener):
            s.close()
        return b"".join(got), tag

    received, tag = await asyncio.to_thread(scenario)
    sleeper.close()
    assert received.count(tag + line) == 1000  # the reading member got every line
    assert any("reads nothing" in (e.message or "") for e in journal.events(by_kind("info")))
    closes = [e for e in journal.events(by_kind("close")) if e.peer == sleeper_addr]
    assert closes and closes[0].message == "too slow: stopped reading"
    assert server.status == SessionStatus.RUNNING


# -- contact ------------------------------------------------------------------------------------------------
async def test_contact_add_list_find_delete_and_persistence(registry, journal, tmp_path):
    db = tmp_path / "contacts.sqlite3"
    server = await start(registry, journal, "contact", db=str(db))

    def scenario():
        add = ask_contact(server.port, json.dumps(
            {"cmd": "add", "args": {"name": "Alice", "mail": "alice@example.org"}}).encode())
        again = ask_contact(server.port, json.dumps(
            {"cmd": "add", "args": {"name": "Alice", "mail": "other@example.org"}}).encode())
        ask_contact(server.port, b'{"cmd": "add", "args": {"name": "Bob", "mail": "bob@example.org"}}')
        listed = ask_contact(server.port, b'{"cmd": "list"}')
        found = ask_contact(server.port, b'{"cmd": "find", "args": {"name": "ALI"}}')
        missing = ask_contact(server.port, b'{"cmd": "find", "args": {"name": "zoe"}}')
        deleted = ask_contact(server.port, b'{"cmd": "delete", "args": {"name": "Bob"}}')
        deleted_again = ask_contact(server.port, b'{"cmd": "delete", "args": {"name": "Bob"}}')
        return add, again, listed, found, missing, deleted, deleted_again

    add, again, listed, found, missing, deleted, deleted_again = await asyncio.to_thread(scenario)
    assert add == {"status": True, "msg": "contact 'Alice' added",
                   "data": {"name": "Alice", "mail": "alice@example.org"}}
    assert again["status"] is False and "already exists" in again["msg"]
    assert listed["status"] is True
    assert listed["data"] == [{"name": "Alice", "mail": "alice@example.org"},
                              {"name": "Bob", "mail": "bob@example.org"}]
    assert found["data"] == [{"name": "Alice", "mail": "alice@example.org"}]
    assert missing["status"] is False and missing["data"] == []
    assert deleted["status"] is True and deleted_again["status"] is False

    # a new server on the same file sees the same book
    await registry.stop(server)
    server2 = await start(registry, journal, "contact", db=str(db))
    listed2 = await asyncio.to_thread(ask_contact, server2.port, b'{"cmd": "list"}')
    assert listed2["data"] == [{"name": "Alice", "mail": "alice@example.org"}]


async def test_contact_request_arriving_in_pieces(registry, journal, tmp_path):
    server = await start(registry, journal, "contact", db=str(tmp_path / "c.db"))

    def client():
        s = connect(server.port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = b'{"cmd": "add", "args": {"name": "Chlo\xc3\xa9 {x}", "mail": "c@x.fr"}}'
        for i in range(0, len(request), 7):
            s.sendall(request[i:i + 7])
            time.sleep(0.01)
        data = read_until_eof(s)
        s.close()
        return json.loads(data)

    reply = await asyncio.to_thread(client)
    assert reply["status"] is True and reply["data"]["name"] == "Chloé {x}"


BAD_REQUESTS = [
    (b'{"cmd": list}', "bad JSON"),
    (b'{"cmd": "list",}', "bad JSON"),
    (b'"list"', "one JSON object"),
    (b'[{"cmd": "list"}]', "one JSON object"),
    (b'{"args": {}}', 'missing "cmd"'),
    (b'{"cmd": 42}', '"cmd" must be a string, not a number'),
    (b'{"cmd": "drop"}', "unknown command 'drop'"),
    (b'{"cmd": "add", "args": ["Alice"]}', '"args" must be an object, not an array'),
    (b'{"cmd": "add", "args": {"name": "Alice"}}', "missing args.mail"),
    (b'{"cmd": "add", "args": {"name": 7, "mail": "a@b"}}', "args.name must be a string, not a number"),
    (b'{"cmd": "add", "args": {"name": "", "mail": "a@b"}}', "args.name must not be empty"),
    (b'{"cmd": "add", "args": {"name": "A", "mail": "nope"}}', "not a mail address"),
    (b'{"cmd": "delete", "args": {"name": null}}', "args.name must be a string, not null"),
    (b'{"cmd": "add", "args": {"name": "\xff\xfe", "mail": "a@b"}}', "not valid UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "one JSON object"),
    (b'{"deep": ' + b"[" * 30000 + b"]" * 30000 + b"}", "nested too deeply"),
]


@pytest.mark.parametrize(("request_bytes", "why"), BAD_REQUESTS, ids=[w for _, w in BAD_REQUESTS])
async def test_contact_refuses_bad_requests_with_a_reason(registry, journal, tmp_path, request_bytes, why):
    server = await start(registry, journal, "contact", db=str(tmp_path / "c.db"))
    reply = await asyncio.to_thread(ask_contact, server.port, request_bytes)
    assert reply["status"] is False
    assert why in reply["msg"]
    # and it carries on
    ok = await asyncio.to_thread(ask_contact, server.port, b'{"cmd": "list"}')
    assert ok["status"] is True


async def test_contact_oversized_request_is_refused_early(registry, journal, tmp_path):
    server = await start(registry, journal, "contact", db=str(tmp_path / "c.db"))

    def client():
        s = connect(server.port)
        s.sendall(b'{"cmd": "add", "args": {"name": "' + b"A" * 70000)
        try:  # the server answers and closes before we finish: stop sending when it does
            s.sendall(b"A" * 1_000_000)
        except OSError:
            pass
        try:
            data = read_until_eof(s)
        except OSError:  # our unread megabyte made the server's close a reset: the reply may be lost
            data = b""
        s.close()
        return data

    data = await asyncio.to_thread(client)
    assert not data or "too large" in json.loads(data)["msg"]
    assert any("too large" in (e.message or "") for e in journal.events(by_kind("info")))
    assert (await asyncio.to_thread(ask_contact, server.port, b'{"cmd": "list"}'))["status"] is True


async def test_contact_half_close_before_a_complete_request(registry, journal, tmp_path):
    server = await start(registry, journal, "contact", db=str(tmp_path / "c.db"))

    def client():
        s = connect(server.port)
        s.sendall(b'{"cmd": "li')
        s.shutdown(socket.SHUT_WR)
        data = read_until_eof(s)
        s.close()
        return json.loads(data)

    reply = await asyncio.to_thread(client)
    assert reply["status"] is False and "incomplete JSON request" in reply["msg"]


async def test_contact_silent_client_gets_a_timeout_reply(journal, registry, tmp_path):
    server = TcpServer(journal, ContactBehaviour(db=str(tmp_path / "c.db")), idle_timeout=0.5)
    await registry.start(server)

    def client():
        s = connect(server.port)
        s.sendall(b'{"cmd": ')
        data = read_until_eof(s)
        s.close()
        return json.loads(data)

    reply = await asyncio.to_thread(client)
    assert reply["status"] is False and "timed out after 0.5s" in reply["msg"]


async def test_contact_unusable_db_path_is_one_clear_error(registry, journal, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(NetlabError, match="cannot open the contact database"):
        await start(registry, journal, "contact", db=str(blocker / "sub" / "c.db"))


# -- robustness, for every TCP kind ---------------------------------------------------------------------------
TCP_KINDS = ["tcp-echo", "tcp-greet", "tcp-time", "tcp-finquit", "contact", "roles", "chat"]


@pytest.mark.parametrize("kind", TCP_KINDS)
async def test_random_and_oversized_bytes_never_stop_a_server(registry, journal, tmp_path, kind):
    options = {"db": str(tmp_path / "c.db")} if kind == "contact" else {}
    server = await start(registry, journal, kind, **options)
    rng = random.Random(kind)

    def fuzz():
        for size in (1, 17, 4096, 300_000):
            s = connect(server.port)
            blob = bytes(rng.getrandbits(8) for _ in range(min(size, 2048))) * (size // 2048 + 1)
            try:
                s.sendall(blob[:size].replace(b"QUIT", b"quit"))
                s.shutdown(socket.SHUT_WR)
                s.settimeout(2)
                while s.recv(65536):
                    pass
            except OSError:  # reset, broken pipe, not connected, timeout: a server may close on garbage
                pass
            s.close()

    await asyncio.to_thread(fuzz)
    assert server.status == SessionStatus.RUNNING
    assert not [e for e in journal.events(by_kind("error")) if "failed on data" in (e.message or "")]
    # still serving a well-behaved client
    s = await asyncio.to_thread(connect, server.port)
    s.close()


async def test_300_concurrent_clients_are_all_served(journal, registry):
    server = await start(registry, journal, "tcp-greet")

    async def one(i: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"client {i}".encode())
        await writer.drain()
        writer.write_eof()
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
        return data

    async with asyncio.timeout(60):
        replies = await asyncio.gather(*(one(i) for i in range(300)))
    assert replies == [f"Recu: client {i}".encode() for i in range(300)]
    assert server.total_connections == 300


async def test_a_silent_client_does_not_stall_the_others(journal, registry):
    server = await start(registry, journal, "tcp-echo")
    silent = socket.create_connection(("127.0.0.1", server.port))
    half = socket.create_connection(("127.0.0.1", server.port))
    half.sendall(b"no end of line, no EOF")
    try:
        started = time.monotonic()

        def client(i):
            s = connect(server.port)
            s.sendall(b"hello %d" % i)
            s.shutdown(socket.SHUT_WR)
            data = read_until_eof(s)
            s.close()
            return data

        replies = await asyncio.gather(*(asyncio.to_thread(client, i) for i in range(20)))
        assert replies == [b"hello %d" % i for i in range(20)]
        assert time.monotonic() - started < 5
        assert len(server.connections) == 2  # the two idle ones are still open, waiting
    finally:
        silent.close()
        half.close()


async def test_idle_timeout_closes_a_silent_client(journal, registry):
    from netlab_tui.engine.sockets.behaviours import EchoBehaviour

    server = TcpServer(journal, EchoBehaviour(), idle_timeout=0.3)
    await registry.start(server)
    s = await asyncio.to_thread(connect, server.port)
    assert await asyncio.to_thread(s.recv, 10) == b""  # closed by the server
    s.close()
    closes = journal.events(by_kind("close"))
    assert closes and closes[-1].meta["by"] == "timeout"


async def test_journal_stays_bounded_under_a_flood(registry):
    journal = Journal(max_events=500, max_bytes=256 * 1024)
    registry.journal = journal
    server = await registry.start(server_kinds()["tcp-echo"].create(journal, port=0))

    def flood():
        s = connect(server.port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        total = 0
        for _ in range(2000):
            s.sendall(os.urandom(512))
            total += len(s.recv(65536))
        s.close()
        return total

    await asyncio.to_thread(flood)
    assert len(journal) <= 500 and journal.bytes_used <= 256 * 1024
    assert journal.dropped > 0 and journal.total == journal.dropped + len(journal)


async def test_greet_and_contact_on_ipv6(registry, journal, tmp_path):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    server = await start(registry, journal, "tcp-greet", host="::1")
    assert server.address == f"[::1]:{server.port}"

    def client():
        s = connect(server.port, "::1")
        s.sendall(b"six")
        data = s.recv(1024)
        s.close()
        return data

    assert await asyncio.to_thread(client) == b"Recu: six"
    contact = await start(registry, journal, "contact", host="::1", db=str(tmp_path / "c.db"))

    def contact_client():
        s = connect(contact.port, "::1")
        s.sendall(b'{"cmd": "list"}')
        data = read_until_eof(s)
        s.close()
        return json.loads(data)

    assert (await asyncio.to_thread(contact_client))["status"] is True


async def test_several_servers_at_once_each_on_its_port(registry, journal, tmp_path):
    servers = [await start(registry, journal, kind, **({"db": str(tmp_path / "c.db")} if kind == "contact" else {}))
               for kind in TCP_KINDS]
    assert len({s.port for s in servers}) == len(TCP_KINDS)
    assert all(s.status == SessionStatus.RUNNING for s in servers)
    assert sorted(s.name.split("@")[0] for s in registry.sessions("server")) == sorted(TCP_KINDS)
