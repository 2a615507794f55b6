"""The ``ssh`` server kind, registered without importing paramiko (a tenth of a second at start-up):
the server itself, ``ssh_server.SshLabServer``, is imported when one is created."""

from __future__ import annotations

from typing import Any

from netlab_tui.engine.core.catalog import ServerKind, ServerOption, register_server
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import Session


def _factory(journal: Journal, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Session:
    from .server import SshLabServer

    return SshLabServer(journal, host=host, port=port, **options)


register_server(ServerKind(
    name="ssh",
    title="SSH lab server",
    summary="SSH server (paramiko): key or password login, runs commands as you",
    proto="ssh",
    factory=_factory,
    options=(
        ServerOption("password", "login password (default: a random one, shown at start; a password given here "
                                 "is visible to local users in ps)", metavar="TEXT"),
        ServerOption("authorized-keys", "public keys allowed to log in (default ~/.ssh/authorized_keys)",
                     metavar="FILE"),
        ServerOption("host-key", "private host key, generated if missing (default: in netlab's data directory)",
                     metavar="FILE"),
    ),
    default_port=2222,
))
