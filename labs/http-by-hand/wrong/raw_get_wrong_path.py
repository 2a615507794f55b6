"""An HTTP request written by hand into a TCP socket.

netlab runs it as: python raw_get.py HOST PORT
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
request = (
    "GET /Get HTTP/1.1\r\n"  # paths are case-sensitive
    f"Host: {host}:{port}\r\n"
    "Connection: close\r\n"
    "\r\n"  # the empty line: the headers end here
)

with socket.create_connection((host, port), timeout=5) as sock:
    sock.sendall(request.encode("ascii"))
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)

response = b"".join(chunks).decode("utf-8", errors="replace")
status_line, _, rest = response.partition("\r\n")
print(status_line)
