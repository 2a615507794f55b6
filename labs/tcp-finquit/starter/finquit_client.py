"""Send messages to the FIN/QUIT server, print each reply, and notice when the server hangs up.

netlab runs it as: python finquit_client.py HOST PORT
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.create_connection((host, port), timeout=5) as sock:
    for message in ["Hello", "Ça va ?"]:
        sock.sendall(message.encode("utf-8"))
        reply = sock.recv(1024)
        print(reply.decode("utf-8"))
    sock.sendall(b"FIN")
    # The server closes on FIN without answering: read once more and say so when recv returns b"".
