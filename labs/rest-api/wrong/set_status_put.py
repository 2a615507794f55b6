"""Change a user's status.

netlab runs it as: python set_status.py BASE_URL USER_ID STATUS
"""

import sys

import httpx

base, user_id, status = sys.argv[1], sys.argv[2], sys.argv[3]
response = httpx.put(f"{base}/api/users/{user_id}", json={"status": status}, timeout=5)
print(response.status_code, response.json())
sys.exit(0 if response.is_success else 1)
