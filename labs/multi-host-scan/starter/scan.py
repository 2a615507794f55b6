"""A TCP connect scanner: one line "open PORT" for each port that accepts a connection.

netlab runs it as: python scan.py HOST FIRST LAST (on h2, then on h3)
"""

import socket
import sys

host, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

for port in range(first, last + 1):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((host, port)):
            print(f"open {port}")
