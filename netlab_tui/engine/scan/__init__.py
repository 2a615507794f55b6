"""Port scans: nmap (python-nmap's parser) or netlab's asyncio connect scanner, with the loopback policy
(``scanner``), and the same scan compared from several hosts over SSH (``compare``).

May import: ``engine.core``; ``compare`` runs the remote scans through ``engine.ssh.client``.
"""
