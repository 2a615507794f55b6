"""TCP and UDP: servers and clients on asyncio (``tcp``, ``udp``), the course's server behaviours
(``behaviours``: echo, greet, time, FIN/QUIT, chat, roles), the JSON contact book (``contacts``) and the
payload builder shared by the CLI and the client panes (``payload``).

May import: ``engine.core``.
"""
