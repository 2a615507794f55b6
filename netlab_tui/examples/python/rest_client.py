"""REST from Python with only the standard library (http.client), as the course starts:
the same exchange as php/rest_client.php.

    python3 rest_client.py [HOST:PORT]     (default 127.0.0.1:8080)
"""

import http.client
import json
import sys


def call(conn: http.client.HTTPConnection, method: str, path: str, body=None):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()  # read it all before the next request on this keep-alive connection
    return response.status, json.loads(response.read())


def main(address: str) -> int:
    host, _, port = address.partition(":")
    conn = http.client.HTTPConnection(host, int(port or 8080), timeout=10)
    status, users = call(conn, "GET", "/api/users")
    print(f"GET /api/users -> {status}: {', '.join(u['name'] for u in users)}")
    status, user = call(conn, "PATCH", "/api/users/1", {"status": "busy"})
    print(f"PATCH /api/users/1 -> {status}: {user['name']} is now {user['status']}")
    status, message = call(conn, "POST", "/api/messages", {"from": 1, "to": 2, "text": "Hello from Python"})
    print(f"POST /api/messages -> {status}: message {message['id']}")
    status, messages = call(conn, "GET", "/api/messages?to=2")
    print(f"GET /api/messages?to=2 -> {status}: {len(messages)} message(s)")
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080"))
