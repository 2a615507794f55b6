"""Send every change of a folder to a server, one JSON object per line.

netlab runs it as: python sync_client.py FOLDER HOST PORT, on h2 and on h3 (and stops it when it is done)
"""

import json  # noqa: F401  (you will need it)
import os
import socket
import sys
import time

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

folder, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(folder, exist_ok=True)  # each machine has its own folder
sock = socket.create_connection((host, port))


class Forward(FileSystemEventHandler):
    def on_any_event(self, event) -> None:
        if event.event_type in ("opened", "closed", "closed_no_write"):
            return  # not changes
        print("change:", event, flush=True)
        sock.sendall(str(event).encode() + b"\n")


observer = Observer()
observer.schedule(Forward(), folder, recursive=True)
observer.start()
print(f"watching {folder}", flush=True)
try:
    while True:
        time.sleep(1)
finally:
    observer.stop()
    observer.join()
