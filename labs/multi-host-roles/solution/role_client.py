"""A client of the roles server: prints "role: ROLE" for every role the server gives it.

netlab runs it as: python role_client.py HOST PORT SECONDS (on h2, then on h3); it stays connected
for SECONDS seconds, then leaves.
"""

import socket
import sys
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + seconds

with socket.create_connection((host, port), timeout=5) as sock:
    pending = b""
    # Keep reading while connected: the server speaks again when this client is promoted.
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(100)
        except TimeoutError:
            break
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            print("role:", line.decode().strip(), flush=True)
