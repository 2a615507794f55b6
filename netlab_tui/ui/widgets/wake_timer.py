"""A periodic job that runs only while there is work: an idle netlab must sleep.

``WakeTimer(owner, interval, job)`` is a Textual interval timer that starts paused. ``wake()`` (cheap:
call it for every event) resumes it; each tick runs ``job()``, which returns whether it found anything
to do; the first tick that finds nothing pauses the timer again. So the job keeps its pace during a
flood (at most one run per ``interval``), a lone event is handled at the next turn of the loop, and
with nothing happening the timer neither ticks nor repaints.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump


class WakeTimer:
    __slots__ = ("_job", "_timer", "active")

    def __init__(self, owner: MessagePump, interval: float, job: Callable[[], object], *, name: str) -> None:
        self._job = job
        self._timer = owner.set_interval(interval, self._tick, pause=True, name=name)
        self.active = False

    def wake(self, *_args: object) -> None:
        if not self.active:
            self.active = True
            self._timer.resume()

    def _tick(self) -> None:
        if not self._job() and self.active:
            self.active = False
            self._timer.pause()

    def stop(self) -> None:
        self.active = False
        self._timer.stop()
