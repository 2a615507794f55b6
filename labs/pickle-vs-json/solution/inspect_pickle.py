"""Show what a pickle file would do — without loading it.

netlab runs it as: python inspect_pickle.py FILE
"""

import pickletools
import sys

path = sys.argv[1]
with open(path, "rb") as fh:
    data = fh.read()
print(f"{path}: {len(data)} bytes")
# Never pickle.load() this. Print its disassembly instead.
pickletools.dis(data)
