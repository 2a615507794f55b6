"""A JSON-RPC call written by hand: a three-day weather forecast.

netlab runs it as: python forecast.py URL
"""

import sys

import httpx

request = {"method": "weather_forecast", "params": [3], "id": 1}
answer = httpx.post(f"{sys.argv[1].rstrip('/')}/jsonrpc", json=request, timeout=5).json()
if "error" in answer:
    sys.exit(f"error {answer['error']['code']}: {answer['error']['message']}")
for day in answer["result"]:
    print(f"{day['date']}: {day['summary']}, {day['temp_min']} to {day['temp_max']} °C")
