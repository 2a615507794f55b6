"""Local processes: one command (``ProcessSession``) or a pipeline of them (``Pipeline``).

What the course shows with ``subprocess``, made visible. A command runs from an argv list by default —
no shell, so ``$(id)`` or ``; rm -rf ~`` in an argument stays text — and through ``/bin/sh -c`` only
when asked. Each child gets its own process group (``start_new_session``), so cancelling kills the
command *and* whatever it started. stdout and stderr are read as they come and published as separate
``stdout``/``stderr`` events; what netlab writes to the child's stdin is a ``stdin`` event; the end
is one ``exit`` event whose ``meta["code"]`` is the shell-style exit status (128 + N for signal N).

A ``Pipeline`` (``ls -l / | sort -k 2 -n``) connects its stages through netlab rather than through a
kernel pipe, so each stage's output is recorded on its way to the next one. A stage that stops
reading (``head``) closes its stdin; netlab then closes the previous stage's stdout so that stage gets
SIGPIPE, as it would in a shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from netlab_tui.engine.core.events import new_conn_id
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.place import place_command
from netlab_tui.engine.core.sessions import NetlabError, Session

READ_CHUNK = 65536
DEFAULT_KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL when cancelling

# Exit statuses the way a shell reports them, for what never got to run.
STATUS_NOT_EXECUTABLE = 126
STATUS_NOT_FOUND = 127
STATUS_TIMED_OUT = 124  # what GNU timeout(1) returns; the CLI uses it too

StdoutSink = Callable[[bytes | None], Awaitable[bool]]


class CommandNotFound(NetlabError):
    """The program does not exist (the shell's 127)."""

    status = STATUS_NOT_FOUND


class CommandNotExecutable(NetlabError):
    """The program exists but cannot be run (the shell's 126)."""

    status = STATUS_NOT_EXECUTABLE


# -- command lines -------------------------------------------------------------------------------------
def split_pipeline(text: str) -> list[list[str]]:
    """Split a command line into pipeline stages of argv words, with POSIX shell quoting.

    Only quoting and ``|`` are understood — no variables, globs or redirections: what is not a quote
    or an unquoted ``|`` is text. ``ls -l / | sort -k 2 -n`` gives two stages; ``echo 'a|b'`` one.
    """
    stages: list[list[str]] = [[]]
    word: list[str] | None = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            if word is not None:
                stages[-1].append("".join(word))
                word = None
        elif c == "|":
            if word is not None:
                stages[-1].append("".join(word))
                word = None
            stages.append([])
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise NetlabError(f"unterminated ' quote in: {text}")
            word = (word or []) + list(text[i + 1 : end])
            i = end
        elif c == '"':
            word = word or []
            i += 1
            while True:
                if i >= n:
                    raise NetlabError(f'unterminated " quote in: {text}')
                ch = text[i]
                if ch == '"':
                    break
                if ch == "\\" and i + 1 < n and text[i + 1] in '"\\$`\n':
                    i += 1
                    ch = text[i]
                    if ch == "\n":  # a backslash-newline inside double quotes is removed
                        i += 1
                        continue
                word.append(ch)
                i += 1
        elif c == "\\":
            if i + 1 >= n:
                raise NetlabError(f"trailing backslash in: {text}")
            i += 1
            if text[i] != "\n":
                word = (word or []) + [text[i]]
        else:
            word = (word or []) + [c]
        i += 1
    if word is not None:
        stages[-1].append("".join(word))
    if len(stages) == 1 and not stages[0]:
        raise NetlabError("empty command")
    if any(not stage for stage in stages):
        raise NetlabError(f"empty command in pipeline (nothing between '|' signs): {text}")
    return stages


def split_command(text: str) -> list[str]:
    """One command line as argv words (quotes understood); ``|`` here is an error, not text."""
    stages = split_pipeline(text)
    if len(stages) > 1:
        raise NetlabError("'|' needs a pipeline (or shell mode); quote it to pass it as text")
    return stages[0]


def display_command(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def describe_status(code: int) -> str:
    """``exit status 3`` / ``killed by SIGKILL`` from a shell-style status."""
    if code > 128:
        try:
            return f"killed by {signal.Signals(code - 128).name}"
        except ValueError:
            pass
    return f"exit status {code}"


def _shell_status(returncode: int) -> tuple[int, str | None]:
    """(shell-style status, signal name) from Popen's returncode (negative = killed by a signal)."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return 128 - returncode, name
    return returncode, None


# -- one process -----------------------------------------------------------------------------------------
class ProcessSession(Session):
    """One local command, its output streamed as events, its stdin writable, its group killable."""

    kind = "process"
    proto = "shell"
    role = "process"

    def __init__(
        self,
        journal: Journal,
        command: Sequence[str] | str,
        *,
        shell: bool = False,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        stdin: str = "pipe",
        name: str | None = None,
        kill_grace: float = DEFAULT_KILL_GRACE,
        stdout_sink: StdoutSink | None = None,
        record_stdin: bool = True,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if shell:
            text = command if isinstance(command, str) else " ".join(command)
            if not text.strip():
                raise NetlabError("empty command")
            self.argv: list[str] = ["/bin/sh", "-c", text]
            self.display = text
        else:
            argv = split_command(command) if isinstance(command, str) else [str(a) for a in command]
            if not argv or not argv[0]:
                raise NetlabError("empty command")
            self.argv = argv
            self.display = display_command(argv)
        if stdin not in ("pipe", "null", "inherit"):
            raise ValueError(f"stdin must be 'pipe', 'null' or 'inherit', not {stdin!r}")
        if timeout is not None and timeout <= 0:
            raise NetlabError(f"timeout must be positive, not {timeout:g}")
        super().__init__(journal, name=name or _short(self.display))
        self.shell = shell
        self.cwd = os.fspath(cwd) if cwd is not None else None
        self.extra_env = dict(env or {})
        self.timeout = timeout
        self.stdin_mode = stdin
        self.kill_grace = kill_grace
        self.stdout_sink = stdout_sink
        self.record_stdin = record_stdin
        self.extra_meta = dict(meta or {})
        self.conn = new_conn_id("shell")
        self.pid: int | None = None
        self.returncode: int | None = None
        self.exit_code: int | None = None  # shell-style status, once exited
        self.exit_signal: str | None = None
        self.timed_out = False
        self.cancelled = False
        self.stdin_closed = stdin != "pipe"
        self.started_at: float | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._run_task: asyncio.Task | None = None
        self._exited = asyncio.Event()

    @property
    def description(self) -> str:
        state = f"pid {self.pid}" if self.exit_code is None else describe_status(self.exit_code)
        return f"{'sh -c ' if self.shell else ''}{self.display}  ({state})"

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def _start(self) -> None:
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise self._refuse(NetlabError(f"working directory does not exist: {self.cwd}"), None)
        env = {**os.environ, **self.extra_env} if self.extra_env else None
        stdin = {"pipe": asyncio.subprocess.PIPE, "null": asyncio.subprocess.DEVNULL, "inherit": None}
        self._exited = asyncio.Event()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *place_command(self.place, self.argv),
                stdin=stdin[self.stdin_mode],
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.cwd,
                env=env,
                start_new_session=True,  # its own process group: cancel reaches the grandchildren
            )
        except FileNotFoundError:
            raise self._refuse(CommandNotFound(f"command not found: {self.argv[0]}"), STATUS_NOT_FOUND) from None
        except PermissionError:
            raise self._refuse(
                CommandNotExecutable(f"permission denied: {self.argv[0]} (not executable)"), STATUS_NOT_EXECUTABLE
            ) from None
        except OSError as exc:
            raise self._refuse(
                CommandNotExecutable(f"cannot run {self.argv[0]}: {exc.strerror or exc}"), STATUS_NOT_EXECUTABLE
            ) from None
        self.pid = self._proc.pid
        self.started_at = time.monotonic()
        self.emit(
            "start",
            conn=self.conn,
            message=f"started pid {self.pid}: {'sh -c ' + shlex.quote(self.display) if self.shell else self.display}",
            meta={"pid": self.pid, "argv": self.argv, "shell": self.shell, "cwd": self.cwd or os.getcwd(),
                  "env": sorted(self.extra_env), "timeout": self.timeout, **self.extra_meta},
        )
        self._run_task = asyncio.get_running_loop().create_task(self._run())

    def _refuse(self, error: NetlabError, code: int | None) -> NetlabError:
        self.emit("error", conn=self.conn, message=str(error),
                  meta={"code": code, "argv": self.argv, **self.extra_meta})
        return error

    async def _run(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        pumps = [
            asyncio.ensure_future(self._pump(proc.stdout, "stdout")),
            asyncio.ensure_future(self._pump(proc.stderr, "stderr")),
        ]
        try:
            try:
                async with asyncio.timeout(self.timeout):
                    await proc.wait()
                    # Output may still be in flight, or held open by a grandchild (``sleep 9 &``): wait
                    # for both streams to end, within the same timeout.
                    await asyncio.wait(pumps)  # wait, not gather: a timeout must not cancel the readers
            except TimeoutError:
                self.timed_out = True
                self.emit("info", conn=self.conn, message=f"timed out after {self.timeout:g}s; killing process group",
                          meta={"timeout": self.timeout, **self.extra_meta})
                await self._kill_group()
            await _settle(pumps, 1.0)
            if proc.returncode is None:
                await proc.wait()
        finally:
            if self.stdout_sink is not None:
                with contextlib.suppress(Exception):
                    await self.stdout_sink(None)
            self._on_exit(proc.returncode if proc.returncode is not None else -signal.SIGKILL)

    def _on_exit(self, returncode: int) -> None:
        self.returncode = returncode
        self.exit_code, self.exit_signal = _shell_status(returncode)
        duration = round(time.monotonic() - (self.started_at or time.monotonic()), 6)
        message = describe_status(self.exit_code)
        if self.timed_out:
            message += f" (timed out after {self.timeout:g}s)"
        elif self.cancelled:
            message += " (cancelled)"
        self.emit("exit", conn=self.conn, message=message,
                  meta={"code": self.exit_code, "returncode": returncode, "signal": self.exit_signal,
                        "timed_out": self.timed_out, "cancelled": self.cancelled, "pid": self.pid,
                        "duration": duration, **self.extra_meta})
        self._exited.set()
        self.finished()

    async def _pump(self, stream: asyncio.StreamReader, kind: str) -> None:
        sink = self.stdout_sink if kind == "stdout" else None
        while True:
            data = await stream.read(READ_CHUNK)
            if not data:
                return
            self.emit(kind, direction="in", payload=data, conn=self.conn, meta=self.extra_meta or None)
            if sink is not None and not await sink(data):
                # The next stage stopped reading: close our end so this stage gets SIGPIPE, as in a shell.
                self._close_stdout()
                return

    def _close_stdout(self) -> None:
        proc = self._proc
        transport = getattr(proc, "_transport", None) if proc is not None else None
        pipe = transport.get_pipe_transport(1) if transport is not None else None
        if pipe is not None:
            pipe.close()

    async def _stop(self) -> None:
        if self._proc is None or self._run_task is None:
            return
        if self._proc.returncode is None or not self._run_task.done():
            self.cancelled = True
            await self._kill_group()
        await _settle([self._run_task], self.kill_grace + 3.0)

    async def cancel(self) -> None:
        """Kill the whole process group (SIGTERM, then SIGKILL after ``kill_grace`` seconds)."""
        await self.stop()

    async def _kill_group(self) -> None:
        proc = self._proc
        if proc is None or self.pid is None:
            return
        _killpg(self.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.kill_grace):
                await proc.wait()
        # Whatever is left of the group (children that ignore SIGTERM, or outlived the leader) goes now.
        _killpg(self.pid, signal.SIGKILL)

    async def wait(self) -> int:
        """Wait for the exit; the shell-style status."""
        await self._exited.wait()
        assert self.exit_code is not None
        return self.exit_code

    # -- stdin -------------------------------------------------------------------------------------------
    async def write_stdin(self, data: bytes) -> bool:
        """Send bytes to the child's stdin. False if the child no longer reads it."""
        proc = self._proc
        if proc is None or proc.stdin is None or self.stdin_closed:
            if self.stdin_mode != "pipe":
                raise NetlabError("this process has no stdin to write to")
            return False
        try:
            proc.stdin.write(data)
            if self.record_stdin:
                self.emit("stdin", direction="out", payload=data, conn=self.conn, meta=self.extra_meta or None)
            await proc.stdin.drain()
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.stdin_closed = True
            if self.record_stdin:
                self.emit("info", conn=self.conn, message="the process closed its stdin",
                          meta={"stdin": "closed", **self.extra_meta})
            return False

    async def close_stdin(self) -> None:
        """End of input (what Ctrl+D does at a terminal)."""
        proc = self._proc
        if proc is None or proc.stdin is None or self.stdin_closed:
            return
        self.stdin_closed = True
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
            proc.stdin.close()
        if self.record_stdin:
            self.emit("info", conn=self.conn, message="stdin closed (EOF sent)", meta={"stdin": "eof", **self.extra_meta})

    async def _sink(self, data: bytes | None) -> bool:
        """Be the next stage of a pipeline: ``None`` is EOF."""
        if data is None:
            await self.close_stdin()
            return False
        return await self.write_stdin(data)


# -- a pipeline --------------------------------------------------------------------------------------
class Pipeline(Session):
    """``a | b | c``: argv stages run as processes, connected through netlab so every stage's output is seen."""

    kind = "pipeline"
    proto = "shell"
    role = "process"

    def __init__(
        self,
        journal: Journal,
        stages: Sequence[Sequence[str] | str] | str,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        name: str | None = None,
        kill_grace: float = DEFAULT_KILL_GRACE,
    ) -> None:
        if isinstance(stages, str):
            stages = split_pipeline(stages)
        argvs = [split_command(s) if isinstance(s, str) else [str(a) for a in s] for s in stages]
        if not argvs or any(not argv for argv in argvs):
            raise NetlabError("a pipeline needs at least one non-empty command")
        if timeout is not None and timeout <= 0:
            raise NetlabError(f"timeout must be positive, not {timeout:g}")
        self.argvs = argvs
        self.display = " | ".join(display_command(a) for a in argvs)
        super().__init__(journal, name=name or _short(self.display))
        self.cwd = cwd
        self.env = env
        self.timeout = timeout
        self.kill_grace = kill_grace
        self.conn = new_conn_id("shell")
        self.stages: list[ProcessSession] = []
        self.exit_code: int | None = None
        self.codes: list[int] = []
        self.timed_out = False
        self.cancelled = False
        self._run_task: asyncio.Task | None = None
        self._exited = asyncio.Event()

    @property
    def description(self) -> str:
        state = "running" if self.exit_code is None else describe_status(self.exit_code)
        return f"{self.display}  ({state})"

    async def _start(self) -> None:
        count = len(self.argvs)
        self._exited = asyncio.Event()
        stages: list[ProcessSession] = []
        # Build from the last stage backwards: each stage's stdout sink is the next stage's stdin.
        following: ProcessSession | None = None
        for index in reversed(range(count)):
            stage = ProcessSession(
                self.journal,
                self.argvs[index],
                cwd=self.cwd,
                env=self.env,
                name=f"{self.name} [{index + 1}/{count}]",
                kill_grace=self.kill_grace,
                stdout_sink=following._sink if following is not None else None,
                record_stdin=index == 0,  # later stages' input is the previous stage's recorded output
                meta={"pipeline": self.conn, "stage": index, "stages": count},
            )
            stages.insert(0, stage)
            following = stage
        self.stages = stages
        self.emit("start", conn=self.conn, message=f"pipeline of {count}: {self.display}",
                  meta={"stages": [list(a) for a in self.argvs], "timeout": self.timeout})
        started: list[ProcessSession] = []
        try:
            for stage in reversed(stages):  # consumers first, so no producer writes into nothing
                await stage.start()
                started.append(stage)
        except NetlabError:
            for stage in started:
                await stage.stop()
            raise
        self._run_task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            try:
                async with asyncio.timeout(self.timeout):
                    for stage in self.stages:
                        await stage.wait()
            except TimeoutError:
                self.timed_out = True
                self.emit("info", conn=self.conn, message=f"timed out after {self.timeout:g}s; killing every stage",
                          meta={"timeout": self.timeout})
                await self._stop_stages()
        finally:
            self.codes = [s.exit_code if s.exit_code is not None else 128 + signal.SIGKILL for s in self.stages]
            self.exit_code = self.codes[-1]  # like a shell without pipefail: the last stage's status
            message = describe_status(self.exit_code) + f" (stages: {' '.join(map(str, self.codes))})"
            if self.timed_out:
                message += f", timed out after {self.timeout:g}s"
            elif self.cancelled:
                message += ", cancelled"
            self.emit("exit", conn=self.conn, message=message,
                      meta={"code": self.exit_code, "codes": self.codes, "timed_out": self.timed_out,
                            "cancelled": self.cancelled})
            self._exited.set()
            self.finished()

    async def _stop_stages(self) -> None:
        await asyncio.gather(*(stage.stop() for stage in self.stages), return_exceptions=True)

    async def _stop(self) -> None:
        if self._run_task is None:
            await self._stop_stages()
            return
        if not self._run_task.done():
            self.cancelled = True
            await self._stop_stages()
        await _settle([self._run_task], self.kill_grace + 3.0)

    async def cancel(self) -> None:
        await self.stop()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.exit_code is not None
        return self.exit_code

    async def write_stdin(self, data: bytes) -> bool:
        return await self.stages[0].write_stdin(data)

    async def close_stdin(self) -> None:
        await self.stages[0].close_stdin()

    @property
    def stdin_closed(self) -> bool:
        return not self.stages or self.stages[0].stdin_closed


# -- helpers ---------------------------------------------------------------------------------------------
def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _settle(tasks: list[asyncio.Future], timeout: float) -> None:
    """Wait for tasks up to ``timeout``, then cancel what is left."""
    pending = [t for t in tasks if not t.done()]
    if pending:
        _done, pending_set = await asyncio.wait(pending, timeout=timeout)
        for task in pending_set:
            task.cancel()
        if pending_set:
            await asyncio.wait(pending_set, timeout=1.0)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved, so asyncio does not warn about it


def _short(text: str, width: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
