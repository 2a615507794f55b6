"""A small HTTP server.

netlab runs it as: python web_server.py PORT
"""

import http.server
import json
import sys
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/hello":
            self.reply(200, "Hello, netlab", "text/plain; charset=utf-8")
        elif url.path == "/add":
            query = urllib.parse.parse_qs(url.query)
            try:
                result = int(query["a"][0]) + int(query["b"][0])
            except (KeyError, ValueError):
                self.send_error(400, "give two integers: /add?a=2&b=3")
                return
            self.reply(200, json.dumps({"result": result}), "application/json")
        else:
            self.send_error(404, "no such page")

    def do_POST(self) -> None:
        if urllib.parse.urlsplit(self.path).path != "/reverse":
            self.send_error(404, "no such page")
            return
        length = int(self.headers.get("Content-Length", 0))
        text = self.rfile.read(length).decode("utf-8")
        self.reply(200, text[::-1], "text/plain; charset=utf-8")

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
