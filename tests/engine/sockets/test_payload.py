"""Payload building shared by ``netlab send`` and the client panes."""

import json

import pytest

from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.sockets.payload import HTTP_GET_TEMPLATE, build_json, encode, json_document, parse_hex


def test_hex_accepts_the_usual_spellings():
    assert parse_hex("48 65 6c 6c 6f") == b"Hello"
    assert parse_hex("0x48656C6C6F") == b"Hello"
    assert parse_hex("de:ad:be:ef\n00") == b"\xde\xad\xbe\xef\x00"
    with pytest.raises(NetlabError, match="not valid hex"):
        parse_hex("4")
    with pytest.raises(NetlabError, match="not valid hex"):
        parse_hex("zz")


def test_json_document_is_sent_as_json_dumps_would():
    assert json_document('{ "cmd" :\n "list" }') == json.dumps({"cmd": "list"}).encode()
    assert json_document('{"name": "Zoë"}') == '{"name": "Zoë"}'.encode()
    with pytest.raises(NetlabError, match="not valid JSON: Expecting value at line 1 column 9"):
        json_document('{"cmd": list}')


def test_fields_build_nested_typed_objects():
    doc = build_json(["cmd=add", "args.name=Jean Dupont", "args.mail=jd@x.fr", "args.age:=30",
                      "args.tags:=[\"a\"]", "flag:=true", "eq=a=b"])
    assert doc == {"cmd": "add", "args": {"name": "Jean Dupont", "mail": "jd@x.fr", "age": 30, "tags": ["a"]},
                   "flag": True, "eq": "a=b"}


@pytest.mark.parametrize(("fields", "why"), [
    (["novalue"], "has no value"),
    (["=x"], "empty key"),
    (["a..b=x"], "empty key"),
    (["n:=nope"], "is not JSON"),
    (["a=1", "a.b=2"], "already holds a value"),
    (["a.b=1", "a=2"], "already holds an object"),
])
def test_bad_fields_are_one_clear_error(fields, why):
    with pytest.raises(NetlabError, match=why):
        build_json(fields)


def test_encode_modes_and_line_endings():
    assert encode("hi", "text") == b"hi"
    assert encode("hi", "text", "lf") == b"hi\n"
    assert encode("hi", "text", "crlf") == b"hi\r\n"
    assert encode("41 42", "hex") == b"AB"
    assert encode('{"cmd": "list"}', "json") == b'{"cmd": "list"}'
    assert encode("cmd=find args.name='Jean Dupont'", "json") == \
        json.dumps({"cmd": "find", "args": {"name": "Jean Dupont"}}).encode()
    assert encode("42", "json") == b"42"
    with pytest.raises(NetlabError, match="nothing to send"):
        encode("  ", "json")
    with pytest.raises(NetlabError, match="unknown payload mode"):
        encode("x", "base64")


def test_http_template_is_a_valid_request_head():
    request = HTTP_GET_TEMPLATE.format(host="127.0.0.1:8080").encode()
    assert request.startswith(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert request.endswith(b"\r\n\r\n")


def test_escapes_in_a_one_line_field():
    from netlab_tui.engine.sockets.payload import unescape

    assert unescape(r"GET / HTTP/1.1\r\n\r\n") == b"GET / HTTP/1.1\r\n\r\n"
    assert unescape(r"a\tb\0c\\d\x41\xff") == b"a\tb\x00c\\dA\xff"
    assert unescape(r"\q stays") == b"\\q stays"  # an unknown escape is left as typed
    with pytest.raises(NetlabError, match="two hex digits"):
        unescape(r"\x4")
    assert encode(r"line\r\n", "text", escapes=True) == b"line\r\n"
    assert encode(r"line\r\n", "text") == b"line\\r\\n"  # without escapes, backslashes are just text


def test_escape_round_trips_any_bytes():
    import os

    from netlab_tui.engine.sockets.payload import escape, unescape

    for data in (HTTP_GET_TEMPLATE.encode(), "Zoë \\ ✓".encode(), bytes(range(256)), os.urandom(500)):
        line = escape(data)
        assert "\n" not in line and "\r" not in line
        assert unescape(line) == data
