from netlab_tui.engine.inspect.decoders import decode
from netlab_tui.engine.inspect.decoders.text import choose_encoding

from ._helpers import tags_of


def test_control_characters_are_visible(golden):
    view = decode(b"USER bob\r\nPASS x\x00y\ttab\x1b[0m\n", None, "text")
    golden(view, "text/controls")
    assert tags_of(view, "\\r") == {"ctrl"}
    assert tags_of(view, "\\0") == {"ctrl"}
    assert tags_of(view, "\\e") == {"ctrl"}


def test_encoding_choice():
    assert choose_encoding(b"caf\xc3\xa9", None) == ("utf-8", "")
    assert choose_encoding(b"caf\xe9 au lait", None) == ("latin-1", "not utf-8")
    assert choose_encoding(b"caf\xe9\n", None) == ("latin-1", "not utf-8")  # short, but clearly not UTF-8
    assert choose_encoding(b"caf\xc3", None) == ("utf-8", "")  # an é cut in half at the end of a chunk
    assert choose_encoding(b"\xff\xfeh\x00i\x00", None) == ("utf-16-le", "BOM")
    assert choose_encoding(b"x", {"content_type": "text/plain; charset=ISO-8859-1"}) == ("iso-8859-1", "charset")
    assert choose_encoding(b"x", {"encoding": "cp1252"}) == ("cp1252", "")


def test_utf16_with_bom_decodes(golden):
    view = decode("héllo\n".encode("utf-16"), None, "text")
    golden(view, "text/utf16")
    assert "héllo" in view.plain()


def test_asking_for_an_encoding_that_does_not_fit_says_so():
    view = decode(b"caf\xe9", {"encoding": "utf-8"}, "text")
    assert view.note.startswith("not valid utf-8 at byte 3")
    assert "caf\\xe9" in view.plain()
