"""Create, modify, rename and delete a file in a folder, pausing between the changes.

netlab runs it as: python make_changes.py FOLDER
"""

import os
import sys
import time

folder = sys.argv[1]
notes = os.path.join(folder, "notes.txt")
with open(notes, "w") as fh:
    fh.write("first line\n")
time.sleep(0.3)
with open(notes, "a") as fh:
    fh.write("second line\n")
time.sleep(0.3)
os.rename(notes, os.path.join(folder, "notes.md"))
time.sleep(0.3)
os.remove(os.path.join(folder, "notes.md"))
print("created, modified, renamed and deleted notes.txt")
