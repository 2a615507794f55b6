"""Send a message to a TCP server, several times, and print the replies."""

import argparse
import socket

parser = argparse.ArgumentParser(description="Send a message to a TCP server and print the replies.")
parser.add_argument("message", help="what to send")
parser.add_argument("--host", default="127.0.0.1", help="the server's address (default: 127.0.0.1)")
parser.add_argument("--port", type=int, required=True, help="the server's port")
parser.add_argument("--count", type=int, default=1, help="how many times to send the message")
args = parser.parse_args()

for _ in range(args.count):
    with socket.create_connection((args.host, args.port), timeout=5) as sock:
        sock.sendall(args.message.encode("utf-8"))
        print(sock.recv(1024).decode("utf-8"))
