"""Send three datagrams to the UDP sink (and, once finished, FIN to stop it).

netlab runs it as: python sink_sender.py HOST PORT
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    for n in range(1, 4):
        sock.sendto(f"message {n}".encode(), (host, port))
    sock.sendto(b"FIN", (host, port))
    print("sent 3 datagrams and FIN")
