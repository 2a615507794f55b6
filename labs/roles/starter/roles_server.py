"""The roles server: the first client is primary, the others secondary; promote on departure.

netlab runs it as: python roles_server.py PORT
"""

import selectors
import socket
import sys

port = int(sys.argv[1])
selector = selectors.DefaultSelector()
server = socket.create_server(("127.0.0.1", port))
server.setblocking(False)
selector.register(server, selectors.EVENT_READ)
print(f"listening on port {port}", flush=True)

while True:
    for key, _ in selector.select():
        sock = key.fileobj
        if sock is server:  # a new client
            conn, address = server.accept()
            conn.setblocking(False)
            selector.register(conn, selectors.EVENT_READ)
            conn.sendall(b"primary\n")
            print(f"{address[1]} connected", flush=True)
        else:  # a client sent something, or left
            data = sock.recv(1024)
            if not data:
                selector.unregister(sock)
                sock.close()
