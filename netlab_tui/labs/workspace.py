"""The learner's side of a lab: a folder of starter files, the scripts run from it, and a watch on it.

rustlings-style: the lab copies its starter files into the workspace (never over the learner's own
edits), watches the folder, and on every save re-runs the step's script with a timeout. Each run is a
session (proto ``shell``) so its output and exit status land in the journal with everything else.
A script with ``listen`` is the learner's server: it keeps running, and netlab waits until it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import platformdirs

from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.place import place_command
from netlab_tui.engine.core.sessions import NetlabError, Session

from .checks import ScriptResult
from .model import Lab, ScriptSpec
from .templating import Variables

OUTPUT_LIMIT = 256 * 1024  # kept per stream of a run; the journal has every chunk anyway
IGNORED_PARTS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".venv", "node_modules"}
IGNORED_SUFFIXES = (".pyc", ".swp", ".swx", ".tmp", "~", ".part")


def default_workspace_root() -> Path:
    override = os.environ.get("NETLAB_DATA_DIR")
    base = Path(override) if override else Path(platformdirs.user_data_dir("netlab", appauthor=False))
    return base / "labs"


class Workspace:
    def __init__(self, lab: Lab, root: str | Path | None = None) -> None:
        self.lab = lab
        self.path = Path(root) if root is not None else default_workspace_root() / lab.id

    def prepare(self) -> list[str]:
        """Copy the starter files that are not there yet; the names copied."""
        self.path.mkdir(parents=True, exist_ok=True)
        return _copy_tree(self.lab.starter_dir, self.path, overwrite=False)

    def install_solution(self) -> list[str]:
        """Put the reference solution over the starter files (``netlab lab solve``)."""
        self.prepare()
        return _copy_tree(self.lab.solution_dir, self.path, overwrite=True)

    def reset(self) -> Path | None:
        """Start over from the starter files; the learner's old folder is kept aside and returned."""
        backup = None
        if self.path.exists() and any(self.path.iterdir()):
            backup = self.path.with_name(f"{self.path.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
            n = 1
            while backup.exists():
                n += 1
                backup = backup.with_name(f"{self.path.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
            self.path.rename(backup)
        self.prepare()
        return backup

    def files(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*")
                      if p.is_file() and not is_ignored(p.relative_to(self.path)))


def _copy_tree(source: Path, target: Path, *, overwrite: bool) -> list[str]:
    copied = []
    if not source.is_dir():
        return copied
    for item in sorted(source.rglob("*")):
        relative = item.relative_to(source)
        if is_ignored(relative) or not item.is_file():
            continue
        destination = target / relative
        if destination.exists() and not overwrite:
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item, destination)
        copied.append(str(relative))
    return copied


def is_ignored(relative: Path) -> bool:
    name = relative.name
    return (any(part in IGNORED_PARTS for part in relative.parts) or name.startswith((".", "#"))
            or name.endswith(IGNORED_SUFFIXES))


# -- running scripts ---------------------------------------------------------------------------------------
def script_command(spec: ScriptSpec, variables: Variables) -> list[str]:
    """The argv that runs a script: its interpreter (chosen by extension unless given), file, arguments."""
    if spec.interpreter:
        interpreter = shlex.split(variables.render(spec.interpreter))
    else:
        suffix = Path(spec.file).suffix
        interpreter = {".py": [sys.executable, "-u"], ".php": ["php"], ".sh": ["sh"]}.get(suffix)
        if interpreter is None:
            raise NetlabError(f"cannot tell how to run {spec.file} (set interpreter in its lab:script block)")
    if interpreter[0] != sys.executable and shutil.which(interpreter[0]) is None:
        raise NetlabError(f"{interpreter[0]} is not installed (needed to run {spec.file})")
    return [*interpreter, spec.file, *(variables.render(a) for a in spec.args)]


class ScriptRun(Session):
    """One run of a learner's script, with its output streamed into the journal."""

    kind = "script"
    proto = "shell"
    role = "process"

    def __init__(self, journal: Journal, spec: ScriptSpec, workspace: Path, variables: Variables,
                 env: Mapping[str, str] | None = None) -> None:
        super().__init__(journal, name=f"script {spec.file}")
        self.spec = spec
        self.workspace = workspace
        self.variables = variables
        self.extra_env = dict(env or {})
        self.result = ScriptResult(name=spec.name, command=[], file=spec.file, background=spec.background)
        self.process: asyncio.subprocess.Process | None = None
        self.conn = f"script-{id(self)}"
        self._readers: list[asyncio.Task] = []
        self._waiter: asyncio.Task | None = None
        self._started_at = 0.0
        self.exited = asyncio.Event()

    @property
    def description(self) -> str:
        return shlex.join(self.result.command[1:] if self.result.command else [self.spec.file])

    async def _start(self) -> None:
        spec = self.spec
        command = script_command(spec, self.variables)
        self.result.command = command
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", **self.extra_env,
               **{k: self.variables.render(v) for k, v in spec.env.items()}}
        if not (self.workspace / spec.file).is_file():
            self.result.error = f"{spec.file} is not in the workspace {self.workspace}"
            raise NetlabError(self.result.error)
        stdin = asyncio.subprocess.PIPE if spec.stdin is not None else asyncio.subprocess.DEVNULL
        try:
            self.process = await asyncio.create_subprocess_exec(
                *place_command(self.place, command), cwd=self.workspace, env=env, stdin=stdin, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            self.result.error = f"cannot run {command[0]}: {exc.strerror or exc}"
            raise NetlabError(self.result.error) from None
        self._started_at = time.monotonic()
        self.result.running = True
        shown = ["python", *command[2:]] if command[0] == sys.executable else command  # not the venv's path
        self.emit("info", conn=self.conn, message=f"$ {shlex.join(shown)}",
                  meta={"pid": self.process.pid, "command": command, "cwd": str(self.workspace)})
        if spec.stdin is not None and self.process.stdin is not None:
            data = self.variables.render(spec.stdin).encode()
            self.emit("stdin", direction="out", payload=data, conn=self.conn)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.process.stdin.write(data)
                await self.process.stdin.drain()
            self.process.stdin.close()
        loop = asyncio.get_running_loop()
        self._readers = [loop.create_task(self._pump(self.process.stdout, "stdout")),
                         loop.create_task(self._pump(self.process.stderr, "stderr"))]
        self._waiter = loop.create_task(self._wait_exit())

    async def _pump(self, stream: asyncio.StreamReader | None, name: str) -> None:
        if stream is None:
            return
        while chunk := await stream.read(65536):
            self.emit(name, direction="in", payload=chunk, conn=self.conn)
            text = getattr(self.result, name) + chunk.decode("utf-8", errors="replace")
            setattr(self.result, name, text[-OUTPUT_LIMIT:])

    async def _wait_exit(self) -> None:
        assert self.process is not None
        code = await self.process.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait(self._readers, timeout=2.0)
        self.result.exit_code = code
        self.result.running = False
        self.result.duration = time.monotonic() - self._started_at
        self.emit("exit", conn=self.conn, message=f"{self.spec.file} exited with status {code}"
                  + (" (timed out)" if self.result.timed_out else ""),
                  meta={"exit": code, "timed_out": self.result.timed_out, "duration": round(self.result.duration, 3)})
        self.exited.set()
        self.finished()

    async def wait(self, timeout: float) -> ScriptResult:
        """Until the script exits, killing it after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                await self.exited.wait()
        except TimeoutError:
            self.result.timed_out = True
            self.result.error = f"{self.spec.file} did not finish within {timeout:g}s (killed)"
            await self._kill()
        return self.result

    async def wait_listening(self, host: str, port: int, timeout: float) -> bool:
        """Until the script listens on ``port`` (False, with ``result.error``, if it exits or times out)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.exited.is_set():
                tail = self.result.stderr.strip().splitlines()[-1:] or self.result.stdout.strip().splitlines()[-1:]
                self.result.error = (f"{self.spec.file} exited with status {self.result.exit_code} before listening "
                                     f"on port {port}" + (f": {tail[0][:120]}" if tail else ""))
                return False
            if await asyncio.to_thread(is_listening, host, port):
                return True
            await asyncio.sleep(0.05)
        self.result.error = f"{self.spec.file} is not listening on port {port} after {timeout:g}s"
        return False

    async def _stop(self) -> None:
        await self._kill()

    async def _kill(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            if self._waiter is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(self._waiter), 2.0)
            return
        for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self.exited.wait()
                    return


def is_listening(host: str, port: int) -> bool:
    """Whether something listens on TCP ``port`` — read from /proc on Linux, so that no connection is made
    (a learner's server counts its clients); elsewhere by connecting."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if tables[0].exists():
        wanted = f"{port:04X}"
        for table in tables:
            with contextlib.suppress(OSError):
                for line in table.read_text().splitlines()[1:]:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A" and fields[1].rsplit(":", 1)[-1] == wanted:
                        return True
        return False
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the learner's server will bind it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# -- watching ----------------------------------------------------------------------------------------------
class WorkspaceWatcher:
    """Calls ``on_change(paths)`` on the loop when files of the workspace are saved (debounced)."""

    def __init__(self, path: Path, on_change: Callable[[list[str]], None], *, debounce: float = 0.3) -> None:
        self.path = path
        self.on_change = on_change
        self.debounce = debounce
        self._observer = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self._loop = asyncio.get_running_loop()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:  # a watchdog thread
                if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                    return
                paths = [event.src_path, getattr(event, "dest_path", "") or ""]
                for raw in paths:
                    if not raw:
                        continue
                    try:
                        relative = Path(os.fsdecode(raw)).relative_to(watcher.path)
                    except ValueError:
                        continue
                    if not is_ignored(relative):
                        assert watcher._loop is not None
                        with contextlib.suppress(RuntimeError):  # the loop is closing
                            watcher._loop.call_soon_threadsafe(watcher._touched, str(relative))

        self.path.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.schedule(Handler(), str(self.path), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def _touched(self, relative: str) -> None:
        self._pending.add(relative)
        if self._timer is not None:
            self._timer.cancel()
        assert self._loop is not None
        self._timer = self._loop.call_later(self.debounce, self._fire)

    def _fire(self) -> None:
        self._timer = None
        paths, self._pending = sorted(self._pending), set()
        if paths:
            self.on_change(paths)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2.0)
            self._observer = None
