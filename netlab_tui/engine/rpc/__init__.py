"""Remote procedure calls: the course's XML-RPC service and the same methods as JSON-RPC 2.0
(``server``), and the client that shows each call's document (``client``).

May import: ``engine.core``; RPC rides on HTTP, so ``server`` uses ``engine.http.server`` and ``client``
uses ``engine.http.client``.
"""
