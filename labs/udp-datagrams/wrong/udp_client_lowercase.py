"""Send one datagram to the UDP echo server and print its reply.

netlab runs it as: python udp_client.py HOST PORT
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(2)
    sock.sendto(b"hello UDP", (host, port))
    try:
        data, sender = sock.recvfrom(2048)
    except TimeoutError:
        sys.exit("no reply within 2 s (yet sendto raised no error)")
    print(f"{data.decode('utf-8')} (from {sender[0]}:{sender[1]})")
