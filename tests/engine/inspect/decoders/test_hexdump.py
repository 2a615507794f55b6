from netlab_tui.engine.inspect.decoders import decode


def test_offsets_two_groups_of_eight_and_ascii_column(golden):
    golden(decode(bytes(range(0x20, 0x20 + 40)) + b"\x00\xff", None, "hex"), "hex/basic")


def test_hex_is_the_fallback_for_binary():
    assert decode(bytes(range(16)) * 4).decoder == "hex"
