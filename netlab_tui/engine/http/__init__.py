"""HTTP: the asyncio + h11 server that journals exact bytes (``server``), the httpx client that records
the bytes on the socket (``client``), the course's lab server ``netlab serve http`` (``lab``) and the
SQLite store behind its users/messages API (``db``).

May import: ``engine.core``; ``lab`` also mounts the RPC endpoints of ``engine.rpc.server`` (the lab
server answers XML-RPC and JSON-RPC too).
"""
