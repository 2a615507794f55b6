from netlab_tui.engine.inspect.decoders import decode, ranked

from ._helpers import tags_of

XML = (b'<?xml version="1.0" encoding="utf-8"?><catalog><!-- books --><book id="1" lang="en">'
       b"<title>Networking &amp; You</title><price>9.50</price><blurb><![CDATA[<b>bold</b>]]></blurb>"
       b"</book><empty/></catalog>")
HTML = (b"<!DOCTYPE html><html><head><title>Lab</title><style>p { color: red }</style></head>"
        b"<body><h1 class=big>Hello</h1><p>First<p>Second<br><img src=a.png alt=''>"
        b"<ul><li>one<li>two</ul></span></body></html>")


def test_xml_is_indented_with_tags_attributes_and_text(golden):
    view = decode(XML)
    assert view.decoder == "xml"
    golden(view, "xml/catalog")
    assert tags_of(view, "price") == {"keyword"}
    assert tags_of(view, "lang") == {"key"}
    assert tags_of(view, '"en"') == {"string"}


def test_html_outline_closes_implied_tags_and_flags_stray_ones(golden):
    view = decode(HTML)
    assert view.decoder == "html"
    golden(view, "xml/html")
    assert tags_of(view, "</span> closes nothing that is open") == {"warning"}


def test_entity_declarations_are_refused_not_expanded():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b"<lolz>&lol2;</lolz>")
    assert all(d.name != "xml" for _s, d in ranked(bomb))
    view = decode(bomb, None, "xml")
    assert view.decoder == "hex"
    assert "declares entities" in view.note


def test_malformed_xml_is_not_claimed():
    assert all(d.name != "xml" for _s, d in ranked(b"<a><b></a>"))
