"""ls -l / | sort -k 2 -n, without a shell.

netlab runs it as: python pipeline.py
"""

import subprocess

ls = subprocess.Popen(["ls", "-l", "/"], stdout=subprocess.PIPE)
sort = subprocess.Popen(["sort", "-k", "2", "-n"], stdin=ls.stdout, stdout=subprocess.PIPE, text=True)
ls.stdout.close()  # sort owns the pipe's reading end now: ls gets SIGPIPE if sort exits
output, _ = sort.communicate()
ls.wait()
print(output, end="")
