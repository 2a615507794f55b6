"""A JSON body with httpx, then a status code that is not 200.

netlab runs it as: python post_json.py BASE_URL
"""

import sys

import httpx

base = sys.argv[1]
with httpx.Client(base_url=base, timeout=5) as client:
    response = client.post("/post", data={"name": "Ada"})
    print("echoed json:", response.json()["json"])
    missing = client.get("/status/404")
    print("status", missing.status_code, missing.reason_phrase)
