import pytest

from netlab_tui.engine.topology.model import TopologyError, parse_topology

THREE = """
[hosts.h1]
ip = "10.213.7.1/24"
[hosts.h2]
ip = "10.213.7.2/24"
[hosts.h3]
ip = "10.213.7.3/24"
[segments.lan]
hosts = ["h1", "h2", "h3"]
"""


def test_three_hosts_on_one_segment():
    topology = parse_topology(THREE, "three.toml")
    assert list(topology.hosts) == ["h1", "h2", "h3"]
    assert topology.hosts["h2"].ip == "10.213.7.2"
    assert topology.segments["lan"].hosts == ["h1", "h2", "h3"]
    assert topology.to_dict()["hosts"]["h3"]["addresses"] == ["10.213.7.3/24"]


def test_hosts_without_segments_share_one_link():
    topology = parse_topology('[hosts.a]\nip = "10.9.0.1/24"\n[hosts.b]\nip = "10.9.0.2/24"\n')
    assert topology.segments["lan"].hosts == ["a", "b"]


def test_a_router_host_has_one_address_per_segment():
    text = """
[hosts.r]
ip = ["10.1.0.1/24", "10.2.0.1/24"]
[hosts.a]
ip = "10.1.0.2/24"
[hosts.b]
ip = "10.2.0.2/24"
[segments.left]
hosts = ["r", "a"]
[segments.right]
hosts = ["r", "b"]
"""
    topology = parse_topology(text)
    assert [(i.segment, i.ip) for i in topology.hosts["r"].interfaces] == [("left", "10.1.0.1"), ("right", "10.2.0.1")]


@pytest.mark.parametrize(("text", "line", "words"), [
    ('[hosts.h1]\nip = "10.213.7.1"\n', 2, "invalid address"),
    ('[hosts.h1]\nip = "8.8.8.8/24"\n', 2, "private network"),
    ('[hosts.h1]\nip = "127.0.0.2/8"\n', 2, "private network"),
    ('[hosts.H1]\nip = "10.0.0.1/24"\n', 1, "invalid host name"),
    ('[hosts.h1]\nip = "10.0.0.1/24"\n[segments.lan]\nhosts = ["h1", "h9"]\n', 3, "unknown host 'h9'"),
    ('[hosts.h1]\nip = "10.0.0.1/24"\n[hosts.h2]\nip = "10.0.0.1/24"\n', 2, "given to both"),
    ('[hosts.h1]\nport = 3\nip = "10.0.0.1/24"\n', 1, "unknown key 'port'"),
    ('[hosts.h1\nip = "10.0.0.1/24"\n', 1, "invalid TOML"),
    ('colour = "red"\n', 1, "unknown key 'colour'"),
])
def test_errors_name_file_and_line(text, line, words):
    with pytest.raises(TopologyError) as caught:
        parse_topology(text, "bad.toml")
    message = str(caught.value)
    assert message.startswith(f"bad.toml:{line}: "), message
    assert words in message
    assert "\n" not in message
