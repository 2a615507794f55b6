"""The contact book's framing, request checks and SQLite store, without sockets."""

import json
import sqlite3

import pytest

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.sockets import contacts
from netlab_tui.engine.sockets.contacts import ContactBook, JsonRequestReader, RequestError, handle_request


def feed_bytewise(reader: JsonRequestReader, data: bytes):
    for i in range(len(data)):
        doc = reader.feed(data[i:i + 1])
        if doc is not None:
            return doc, i + 1
    return None, len(data)


@pytest.mark.parametrize("doc", [
    b'{"cmd": "list"}',
    b'  \r\n{"cmd": "add", "args": {"name": "a}b{c", "mail": "x@y"}}',
    b'{"s": "quote \\" and brace } inside", "n": [1, [2, {"k": []}]]}',
    b'{"s": "backslash at end \\\\"}',
    '{"name": "Zoë ✓ 🙂"}'.encode(),
])
def test_reader_finds_the_end_of_one_object_byte_by_byte(doc):
    reader = JsonRequestReader()
    found, used = feed_bytewise(reader, doc + b'{"next": 1}')
    assert found == doc.lstrip()
    assert used == len(doc)
    json.loads(found)


def test_reader_returns_the_object_even_with_bytes_after_it_in_the_same_chunk():
    assert JsonRequestReader().feed(b'{"cmd": "list"}\n{"cmd": "other"}') == b'{"cmd": "list"}'


def test_reader_waits_for_more_on_whitespace_and_incomplete_objects():
    reader = JsonRequestReader()
    assert reader.feed(b"   \n") is None
    assert reader.feed(b'{"cmd": "li') is None
    assert "incomplete JSON request" in reader.incomplete_reason()
    assert reader.feed(b'st"}') == b'{"cmd": "list"}'
    assert "empty request" in JsonRequestReader().incomplete_reason()


@pytest.mark.parametrize("garbage", [b"\x00\x01\x02", b"GET / HTTP/1.1\r\n", b"[1, 2]", b'"list"', b"42"])
def test_reader_refuses_anything_that_cannot_be_an_object_at_once(garbage):
    with pytest.raises(RequestError, match="one JSON object"):
        JsonRequestReader().feed(garbage)


def test_reader_refuses_oversized_requests():
    reader = JsonRequestReader(limit=100)
    assert reader.feed(b'{"a": "' + b"x" * 90) is None
    with pytest.raises(RequestError, match="too large"):
        reader.feed(b"x" * 20)
    with pytest.raises(RequestError, match="too large"):
        JsonRequestReader(limit=10).feed(b" " * 11)


def test_handle_request_never_raises_on_random_bytes(tmp_path):
    import random

    book = ContactBook(tmp_path / "c.db")
    rng = random.Random(3)
    for _ in range(300):
        raw = b"{" + bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 60))) + b"}"
        reply = handle_request(book, raw)
        assert reply["status"] is False and reply["msg"]
        assert set(reply) == {"status", "msg", "data"}


def test_book_add_list_find_delete(tmp_path):
    book = ContactBook(tmp_path / "book.sqlite3")
    assert book.add("Alice", "alice@example.org")
    assert book.add("bob", "bob@example.org")
    assert not book.add("Alice", "again@example.org")
    assert book.list() == [{"name": "Alice", "mail": "alice@example.org"}, {"name": "bob", "mail": "bob@example.org"}]
    assert book.find("EXAMPLE") == book.list()
    assert book.find("100%") == []  # LIKE wildcards in the query are literal
    assert book.delete("bob") and not book.delete("bob")
    book.close()
    with sqlite3.connect(tmp_path / "book.sqlite3") as db:  # a real SQLite file, readable by anyone
        assert db.execute("SELECT name, mail FROM contacts").fetchall() == [("Alice", "alice@example.org")]


def test_execute_replies_in_the_course_shape(tmp_path):
    book = ContactBook(tmp_path / "c.db")
    reply = handle_request(book, b'{"cmd": "add", "args": {"name": "  Ana ", "mail": "ana@x.fr"}}')
    assert reply == {"status": True, "msg": "contact 'Ana' added", "data": {"name": "Ana", "mail": "ana@x.fr"}}
    assert handle_request(book, b'{"cmd": "list", "args": null}')["data"] == [{"name": "Ana", "mail": "ana@x.fr"}]
    long_name = "n" * (contacts.MAX_FIELD + 1)
    reply = handle_request(book, json.dumps({"cmd": "add", "args": {"name": long_name, "mail": "a@b"}}).encode())
    assert reply["status"] is False and "longer than" in reply["msg"]


def test_default_path_is_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    book = ContactBook()
    assert book.path == tmp_path / "data" / "netlab" / "contacts.sqlite3"
    assert book.path.exists()
    book.close()


def test_unusable_path_is_a_netlab_error(tmp_path):
    with pytest.raises(NetlabError, match="cannot open the contact database"):
        ContactBook(tmp_path)  # a directory, not a file
