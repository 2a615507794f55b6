"""A TCP server that answers each message with "Recu: " + the message.

netlab runs it as: python server.py PORT
"""

import socket
import sys

port = int(sys.argv[1])

with socket.create_server(("127.0.0.1", port)) as server:
    print(f"listening on port {port}", flush=True)
    while True:
        conn, address = server.accept()
        with conn:
            print(f"client {address[0]}:{address[1]} connected", flush=True)
            while True:
                data = conn.recv(1024)
                if not data:  # the client closed its side
                    break
                conn.sendall(b"recu: " + data)
            print("client gone", flush=True)
