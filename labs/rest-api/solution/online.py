"""Print the names of the users who are online.

netlab runs it as: python online.py BASE_URL
"""

import sys

import httpx

response = httpx.get(f"{sys.argv[1]}/api/users", timeout=5)
response.raise_for_status()
users = response.json()
# Print the name of each user whose status is "online", one per line.
for user in users:
    if user["status"] == "online":
        print(user["name"])
