"""Where a session runs: this machine (no place), or one host of a multi-host topology.

A ``Place`` opens sockets inside its host and turns a command line into one that runs there. Whoever
starts a session on a host does it inside ``on_place(place)``; the session remembers the place when it is
created, opens its sockets through ``place_socket`` and runs its commands through ``place_command``, and
every event it publishes carries the place's name as ``host``. This is the one seam between the tools
and ``engine.topology``: the tools never import the topology.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
from collections.abc import Iterator, Sequence
from typing import Protocol


class Place(Protocol):
    name: str

    def socket(self, family: int, kind: int) -> socket.socket:
        """A new socket (blocking, unbound) inside this place's network namespace."""

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` rewritten to run inside this place's network namespace."""


class InsideHost:
    """The host this process already runs in (``netlab topo exec`` sets ``NETLAB_TOPO_HOST``): sockets and
    commands need no rewriting, but events still name the host."""

    def __init__(self, name: str) -> None:
        self.name = name

    def socket(self, family: int, kind: int) -> socket.socket:
        return socket.socket(family, kind)

    def command(self, argv: Sequence[str]) -> list[str]:
        return list(argv)


HOST_ENV = "NETLAB_TOPO_HOST"

current_place: contextvars.ContextVar[Place | None] = contextvars.ContextVar("netlab_place", default=None)


@contextlib.contextmanager
def on_place(place: Place | None) -> Iterator[None]:
    """Sessions created in this block run on ``place`` (``None``: this machine)."""
    token = current_place.set(place)
    try:
        yield
    finally:
        current_place.reset(token)


def place_from_environment(environ: dict[str, str]) -> None:
    """Inside ``netlab topo exec``: sessions of this process name the host their events happened on."""
    name = environ.get(HOST_ENV)
    if name:
        current_place.set(InsideHost(name))


def place_socket(place: Place | None, family: int, kind: int) -> socket.socket | None:
    """A non-blocking socket inside ``place``, or None on this machine (let asyncio open its own)."""
    if place is None or isinstance(place, InsideHost):
        return None
    sock = place.socket(family, kind)
    sock.setblocking(False)
    return sock


def place_command(place: Place | None, argv: Sequence[str]) -> list[str]:
    """``argv`` rewritten to run on ``place`` (unchanged on this machine)."""
    return list(argv) if place is None else place.command(argv)
