import gzip

from netlab_tui.engine.inspect.decoders import decode, ranked
from netlab_tui.engine.inspect.decoders.http import inflate, parse_messages

from ._helpers import tags_of

REQUEST = (b"POST /api/users?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
           b"Content-Length: 27\r\n\r\n{\"name\": \"Alice\", \"age\": 3}")
CHUNKED = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"7\r\nHello, \r\n6\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n")


def test_request_line_headers_and_json_body(golden):
    assert ranked(REQUEST)[0][1].name == "http"
    view = decode(REQUEST)
    golden(view, "http/request_json")
    assert view.title == "HTTP request POST /api/users?x=1"
    assert tags_of(view, "POST") == {"keyword"}
    assert tags_of(view, "Content-Type") == {"key"}
    assert tags_of(view, '"Alice"') == {"string"}  # the body went through the JSON view


def test_chunked_response_is_reassembled_with_trailers(golden):
    view = decode(CHUNKED)
    golden(view, "http/chunked")
    assert "Hello, world!" in view.plain()
    assert "chunked: 2 chunks (7, 6)" in view.plain()


def test_gzip_body_is_inflated():
    body = gzip.compress(b'{"ok": true}')
    data = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body
    view = decode(data)
    assert "gzip → 12 bytes" in view.plain()
    assert '"ok": true' in view.plain()


def test_mistakes_are_warnings_next_to_what_could_be_read(golden):
    data = b"GET / HTTP/1.1\nAccept: */*\n\n"  # bare \n, and no Host
    view = decode(data)
    golden(view, "http/bare_lf")
    assert tags_of(view, "HTTP/1.1 request without a Host header") == {"warning"}


def test_short_body_is_reported_incomplete():
    messages, rest = parse_messages(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    assert messages[0].body == b"abc"
    assert not messages[0].complete
    assert "Content-Length says 10 bytes, 3 here" in messages[0].warnings[0]


def test_pipelined_messages_and_trailing_bytes(golden):
    data = (b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    messages, rest = parse_messages(data)
    assert [m.target for m in messages] == ["/a", "/b"]
    assert rest == b""
    golden(decode(data), "http/pipelined")


def test_head_and_204_responses_have_no_body():
    messages, rest = parse_messages(b"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n")
    assert messages[0].body == b""
    messages, _ = parse_messages(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", {"method": "HEAD"})
    assert messages[0].body == b"" and messages[0].complete


def test_response_without_length_reads_to_the_end():
    messages, _ = parse_messages(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>hi</body></html>")
    assert messages[0].body == b"<html><body>hi</body></html>"
    assert "── body: 28 bytes; HTML ──" in decode(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"
                                                 b"<html><body>hi</body></html>").plain()


def test_inflate_caps_and_reports():
    assert inflate(b"not gzip", "gzip")[1] == "gzip body could not be inflated"
    assert "not decoded here" in inflate(b"x", "br")[1]


def test_not_http_is_not_claimed():
    assert all(d.name != "http" for _s, d in ranked(b"GETTING / nothing\r\n"))
    assert all(d.name != "http" for _s, d in ranked(b"hello HTTP/1.1\r\n"))
