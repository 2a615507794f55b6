"""The ``ssh`` server kind, registered without importing paramiko (a tenth of a second at start-up):
the server itself, ``server.SshLabServer``, is imported when one is created."""

from __future__ import annotations

from netlab_tui.engine.core.catalog import (
    ServerKind,
    ServerOption,
    lazy_factory,
    register_server,
)

register_server(ServerKind(
    name="ssh",
    title="SSH lab server",
    summary="SSH server (paramiko): key or password login, runs commands as you",
    proto="ssh",
    factory=lazy_factory("netlab_tui.engine.ssh.server:SshLabServer"),
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
