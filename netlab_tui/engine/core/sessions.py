"""Sessions — anything that runs — and the registry that lists them.

A session has a name, a status and ``start()``/``stop()``; it publishes ``TrafficEvent``s to the
journal through ``emit``. Subclasses implement ``_start``/``_stop``. The registry gives unique names,
tells listeners when a session changes, and stops everything on exit (the CLI and the TUI both rely
on ``stop_all``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import functools
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from .events import HostEvent, TrafficEvent
from .journal import Journal
from .place import Place, current_place

log = logging.getLogger(__name__)


class SessionStatus(enum.StrEnum):
    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class NetlabError(Exception):
    """An error with a message fit to show a user as one line (no traceback)."""


class Session:
    kind: ClassVar[str] = "session"  # e.g. "tcp-echo", "tcp-client"
    proto: ClassVar[str] = "netlab"
    role: ClassVar[str] = "other"  # "server", "client", "process", "scan", "watch" …

    def __init__(self, journal: Journal, name: str | None = None) -> None:
        self.journal = journal
        self.name = name or self.kind
        self.status = SessionStatus.NEW
        self.error: str | None = None
        self.registry: SessionRegistry | None = None
        self.stats: dict[str, int] = {"events": 0, "bytes_in": 0, "bytes_out": 0}
        self._done = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context: contextvars.Context | None = None
        # The host it runs on in a multi-host topology (engine.core.place), fixed when it is created.
        self.place: Place | None = current_place.get()
        self.host_name: str | None = self.place.name if self.place is not None else None

    # -- identity ------------------------------------------------------------------------------------
    def set_name(self, base: str) -> None:
        """Name the session once its real identity is known (e.g. the bound port)."""
        self.name = self.registry.unique_name(base, self) if self.registry else base
        self._changed()

    @property
    def description(self) -> str:
        """A short line for lists: address, target, command …"""
        return ""

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.status not in (SessionStatus.NEW, SessionStatus.STOPPED, SessionStatus.FAILED):
            raise NetlabError(f"{self.name} is already {self.status}")
        self._loop = asyncio.get_running_loop()
        # Callbacks handed over from threads run in the starter's context, so whatever the loop's
        # owner keeps in context variables (Textual's active app, for one) is there for subscribers.
        self._context = contextvars.copy_context()
        self._done = asyncio.Event()
        self.error = None
        self._set_status(SessionStatus.STARTING)
        try:
            await self._start()
        except BaseException as exc:
            self.error = str(exc) or exc.__class__.__name__
            self._set_status(SessionStatus.FAILED)
            self._done.set()
            raise
        if self.status == SessionStatus.STARTING:
            self._set_status(SessionStatus.RUNNING)

    async def stop(self) -> None:
        if self.status in (SessionStatus.STOPPED, SessionStatus.FAILED, SessionStatus.NEW):
            self._done.set()
            return
        if self.status == SessionStatus.STOPPING:
            await self._done.wait()
            return
        self._set_status(SessionStatus.STOPPING)
        try:
            await self._stop()
        finally:
            self.finished()

    def finished(self, error: str | None = None) -> None:
        """Mark the session as ended — by ``stop()`` or by itself (a server told to QUIT, a process that
        exited)."""
        if error:
            self.error = error
        if self.status not in (SessionStatus.STOPPED, SessionStatus.FAILED):
            self._set_status(SessionStatus.FAILED if error else SessionStatus.STOPPED)
        self._done.set()

    async def wait_closed(self) -> None:
        await self._done.wait()

    @property
    def running(self) -> bool:
        return self.status in (SessionStatus.STARTING, SessionStatus.RUNNING)

    async def _start(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _stop(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- events --------------------------------------------------------------------------------------
    def emit(
        self,
        kind: str,
        *,
        direction: str | None = None,
        payload: bytes | None = None,
        message: str | None = None,
        local: str | None = None,
        peer: str | None = None,
        conn: str | None = None,
        meta: dict[str, Any] | None = None,
        proto: str | None = None,
    ) -> TrafficEvent:
        event = (TrafficEvent if self.host_name is None else self._hosted)(
            source=self.name,
            proto=proto or self.proto,
            kind=kind,
            direction=direction,
            local=local,
            peer=peer,
            conn=conn,
            payload=payload,
            message=message,
            meta=meta,
        )
        stats = self.stats
        stats["events"] += 1
        if payload is not None:
            if direction == "in":
                stats["bytes_in"] += len(payload)
            elif direction == "out":
                stats["bytes_out"] += len(payload)
        return self.journal.publish(event)

    def _hosted(self, **fields: Any) -> TrafficEvent:
        return HostEvent(host=self.host_name, **fields)

    def emit_threadsafe(self, kind: str, **fields: Any) -> None:
        """``emit`` from a worker thread (paramiko, nmap, watchdog)."""
        self.call_threadsafe(functools.partial(self.emit, kind, **fields))

    def call_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` on the session's loop, from any thread — the one hand-over every
        threaded session uses. It runs in the starter's context (see ``start``); once the loop has
        closed (the program is ending) the call is dropped."""
        if self._loop is None:
            raise RuntimeError("session was never started on a loop")
        with contextlib.suppress(RuntimeError):  # the loop closed while the thread was blocked
            self._loop.call_soon_threadsafe(callback, *args, context=self._context)

    # -- helpers -------------------------------------------------------------------------------------
    def _set_status(self, status: SessionStatus) -> None:
        self.status = status
        self._changed()

    def _changed(self) -> None:
        if self.registry is not None:
            self.registry._notify(self)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {self.name!r} {self.status}>"


Listener = Callable[[Session], None]


class SessionRegistry:
    """Every session of one netlab process. Names are unique among the sessions it holds."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._sessions: dict[int, Session] = {}
        self._listeners: list[Listener] = []

    def add(self, session: Session) -> Session:
        session.registry = self
        session.name = self.unique_name(session.name, session)
        self._sessions[id(session)] = session
        self._notify(session)
        return session

    async def start(self, session: Session) -> Session:
        """Add and start; on failure the session is removed again and the error re-raised."""
        self.add(session)
        try:
            await session.start()
        except BaseException:
            self.remove(session)
            raise
        return session

    def remove(self, session: Session) -> None:
        if self._sessions.pop(id(session), None) is not None:
            self._notify(session)

    def unique_name(self, base: str, session: Session | None = None) -> str:
        taken = {s.name for s in self._sessions.values() if s is not session}
        if base not in taken:
            return base
        n = 2
        while f"{base}#{n}" in taken:
            n += 1
        return f"{base}#{n}"

    def get(self, name: str) -> Session | None:
        return next((s for s in self._sessions.values() if s.name == name), None)

    def sessions(self, role: str | None = None) -> list[Session]:
        return [s for s in self._sessions.values() if role is None or s.role == role]

    def __iter__(self):
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    async def stop(self, session: Session, *, remove: bool = True) -> None:
        try:
            await session.stop()
        finally:
            if remove:
                self.remove(session)

    async def stop_all(self, timeout: float = 5.0) -> None:
        """Stop every session, in parallel, giving up on stragglers after ``timeout`` seconds."""
        sessions = list(self._sessions.values())
        if not sessions:
            return
        tasks = [asyncio.ensure_future(s.stop()) for s in sessions]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception() is not None:
                log.warning("stopping a session failed: %s", task.exception())
        for session in sessions:
            self.remove(session)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(session)`` whenever a session is added, removed, renamed or changes status."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, session: Session) -> None:
        for listener in list(self._listeners):
            try:
                listener(session)
            except Exception:  # a listener's bug must not stop sessions
                log.exception("session listener failed")
