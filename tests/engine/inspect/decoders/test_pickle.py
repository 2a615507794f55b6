import os
import pickle
import subprocess
import sys

from netlab_tui.engine.inspect.decoders import decode, ranked
from netlab_tui.engine.inspect.decoders.pickle import simulate

from ._helpers import tags_of


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_the_warning_names_every_import_and_call(golden):
    data = pickle.dumps([Exploit(), {"a": 1}], protocol=4)
    assert ranked(data)[0][1].name == "pickle"
    view = decode(data)
    golden(view, "pickle/reduce_os_system")
    plain = view.plain()
    assert "it would import: posix.system" in plain
    assert "it would call:   posix.system('echo pwned')" in plain
    assert tags_of(view, "STACK_GLOBAL") == {"warning"}
    assert tags_of(view, "REDUCE") == {"warning"}


def test_hand_written_protocol_0_pickle(golden):
    data = b"cos\nsystem\n(S'rm -rf ~'\ntR."
    assert ranked(data)[0][1].name == "pickle"  # above the text view
    golden(decode(data), "pickle/protocol0_global")


def test_plain_data_pickle_says_so_but_still_warns(golden):
    view = decode(pickle.dumps({"user": "alice", "scores": [1, 2, 3]}, protocol=2))
    golden(view, "pickle/plain_data")
    assert "No imports or calls" in view.plain()


def test_build_newobj_and_inst_are_reported():
    import collections

    fx = simulate(pickle.dumps(collections.OrderedDict(a=1), protocol=2))
    assert "collections.OrderedDict" in fx.imports
    assert any(call.startswith("collections.OrderedDict(") for call in fx.calls)
    fx = simulate(b"(i__main__\nThing\n(dp0\nS'x'\np1\nI1\nsb.")
    assert fx.imports == ["__main__.Thing"]
    assert fx.calls[0] == "__main__.Thing()"
    assert fx.calls[1].startswith("__main__.Thing().__setstate__({'x': 1})")


def test_truncated_pickle_is_shown_with_where_it_stopped():
    data = pickle.dumps(Exploit(), protocol=4)[:-5]
    view = decode(data, None, "pickle")
    assert view.decoder == "pickle"
    assert "the walk stopped early" in view.plain() or "truncated" in view.plain()
    assert "disassembly stopped" in view.plain()


class TouchFile:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_rendering_never_unpickles(tmp_path):
    # Pickles whose loading would create a file: decoding them in a fresh interpreter must not.
    markers = [tmp_path / "pwned4", tmp_path / "pwned0"]
    payloads = [pickle.dumps(TouchFile(markers[0]), protocol=4),
                b"cos\nsystem\n(S'touch " + str(markers[1]).encode() + b"'\ntR."]
    code = ("import sys; from netlab_tui.engine.inspect.decoders import decode; "
            "v = decode(sys.stdin.buffer.read()); print(v.title); print(v.plain())")
    for marker, payload in zip(markers, payloads):
        result = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert b"never loaded" in result.stdout
        assert f"system('touch {marker}')".encode() in result.stdout
        assert not marker.exists()
