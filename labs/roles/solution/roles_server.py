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
members: list[socket.socket] = []  # in order of arrival: members[0] is the primary
print(f"listening on port {port}", flush=True)

while True:
    for key, _ in selector.select():
        sock = key.fileobj
        if sock is server:  # a new client
            conn, address = server.accept()
            conn.setblocking(False)
            selector.register(conn, selectors.EVENT_READ)
            members.append(conn)
            role = "primary" if len(members) == 1 else "secondary"
            conn.sendall(f"{role}\n".encode())
            print(f"{address[1]} connected: {role}", flush=True)
        else:  # a client sent something, or left
            try:
                data = sock.recv(1024)
            except ConnectionResetError:
                data = b""
            if not data:
                was_primary = members[0] is sock
                members.remove(sock)
                selector.unregister(sock)
                sock.close()
                if was_primary and members:
                    members[0].sendall(b"primary\n")
                    print("primary left: promoted the oldest secondary", flush=True)
