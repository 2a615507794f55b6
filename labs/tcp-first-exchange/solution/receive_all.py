"""Send 50 000 bytes to the echo server, then read the whole echo back.

netlab runs it as: python receive_all.py HOST PORT
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
payload = b"x" * 50_000

with socket.create_connection((host, port), timeout=5) as sock:
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)  # "I am done sending": the server sees end-of-file
    chunks = []
    while True:
        chunk = sock.recv(4096)
        if chunk == b"":  # the server closed its side: the whole echo is here
            break
        chunks.append(chunk)
    data = b"".join(chunks)
    print(f"received {len(data)} bytes")
