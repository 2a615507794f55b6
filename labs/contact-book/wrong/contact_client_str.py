"""Add two contacts to the contact server, then print the whole book.

netlab runs it as: python contact_client.py HOST PORT
"""

import json
import socket
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])


def request(cmd: str, **args: str) -> dict:
    """Send one request; the server answers, then closes the connection."""
    with socket.create_connection((HOST, PORT), timeout=5) as sock:
        sock.sendall(json.dumps({"cmd": cmd, "args": args}))  # str, not bytes
        chunks = []
        while chunk := sock.recv(4096):  # until the server closes: b"" ends the loop
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


for name, mail in [("Ada Lovelace", "ada@example.org"), ("Grace Hopper", "grace@example.org")]:
    answer = request("add", name=name, mail=mail)
    print(answer["msg"])

book = request("list")
for contact in book["data"]:
    print(f"{contact['name']} <{contact['mail']}>")
