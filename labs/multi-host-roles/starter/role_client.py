"""A client of the roles server: prints "role: ROLE" for every role the server gives it.

netlab runs it as: python role_client.py HOST PORT SECONDS (on h2, then on h3); it stays connected
for SECONDS seconds, then leaves.
"""

import socket
import sys
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

with socket.create_connection((host, port), timeout=5) as sock:
    line = sock.recv(100)
    print("role:", line.decode().strip(), flush=True)
    time.sleep(seconds)  # connected for a while, then leave
