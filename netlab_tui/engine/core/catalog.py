"""The catalogue of server kinds: what ``netlab serve KIND`` and the TUI's Servers pane can start.

Each engine module registers its kinds with ``register_server``; ``server_kinds()`` imports the
built-in modules first, so the list is complete wherever it is asked for. A tool whose server pulls in
a library (h11, watchdog, paramiko …) registers from a light ``kind.py`` with a ``lazy_factory``, which
imports the server when one is created: listing the kinds (the Servers pane's first frame, ``serve --help``)
imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .journal import Journal
from .sessions import Session

# Modules that register server kinds when imported. Add a module here to add its kinds everywhere.
BUILTIN_MODULES: tuple[str, ...] = (
    "netlab_tui.engine.sockets.behaviours",
    "netlab_tui.engine.sockets.udp",
    "netlab_tui.engine.ssh.kind",
    "netlab_tui.engine.watch.kind",
    "netlab_tui.engine.http.kind",
    "netlab_tui.engine.rpc.kind",
)


@dataclass(frozen=True)
class ServerOption:
    """An option a server kind takes beyond host and port (``--db PATH``, ``--greeting TEXT`` …)."""

    name: str  # the CLI flag without dashes, and the factory's keyword with '-' -> '_'
    help: str
    default: Any = None
    type: Callable[[str], Any] = str
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class ServerKind:
    name: str  # "tcp-echo"
    title: str  # "TCP echo"
    summary: str  # one line for lists and --help
    proto: str  # "tcp", "udp", "http" …
    factory: Callable[..., Session]  # factory(journal, host=..., port=..., **options)
    options: tuple[ServerOption, ...] = field(default=())
    default_port: int = 0

    def create(self, journal: Journal, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Session:
        return self.factory(journal, host=host, port=port, **options)


_KINDS: dict[str, ServerKind] = {}
_loaded = False


def register_server(kind: ServerKind) -> ServerKind:
    _KINDS[kind.name] = kind
    return kind


def register_behaviour(server_cls: Any, behaviour_cls: Any, summary: str, *,
                       options: tuple[ServerOption, ...] = (), **server_options: Any) -> ServerKind:
    """Register the kind ``behaviour_cls.kind``: a ``server_cls`` (TcpServer, UdpServer …) running a new
    ``behaviour_cls(**options)``; ``server_options`` (e.g. ``idle_timeout``) go to the server."""

    def factory(journal: Journal, host: str = "127.0.0.1", port: int = 0, **behaviour_options: Any) -> Session:
        return server_cls(journal, behaviour_cls(**behaviour_options), host=host, port=port, **server_options)

    return register_server(ServerKind(name=behaviour_cls.kind, title=behaviour_cls.title, summary=summary,
                                      proto=server_cls.proto, factory=factory, options=options))


def lazy_factory(target: str) -> Callable[..., Session]:
    """A kind's factory that imports ``"package.module:callable"`` when the first server is created: the
    kind is listed without importing its server (and the library under it)."""
    module_name, _, attribute = target.partition(":")

    def factory(journal: Journal, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Session:
        create = getattr(importlib.import_module(module_name), attribute)
        return create(journal, host=host, port=port, **options)

    return factory


def server_kinds() -> dict[str, ServerKind]:
    global _loaded
    if not _loaded:
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        _loaded = True
    return dict(_KINDS)
