"""Send a message from alice (1) to bob (2), then read bob's messages.

netlab runs it as: python send_message.py BASE_URL
"""

import sys

import httpx

with httpx.Client(base_url=sys.argv[1], timeout=5) as client:
    created = client.post("/api/messages", json={"from": "1", "to": "2", "text": "hello bob"})
    print(created.status_code, created.json())
    if created.status_code != 201:
        sys.exit(1)
    names = {user["id"]: user["name"] for user in client.get("/api/users").json()}
    for message in client.get("/api/messages", params={"to": 2}).json():
        print(f"{names[message['from']]} -> {names[message['to']]}: {message['text']}")
