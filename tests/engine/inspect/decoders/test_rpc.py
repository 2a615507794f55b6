import xmlrpc.client

from netlab_tui.engine.inspect.decoders import decode, ranked

from ._helpers import tags_of


def test_xmlrpc_call_shows_the_call_and_typed_params(golden):
    data = xmlrpc.client.dumps((2, "three", [1.5, True], {"k": b"\x00\x01"}), "math.add").encode()
    assert ranked(data)[0][1].name == "rpc"
    view = decode(data)
    golden(view, "rpc/xmlrpc_call")
    assert view.title == "XML-RPC call math.add()"


def test_xmlrpc_response_and_fault(golden):
    golden(decode(xmlrpc.client.dumps((5,), methodresponse=True).encode()), "rpc/xmlrpc_response")
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(-32601, "method 'sub' not supported")).encode()
    view = decode(fault)
    golden(view, "rpc/xmlrpc_fault")
    assert tags_of(view, "fault ") == {"error"}


def test_jsonrpc_call_notification_result_error_batch(golden):
    batch = (b'[{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1},'
             b' {"jsonrpc": "2.0", "method": "notify_hello", "params": {"name": "bob"}},'
             b' {"jsonrpc": "2.0", "result": 19, "id": 1},'
             b' {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "2"}]')
    view = decode(batch)
    assert view.decoder == "rpc"
    golden(view, "rpc/jsonrpc_batch")


def test_jsonrpc_mistakes_are_pointed_out():
    view = decode(b'{"jsonrpc": "1.5", "method": "x", "params": 3, "id": 1}')
    assert "must be \"2.0\"" in view.plain()
    assert "params must be an array or an object" in view.plain()


def test_plain_json_is_not_rpc():
    assert ranked(b'{"method": "x"}')[0][1].name == "json"
    assert ranked(b'{"result": 1}')[0][1].name == "json"
