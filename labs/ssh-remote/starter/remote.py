"""Run one command over SSH with paramiko, checking the server's host key.

netlab runs it as: python remote.py HOST PORT KNOWN_HOSTS PASSWORD
"""

import getpass
import os
import sys

import paramiko

host, port, known_hosts, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

client = paramiko.SSHClient()
if os.path.exists(known_hosts):
    client.load_host_keys(known_hosts)  # the servers whose keys we have checked
# No missing-host-key policy is set, so paramiko uses RejectPolicy: a server whose key is not in
# known_hosts is refused before any password is sent — connect() raises paramiko.SSHException.
client.connect(host, port, username=getpass.getuser(), password=password, timeout=5,
               look_for_keys=False, allow_agent=False)

with client:
    _stdin, stdout, stderr = client.exec_command("echo hello from ssh")
    print(stdout.read().decode(), end="")
    print(stderr.read().decode(), end="", file=sys.stderr)
    print("exit status", stdout.channel.recv_exit_status())
