"""Send a message to a TCP server, several times, and print the replies.

Usage: python send.py HOST PORT COUNT MESSAGE   (to be replaced by options)
"""

import socket
import sys

host = sys.argv[1]
port = int(sys.argv[2])
count = int(sys.argv[3])
message = sys.argv[4]

for _ in range(count):
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(message.encode("utf-8"))
        print(sock.recv(1024).decode("utf-8"))
