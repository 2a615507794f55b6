import json

from netlab_tui.engine.core.events import CONTRACT_KEYS, TrafficEvent, format_addr, new_conn_id, sockaddr_str


def test_to_dict_has_every_contract_key_in_order():
    event = TrafficEvent(source="tcp-echo@127.0.0.1:9", proto="tcp", kind="listen", local="127.0.0.1:9")
    data = event.to_dict()
    assert tuple(data) == CONTRACT_KEYS
    assert data["size"] == 0 and data["hex"] is None and data["text"] is None and data["peer"] is None


def test_data_event_carries_exact_bytes_as_hex_and_text_with_replacement():
    payload = b"caf\xc3\xa9 \xff\x00"
    event = TrafficEvent(source="s", proto="tcp", kind="data", direction="in", payload=payload)
    data = json.loads(event.to_json())
    assert data["size"] == len(payload)
    assert bytes.fromhex(data["hex"]) == payload
    assert data["text"] == "café \ufffd\x00"
    assert data["direction"] == "in"


def test_message_fills_text_only_without_payload():
    event = TrafficEvent(source="s", proto="tcp", kind="error", message="connection reset")
    assert event.to_dict()["text"] == "connection reset"
    assert event.to_dict()["hex"] is None


def test_round_trip_through_dict():
    event = TrafficEvent(source="s", proto="udp", kind="data", direction="out", local="[::1]:5",
                         peer="[::1]:6", conn="udp-1", payload=b"\x01\x02", meta={"k": 1})
    again = TrafficEvent.from_dict(json.loads(event.to_json()))
    assert again.to_dict() == event.to_dict()


def test_from_dict_rejects_non_events():
    import pytest

    with pytest.raises(ValueError, match="missing"):
        TrafficEvent.from_dict({"ts": 1})


def test_addresses_bracket_ipv6():
    assert format_addr("::1", 80) == "[::1]:80"
    assert format_addr("127.0.0.1", 80) == "127.0.0.1:80"
    assert sockaddr_str(("::1", 8080, 0, 0)) == "[::1]:8080"
    assert sockaddr_str(None) is None


def test_summary_makes_control_characters_visible_on_one_line():
    event = TrafficEvent(source="s", proto="tcp", kind="data", payload=b"GET / HTTP/1.1\r\nHost: x\r\n")
    summary = event.summary(80)
    assert "\n" not in summary and "\r" not in summary
    assert summary.startswith("GET / HTTP/1.1␍␊Host")


def test_conn_ids_are_unique():
    assert new_conn_id("tcp") != new_conn_id("tcp")


def test_host_is_in_the_contract_and_costs_nothing_outside_topologies():
    from netlab_tui.engine.core.events import HostEvent

    plain = TrafficEvent("s", "tcp", "data", "in", payload=b"hi")
    assert plain.to_dict()["host"] is None
    assert not hasattr(plain, "__dict__")  # no per-event dict: host is a class attribute here
    hosted = HostEvent("s", "tcp", "data", "in", payload=b"hi", host="h2")
    data = hosted.to_dict()
    assert tuple(data) == CONTRACT_KEYS and data["host"] == "h2"
    back = TrafficEvent.from_dict(data)
    assert back.host == "h2" and back.payload == b"hi" and back.to_dict() == data
    assert TrafficEvent.from_dict(plain.to_dict()).host is None
