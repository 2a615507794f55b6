from netlab_tui.engine.inspect.decoders import decode, ranked

from ._helpers import tags_of

DOC = b'{"name": "Alice", "age": 30, "ratio": 1.10, "tags": ["a", "b"], "ok": true, "none": null, "empty": {}}'


def best(data: bytes, meta=None) -> str:
    return ranked(data, meta)[0][1].name


def test_pretty_keeps_numbers_as_spelled_and_tags_types(golden):
    view = decode(DOC, None, "json")
    golden(view, "json/pretty")
    assert "1.10" in view.plain()  # json.loads would print 1.1
    assert tags_of(view, '"name"') == {"key"}
    assert tags_of(view, '"Alice"') == {"string"}
    assert tags_of(view, "30") == {"number"}
    assert tags_of(view, "true") == {"keyword"}


def test_tree_shows_paths_types_and_sizes(golden):
    golden(decode(DOC, None, "json-tree"), "json/tree")


def test_duplicate_keys_are_all_shown(golden):
    view = decode(b'{"a": 1, "a": 2}', None, "json")
    golden(view, "json/duplicates")
    assert view.plain().count('"a"') == 2


def test_json_lines_are_documents_one_by_one(golden):
    data = b'{"cmd": "join", "name": "bob"}\n{"cmd": "say", "text": "hi"}\n'
    view = decode(data, None, "auto")
    assert view.decoder == "json"
    golden(view, "json/lines")


def test_fit_prefers_json_for_objects_but_not_for_bare_words():
    assert best(DOC) == "json"
    assert best(b"[1, 2, 3]") == "json"
    assert best(b"42\n") == "text"  # valid JSON, but a line of text is far more likely
    assert best(b"true") == "text"
    assert best(b"42", {"content_type": "application/json; charset=utf-8"}) == "json"
    assert best(b"{not json}") == "text"


def test_broken_json_falls_back_to_hex_with_a_reason():
    view = decode(b'{"a": ', None, "json")
    assert view.decoder == "hex"
    assert "JSON could not decode" in view.note
