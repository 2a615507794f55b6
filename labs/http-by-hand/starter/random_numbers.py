"""Five random integers from the lab server's API, with http.client.

netlab runs it as: python random_numbers.py HOST PORT
"""

import http.client
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
connection = http.client.HTTPConnection(host, port, timeout=5)
connection.request("GET", "/api/random/int")
response = connection.getresponse()
body = response.read()
connection.close()
print(json.loads(body))
