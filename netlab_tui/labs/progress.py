"""Progress per lab and step, in one JSON file in the user's state directory.

The file (``progress.json``; format 1, every key below optional, readers ignore keys they do not know)::

    {"version": 1,
     "labs": {"<lab id>": {
        "current":   "<step id>",              # the step to resume at
        "passed":    {"<step id>": <unix ts>},  # first time each step passed
        "completed": <unix ts>,                 # when every step had passed
        "hints":     {"<step id>": <n>},        # hints revealed (the solution text counts as one)
        "revealed":  {"<step id>": [<i>, …]},   # which hints, by position in the step, in reveal order
        "tries":     {"<step id>": <n>},        # runs of the step's scripts (each save), wrong answers
        "time":      {"<step id>": <seconds>},  # time the step was the current one, summed over visits
        "started":   <unix ts>}}}               # first time the lab was opened

``netlab lab progress --json`` prints the same data per lab and step (see ``summary``).

Writes are atomic (a temporary file in the same folder, fsynced, then renamed over the old one) and
read-modify-write happens under a lock file, so the TUI and a ``netlab lab run`` in another terminal can
both record progress. A file that cannot be read is never silently replaced: it is renamed to
``progress.json.corrupt-<time>`` and ``warning`` says so.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import platformdirs

FORMAT_VERSION = 1


def default_state_dir() -> Path:
    override = os.environ.get("NETLAB_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir("netlab", appauthor=False))


class ProgressStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_state_dir() / "progress.json"
        self.warning: str | None = None  # set when a corrupt file was found and backed up
        self._data: dict[str, Any] = {"version": FORMAT_VERSION, "labs": {}}
        self._read()

    # -- reading ------------------------------------------------------------------------------------------
    def lab(self, lab_id: str) -> dict[str, Any]:
        """This lab's record: ``{"passed": {step: ts}, "current": step, "hints": {step: n}, "completed": ts}``."""
        record = self._data["labs"].get(lab_id, {})
        return json.loads(json.dumps(record))  # a copy: callers change progress through the methods below

    def passed_steps(self, lab_id: str) -> set[str]:
        return set(self.lab(lab_id).get("passed", {}))

    def current_step(self, lab_id: str) -> str | None:
        return self.lab(lab_id).get("current")

    def hints_shown(self, lab_id: str, step_id: str) -> int:
        return int(self.lab(lab_id).get("hints", {}).get(step_id, 0))

    def completed(self, lab_id: str) -> float | None:
        return self.lab(lab_id).get("completed")

    def lab_ids(self) -> list[str]:
        return sorted(self._data["labs"])

    def revealed_hints(self, lab_id: str, step_id: str, available: int) -> list[int]:
        """Which hints were revealed, in order (older files only counted them: the first n, then)."""
        record = self.lab(lab_id)
        revealed = record.get("revealed", {}).get(step_id)
        if isinstance(revealed, list) and all(isinstance(i, int) and 0 <= i < available for i in revealed):
            return list(dict.fromkeys(revealed))
        return list(range(min(self.hints_shown(lab_id, step_id), available)))

    def summary(self, lab_id: str, step_ids: list[str]) -> list[dict[str, Any]]:
        """Per step: passed (ts or None), hints used, tries, seconds spent — what a teacher view reads."""
        record = self.lab(lab_id)
        return [{"step": step, "passed": record.get("passed", {}).get(step),
                 "hints": int(record.get("hints", {}).get(step, 0)), "tries": int(record.get("tries", {}).get(step, 0)),
                 "seconds": round(float(record.get("time", {}).get(step, 0.0)), 1)} for step in step_ids]

    # -- writing ------------------------------------------------------------------------------------------
    def mark_passed(self, lab_id: str, step_id: str, *, all_steps: list[str] | None = None) -> None:
        def change(labs: dict[str, Any]) -> None:
            record = labs.setdefault(lab_id, {})
            record.setdefault("passed", {}).setdefault(step_id, time.time())
            if all_steps is not None and set(all_steps) <= set(record["passed"]):
                record.setdefault("completed", time.time())

        self._update(change)

    def set_current(self, lab_id: str, step_id: str) -> None:
        def change(labs: dict[str, Any]) -> None:
            record = labs.setdefault(lab_id, {})
            record["current"] = step_id
            record.setdefault("started", time.time())

        self._update(change)

    def set_hints(self, lab_id: str, step_id: str, shown: int, *, revealed: list[int] | None = None) -> None:
        def change(labs: dict[str, Any]) -> None:
            record = labs.setdefault(lab_id, {})
            record.setdefault("hints", {})[step_id] = shown
            if revealed is not None:
                record.setdefault("revealed", {})[step_id] = list(revealed)

        self._update(change)

    def record_try(self, lab_id: str, step_id: str) -> None:
        def change(labs: dict[str, Any]) -> None:
            tries = labs.setdefault(lab_id, {}).setdefault("tries", {})
            tries[step_id] = int(tries.get(step_id, 0)) + 1

        self._update(change)

    def add_time(self, lab_id: str, step_id: str, seconds: float) -> None:
        def change(labs: dict[str, Any]) -> None:
            spent = labs.setdefault(lab_id, {}).setdefault("time", {})
            spent[step_id] = round(float(spent.get(step_id, 0.0)) + seconds, 3)

        self._update(change)

    def reset(self, lab_id: str) -> bool:
        """Forget a lab's progress; True if there was any."""
        existed = lab_id in self._data["labs"]
        self._update(lambda labs: labs.pop(lab_id, None))
        return existed

    # -- the file -----------------------------------------------------------------------------------------
    def _read(self) -> None:
        if not self.path.exists():  # nothing saved yet: create nothing (the folder comes with the first save)
            return
        try:
            with self._locked():
                self._data = self._load()
        except _Unwritable:
            self._data = {"version": FORMAT_VERSION, "labs": {}}

    def _load(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {"version": FORMAT_VERSION, "labs": {}}
        except OSError as exc:
            self.warning = f"cannot read progress file {self.path}: {exc.strerror or exc}"
            return {"version": FORMAT_VERSION, "labs": {}}
        problem = None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            problem = f"not valid JSON ({exc})"
        else:
            if not isinstance(data, dict) or not isinstance(data.get("labs"), dict) or not all(
                    isinstance(v, dict) for v in data["labs"].values()):
                problem = "not a netlab progress file"
            elif data.get("version", FORMAT_VERSION) > FORMAT_VERSION:
                problem = f"written by a newer netlab (format {data['version']})"
            else:
                data["version"] = FORMAT_VERSION
                return data
        backup = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while backup.exists():
            n += 1
            backup = backup.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        try:
            os.replace(self.path, backup)
            self.warning = f"progress file {self.path} was {problem}; kept it as {backup.name} and started afresh"
        except OSError as exc:
            self.warning = (f"progress file {self.path} is {problem} and could not be moved aside "
                            f"({exc.strerror or exc}); progress will not be saved")
            raise _Unwritable(self.warning) from None
        return {"version": FORMAT_VERSION, "labs": {}}

    def _update(self, change: Callable[[dict[str, Any]], Any]) -> None:
        """Re-read (another netlab may have written), change, write atomically — under the lock."""
        try:
            with self._locked():
                data = self._load()
                change(data["labs"])
                self._write(data)
                self._data = data
        except _Unwritable:
            change(self._data["labs"])  # keep the progress of this session in memory at least
        except OSError as exc:
            change(self._data["labs"])
            self.warning = f"cannot save progress to {self.path}: {exc.strerror or exc}"

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.path.with_name(self.path.name + ".lock"), "a")  # noqa: SIM115 - closed below
        except OSError:
            yield  # a read-only state dir: work unlocked; writing will report its own error
            return
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            lock.close()


class _Unwritable(OSError):
    pass
