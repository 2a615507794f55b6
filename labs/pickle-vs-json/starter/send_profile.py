"""Send a profile to the echo server and read it back.

netlab runs it as: python send_profile.py HOST PORT
"""

import pickle
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
profile = {"name": "Ada", "languages": ["python", "c"]}

with socket.create_connection((host, port), timeout=5) as sock:
    sock.sendall(pickle.dumps(profile))
    sock.shutdown(socket.SHUT_WR)
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)

reply = b"".join(chunks)
# The echo is the pickle sent above. Turning it back into a dict with pickle's loader would run
# whatever the bytes say (the first step showed how): exchange JSON instead and decode it with
# json.loads, then print "<name> speaks <languages, comma-separated>".
print(reply)
