from netlab_tui.engine.inspect.decoders import decode, ranked
from netlab_tui.engine.inspect.decoders.form import parse_form


def test_fields_are_percent_decoded_with_the_raw_spelling_beside(golden):
    data = b"name=Alice+Smith&city=S%C3%A3o+Paulo&q=a%26b%3Dc&empty=&flag"
    view = decode(data, None, "auto")
    assert view.decoder == "form"
    golden(view, "form/fields")


def test_repeated_keys_stay_in_order():
    assert [(k, v) for k, v, *_ in parse_form(b"a=1&b=2&a=3")] == [("a", "1"), ("b", "2"), ("a", "3")]


def test_content_type_makes_it_a_form_even_for_one_field():
    assert ranked(b"a=b", {"content_type": "application/x-www-form-urlencoded"})[0][1].name == "form"
    assert ranked(b"a=b")[0][1].name == "text"  # on its own, as likely a line of a text protocol


def test_text_with_spaces_is_not_a_form():
    assert all(d.name != "form" for _s, d in ranked(b"hello world=1"))
