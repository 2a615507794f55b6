"""SSH: the paramiko client with host keys checked as OpenSSH does (``client``), the lab SSH server
(``server``) and its catalogue entry, registered without importing paramiko (``kind``).

May import: ``engine.core``.
"""
