"""A small HTTP server.

netlab runs it as: python web_server.py PORT
"""

import http.server
import json  # noqa: F401  (for /add)
import sys
import urllib.parse  # noqa: F401  (for /add)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.reply(200, "Hello, netlab", "text/plain; charset=utf-8")

    def reply(self, status: int, text: str, content_type: str) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


port = int(sys.argv[1])
with http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler) as server:
    print(f"serving on http://127.0.0.1:{port}/", flush=True)
    server.serve_forever()
