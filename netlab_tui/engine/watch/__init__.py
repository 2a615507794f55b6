"""Directory watching: watchdog events as journal events and forwarding to a TCP server (``watcher``), and
the ``watch-collector`` server kind that receives them (``collector``).

May import: ``engine.core``; ``collector`` is a TCP behaviour, so it uses ``engine.sockets``.
"""
