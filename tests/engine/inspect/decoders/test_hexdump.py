from netlab_tui.engine.inspect.decoders import decode


def test_offsets_two_groups_of_eight_and_ascii_column(golden):
    golden(decode(bytes(range(0x20, 0x20 + 40)) + b"\x00\xff", None, "hex"), "hex/basic")


def test_hex_is_the_fallback_for_binary():
    assert decode(bytes(range(16)) * 4).decoder == "hex"


def test_every_layout_keeps_16_bytes_a_row_within_its_width():
    from netlab_tui.engine.inspect.decoders import decode
    from netlab_tui.engine.inspect.decoders.hexdump import LAYOUTS, layout_width

    data = bytes(range(256)) * 2 + b"tail"
    for columns in (200, 77, 76, 70, 60, 57, 45, 40):
        view = decode(data, {"columns": columns}, "hex")
        rows = [line for line in view.lines]
        assert len(rows) == (len(data) + 15) // 16  # 16 bytes a row, whatever the width
        assert all(sum(len(text) for text, _ in row) <= max(columns, layout_width("hex", len(data))) for row in rows)
    widths = [layout_width(name, 100) for name in LAYOUTS]
    assert widths == sorted(widths, reverse=True) and widths[0] == 77
    assert "ASCII" in (decode(data, {"columns": 45}, "hex").note or "")  # the narrowest says what it left out
    assert decode(data, {"columns": 60}, "hex").lines[1][-1][0].strip() == "".join(chr(b) if 32 <= b < 127 else "." for b in data[16:32])
