"""Read what the PHP script wrote.

netlab runs it as: python reader.py FILE
"""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as fh:
    data = json.load(fh)
print(f"{data['from']} says {data['answer']}, in a list of {len(data['list'])}")
