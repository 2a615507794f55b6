"""Answer each line with the time it was received, for several clients at once.

netlab runs it as: python threaded_server.py PORT
"""

import socketserver
import sys
import time


class TimestampHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for line in self.rfile:  # one line at a time, until the client closes
            stamp = time.strftime("%H:%M:%S")
            self.wfile.write(f"received at {stamp}: ".encode() + line)


port = int(sys.argv[1])
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", port), TimestampHandler) as server:
    print(f"listening on port {port}", flush=True)
    server.serve_forever()
