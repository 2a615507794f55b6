"""A chat bot: connects to the broker and answers every line that contains "ping" with "pong".

netlab runs it as: python chat_bot.py HOST PORT (and stops it when it is done)
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.create_connection((host, port)) as sock:
    print("connected to the broker", flush=True)
    for line in sock.makefile("rb"):  # one line at a time, as the broker forwards them
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        print("<", text, flush=True)
        if "ping" in text and not text.startswith("* "):
            sock.sendall(b"pong")  # no newline: the broker forwards whole lines only
