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
    data = sock.recv(4096)  # one recv: forgot the loop, gets only what has arrived so far
    print(f"received {len(data)} bytes")
