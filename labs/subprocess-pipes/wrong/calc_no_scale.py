"""Talk to bc: one expression per line, one answer per line.

netlab runs it as: python calc.py
"""

import subprocess

# forgot "scale=2": bc divides to whole numbers
bc = subprocess.Popen(["bc", "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
bc.stdin.flush()
for expression in ["2+3", "10/4", "2^10"]:
    bc.stdin.write(expression + "\n")
    bc.stdin.flush()  # otherwise the line waits in our buffer, and bc waits for it
    answer = bc.stdout.readline().strip()
    print(f"{expression} = {answer}", flush=True)
bc.stdin.write("quit\n")
bc.stdin.close()
bc.wait()
