"""Send a profile to the echo server and read it back.

netlab runs it as: python send_profile.py HOST PORT
"""

import json
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
profile = {"name": "Ada", "languages": ["python", "c"]}

with socket.create_connection((host, port), timeout=5) as sock:
    sock.sendall(json.dumps(profile).encode("utf-8"))
    sock.shutdown(socket.SHUT_WR)
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)

echo = json.loads(b"".join(chunks))  # JSON is data: decoding it runs no code
print(f"{echo['name']} speaks {', '.join(echo['languages'])}")
