"""SSH client sessions on paramiko, with host keys checked the way OpenSSH checks them.

paramiko blocks, so each ``SshSession`` runs its connection in a thread of its own and hands events to
the loop with ``emit_threadsafe``. Host keys come from the user's ``~/.ssh/known_hosts`` (read only)
and netlab's own store under the platform's data directory (``KnownHosts``), or from one file the user
names instead. An unknown host is refused (``UnknownHostKey``, with the SHA256 fingerprint to check)
unless ``trust=True``, which accepts *and remembers* the key. A key that differs from the remembered
one is refused (``HostKeyChanged``) whatever ``trust`` says: that is the man-in-the-middle case, and
only removing the old key by hand gets past it. paramiko's ``AutoAddPolicy`` is never used.

Every failure a user meets — refused, timed out, not an SSH server, authentication failed, bad key
file — is a ``NetlabError`` with one clear line.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import getpass
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import paramiko
import platformdirs

from netlab_tui.engine.core.events import format_addr, new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import check_port, connect_error
from netlab_tui.engine.core.place import Place, place_socket
from netlab_tui.engine.core.sessions import NetlabError, Session

# paramiko logs socket errors it also raises; netlab reports those itself (one line, in the journal), so
# without a handler configured by the user they must not reach stderr through logging's last resort.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

SSH_PORT = 22
DEFAULT_TIMEOUT = 10.0
READ_CHUNK = 32768
EXIT_STATUS_WAIT = 5.0  # how long to wait for the exit status after the remote side's EOF
COLLECT_LIMIT = 1 << 20  # bytes of output kept per stream for comparing hosts


# -- errors ----------------------------------------------------------------------------------------------
class HostKeyError(NetlabError):
    """Host key verification failed; carries what a dialog needs to show."""

    def __init__(self, message: str, *, host: str, key_type: str, fingerprint: str, store: Path) -> None:
        super().__init__(message)
        self.host = host  # the known_hosts name: "host" or "[host]:port"
        self.key_type = key_type
        self.fingerprint = fingerprint
        self.store = store


class UnknownHostKey(HostKeyError):
    """The host is not in any known_hosts file: check the fingerprint, then trust it (or not)."""


class HostKeyChanged(HostKeyError):
    """The host presents a different key from the one remembered. Never overridden by ``trust``."""

    def __init__(self, message: str, *, expected_type: str, expected_fingerprint: str, expected_file: Path | None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.expected_type = expected_type
        self.expected_fingerprint = expected_fingerprint
        self.expected_file = expected_file


class KeyNeedsPassphrase(NetlabError):
    """The private key file is encrypted and no (or a wrong) passphrase was given."""


# -- host keys -------------------------------------------------------------------------------------------
def netlab_known_hosts() -> Path:
    """netlab's own known_hosts (where ``trust`` remembers keys by default)."""
    return platformdirs.user_data_path("netlab") / "known_hosts"


def user_known_hosts() -> Path:
    return Path.home() / ".ssh" / "known_hosts"


def host_key_name(host: str, port: int) -> str:
    """How known_hosts names a host: ``host`` on port 22, ``[host]:port`` elsewhere."""
    return host if port == SSH_PORT else f"[{host}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:…`` as ``ssh-keygen -l`` prints it."""
    return key.fingerprint


class KnownHosts:
    """The known_hosts files one connection consults, and the one ``trust`` writes to.

    With ``path`` the user chose a single file: it is both read and written. Without it, the user's
    ``~/.ssh/known_hosts`` is read (never written: that is OpenSSH's file) and netlab's store is read
    and written.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if path is not None:
            self.store = Path(path).expanduser()
            self.system: Path | None = None
        else:
            self.store = netlab_known_hosts()
            self.system = user_known_hosts()

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.system, self.store) if p is not None]

    def configure(self, client: paramiko.SSHClient) -> None:
        """Load the files into a client (system keys first, as paramiko looks them up in that order)."""
        if self.system is not None and self.system.is_file():
            self._load(client.load_system_host_keys, self.system)
        if self.store.is_file():
            self._load(client.get_host_keys().load, self.store)

    @staticmethod
    def _load(loader: Callable[[str], None], path: Path) -> None:
        try:
            loader(str(path))
        except OSError as exc:
            raise NetlabError(f"cannot read known hosts file {path}: {exc.strerror or exc}") from None
        except (paramiko.SSHException, ValueError) as exc:
            raise NetlabError(f"known hosts file {path} is not valid: {exc}") from None

    def lookup(self, name: str) -> list[tuple[str, str, Path]]:
        """``(key type, fingerprint, file)`` for each key remembered for ``name``."""
        found = []
        for path in self.files:
            if not path.is_file():
                continue
            keys = paramiko.HostKeys()
            with contextlib.suppress(OSError, paramiko.SSHException, ValueError):
                keys.load(str(path))
            entry = keys.lookup(name)
            if entry:
                for key_type, key in entry.items():
                    found.append((key_type, fingerprint(key), path))
        return found

    def remember(self, name: str, key: paramiko.PKey) -> Path:
        """Append ``name key`` to the store (created 0600 in a 0700 directory if need be)."""
        path = self.store
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            prefix = ""
            if path.is_file() and path.stat().st_size:
                with open(path, "rb") as fh:
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n":
                        prefix = "\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="ascii") as fh:
                fh.write(f"{prefix}{name} {key.get_name()} {key.get_base64()}\n")
        except OSError as exc:
            raise NetlabError(f"cannot remember the host key in {path}: {exc.strerror or exc}") from None
        return path


class _CheckHostKey(paramiko.MissingHostKeyPolicy):
    """Called by paramiko for a host in no known_hosts file: refuse, or (asked to trust) remember."""

    def __init__(self, known: KnownHosts, trust: bool, on_trusted: Callable[[str, paramiko.PKey, Path], None],
                 expected: str | None = None):
        self.known = known
        self.trust = trust
        self.on_trusted = on_trusted
        self.expected = expected

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        fp = fingerprint(key)
        if self.trust and self.expected and fp != self.expected:
            # The user confirmed one key (in a dialog); the host now shows another. Ask again, never assume.
            raise UnknownHostKey(
                f"unknown host key for {hostname}: {key.get_name()} {fp} is not the key you confirmed "
                f"({self.expected}); not connecting",
                host=hostname, key_type=key.get_name(), fingerprint=fp, store=self.known.store,
            )
        if not self.trust:
            raise UnknownHostKey(
                f"unknown host key for {hostname}: {key.get_name()} {fp}; not connecting "
                f"(check the fingerprint with the server's owner; trusting it remembers it in {self.known.store})",
                host=hostname, key_type=key.get_name(), fingerprint=fp, store=self.known.store,
            )
        path = self.known.remember(hostname, key)
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.on_trusted(hostname, key, path)


# -- targets ---------------------------------------------------------------------------------------------
@dataclass
class SshTarget:
    """Where and how to log in. ``password``/``passphrase`` are never shown in ``repr`` or events."""

    host: str
    port: int = SSH_PORT
    user: str | None = None
    key_file: str | None = None
    password: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    agent: bool = True
    look_for_keys: bool = True
    known_hosts: str | None = None  # one file instead of ~/.ssh/known_hosts + netlab's store
    trust: bool = False
    trust_fingerprint: str | None = None  # with trust: accept only this key (the one a user confirmed)
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if not self.host:
            raise NetlabError("no host given")
        self.port = check_port(self.port, allow_zero=False)
        if self.timeout <= 0:
            raise NetlabError(f"timeout must be positive, not {self.timeout:g}")

    @property
    def username(self) -> str:
        return self.user or getpass.getuser()

    @property
    def address(self) -> str:
        return format_addr(self.host, self.port)

    @property
    def label(self) -> str:
        """``user@host`` (``user@host:port`` off port 22): how lists and columns name the host."""
        where = self.host if self.port == SSH_PORT else self.address
        return f"{self.username}@{where}"

    @classmethod
    def parse(cls, spec: str, **defaults: Any) -> "SshTarget":
        """``[user@]host[:port]``; IPv6 as ``[::1]:2222`` or bare ``::1``. ``defaults`` fill the rest."""
        spec = spec.strip()
        if not spec:
            raise NetlabError("empty host")
        user, at, rest = spec.rpartition("@")
        values = dict(defaults)
        if at:
            if not user:
                raise NetlabError(f"empty user name in {spec!r}")
            values["user"] = user
        host, port = rest, None
        if rest.startswith("["):
            close = rest.find("]")
            if close < 0:
                raise NetlabError(f"missing ']' in {spec!r}")
            host, tail = rest[1:close], rest[close + 1 :]
            if tail:
                if not tail.startswith(":"):
                    raise NetlabError(f"unexpected {tail!r} after ']' in {spec!r}")
                port = tail[1:]
        elif rest.count(":") == 1:
            host, port = rest.split(":")
        if not host:
            raise NetlabError(f"no host in {spec!r}")
        if port is not None:
            values["port"] = check_port(port, allow_zero=False)
        return cls(host=host, **values)


def parse_hosts(specs: Sequence[str], **defaults: Any) -> list[SshTarget]:
    """Targets from ``--host`` values, each possibly a comma-separated list."""
    targets = []
    for spec in specs:
        for part in spec.split(","):
            if part.strip():
                targets.append(SshTarget.parse(part, **defaults))
    if not targets:
        raise NetlabError("no hosts given")
    return targets


def load_private_key(path: str, passphrase: str | None = None) -> paramiko.PKey:
    """A private key file as a paramiko key, or one clear line saying why not."""
    file = Path(path).expanduser()
    if not file.exists():
        raise NetlabError(f"key file not found: {path}")
    if not file.is_file():
        raise NetlabError(f"key file is not a file: {path}")
    try:
        head = file.read_bytes()[:64]
    except OSError as exc:
        raise NetlabError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    if head.startswith((b"ssh-", b"ecdsa-")):
        raise NetlabError(f"{path} is a public key; give the private key file (without .pub)")
    # First without a passphrase: that tells an encrypted key from a damaged file.
    try:
        return paramiko.PKey.from_path(file)
    except (paramiko.PasswordRequiredException, TypeError):  # TypeError: cryptography's "password-protected"
        pass
    except paramiko.UnknownKeyType as exc:
        raise NetlabError(f"key file {path} is not a private key netlab can use ({exc})") from None
    except (paramiko.SSHException, ValueError) as exc:
        raise NetlabError(f"key file {path} is not a private key netlab can use ({exc or exc.__class__.__name__})") from None
    except OSError as exc:
        raise NetlabError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    if not passphrase:
        raise KeyNeedsPassphrase(f"key file {path} is encrypted: give its passphrase")
    try:
        return paramiko.PKey.from_path(file, passphrase.encode("utf-8"))  # paramiko 5 wants bytes here
    except (paramiko.SSHException, ValueError, TypeError):
        raise KeyNeedsPassphrase(f"wrong passphrase for key file {path}") from None


# -- one connection, blocking (runs in a thread) -------------------------------------------------------------
Emit = Callable[..., None]


class SshConnection:
    """One authenticated SSH connection. Every method blocks: call them from a thread."""

    def __init__(self, target: SshTarget, emit: Emit, conn: str, place: Place | None = None) -> None:
        self.target = target
        self.emit = emit
        self.conn = conn
        self.place = place  # the topology host it connects from (None: this machine)
        self._sock: socket.socket | None = None  # the socket opened on that host
        self.known = KnownHosts(target.known_hosts)
        self.client: paramiko.SSHClient | None = None
        self.local: str | None = None
        self.peer: str | None = None
        self.channel: paramiko.Channel | None = None

    def connect(self) -> None:
        t = self.target
        where = t.address
        pkey = load_private_key(t.key_file, t.passphrase) if t.key_file else None
        client = paramiko.SSHClient()
        self.client = client
        self.known.configure(client)
        client.set_missing_host_key_policy(_CheckHostKey(self.known, t.trust, self._trusted, t.trust_fingerprint))
        try:
            sock = self._place_socket()
            client.connect(
                t.host, t.port, username=t.username, password=t.password, pkey=pkey,
                timeout=t.timeout, banner_timeout=t.timeout, auth_timeout=t.timeout, channel_timeout=t.timeout,
                allow_agent=t.agent, look_for_keys=t.look_for_keys, sock=sock,
            )
        except HostKeyError:
            self.close()
            raise
        except paramiko.BadHostKeyException as exc:
            self.close()
            raise self._changed(exc) from None
        except paramiko.BadAuthenticationType as exc:
            self.close()
            allowed = ", ".join(exc.allowed_types) or "nothing"
            raise NetlabError(
                f"authentication failed for {t.username} on {where}: the server accepts only {allowed} "
                f"(tried {self._tried()})") from None
        except paramiko.AuthenticationException:
            self.close()
            raise NetlabError(f"authentication failed for {t.username} on {where} (tried {self._tried()})") from None
        except paramiko.ssh_exception.NoValidConnectionsError as exc:
            self.close()
            first = next(iter(exc.errors.values()), exc)
            raise connect_error(first if isinstance(first, OSError) else exc, where, t.timeout) from None
        except (TimeoutError, socket.timeout) as exc:
            self.close()
            raise connect_error(TimeoutError(), where, t.timeout) from exc
        except paramiko.SSHException as exc:
            self.close()
            raise self._protocol_error(exc) from None
        except (EOFError, ConnectionResetError, BrokenPipeError):
            self.close()
            raise NetlabError(f"{where} closed the connection during the SSH handshake") from None
        except OSError as exc:
            self.close()
            raise connect_error(exc, where, t.timeout) from None
        transport = client.get_transport()
        assert transport is not None
        sock = transport.sock
        with contextlib.suppress(OSError, AttributeError):
            self.local = sockaddr_str(sock.getsockname())
            self.peer = sockaddr_str(sock.getpeername())
        key = transport.get_remote_server_key()
        self.emit(
            "connect", local=self.local, peer=self.peer, conn=self.conn,
            message=f"logged in to {t.label} ({key.get_name()} {fingerprint(key)})",
            meta={"user": t.username, "host": t.host, "port": t.port, "host_key_type": key.get_name(),
                  "fingerprint": fingerprint(key), "server_version": transport.remote_version,
                  "cipher": transport.remote_cipher, "auth": transport.auth_handler.auth_method
                  if transport.auth_handler is not None else None},
        )

    def _place_socket(self) -> socket.socket | None:
        """A socket connected to the target from ``self.place`` (a topology host), for paramiko's ``sock=``;
        None on this machine (paramiko connects itself). OSError / timeout as paramiko's own connect."""
        if self.place is None:
            return None
        t = self.target
        family, _type, _proto, _canon, sockaddr = socket.getaddrinfo(t.host, t.port, type=socket.SOCK_STREAM)[0]
        sock = place_socket(self.place, family, socket.SOCK_STREAM)
        if sock is None:
            return None
        self._sock = sock  # close() from another thread can end the connect
        sock.setblocking(True)
        sock.settimeout(t.timeout)
        sock.connect(sockaddr)
        return sock

    def _tried(self) -> str:
        t = self.target
        tried = []
        if t.key_file:
            tried.append(f"key {t.key_file}")
        if t.agent and os.environ.get("SSH_AUTH_SOCK"):
            tried.append("ssh-agent keys")
        if t.look_for_keys:
            tried.append("~/.ssh keys")
        if t.password is not None:
            tried.append("password")
        return ", ".join(tried) if tried else "no method: give a key, a password or an agent"

    def _protocol_error(self, exc: paramiko.SSHException) -> NetlabError:
        t = self.target
        text = str(exc)
        if text == "No existing session":
            # paramiko's negotiation wait ran out (it returns quietly) before the banner timeout fired.
            transport = self.client.get_transport() if self.client is not None else None
            if transport is None or not transport.remote_version:
                text = "banner"
            else:
                return NetlabError(f"{t.address} did not complete the SSH handshake within {t.timeout:g}s")
        if "banner" in text.lower():
            return NetlabError(f"{t.address} did not answer as an SSH server (no SSH banner within {t.timeout:g}s)")
        if "no authentication methods available" in text.lower():
            return NetlabError(f"no way to log in to {t.address}: give a key (-i), a password, or run ssh-agent")
        if isinstance(exc, paramiko.ssh_exception.IncompatiblePeer):
            return NetlabError(f"{t.address} and netlab share no SSH algorithms ({text})")
        return NetlabError(f"SSH with {t.address} failed: {text or exc.__class__.__name__}")

    def _changed(self, exc: paramiko.BadHostKeyException) -> HostKeyChanged:
        name = host_key_name(self.target.host, self.target.port)
        got, expected = exc.key, exc.expected_key
        files = [f for kt, fp, f in self.known.lookup(name) if fp == fingerprint(expected)]
        where = files[0] if files else self.known.store
        return HostKeyChanged(
            f"HOST KEY CHANGED for {name}: it now presents {got.get_name()} {fingerprint(got)}, but {where} "
            f"remembers {expected.get_name()} {fingerprint(expected)}. Someone may be intercepting the "
            f"connection (or the server was reinstalled); refusing. If the change is expected, remove the old "
            f"key with: ssh-keygen -R '{name}' -f {where}",
            host=name, key_type=got.get_name(), fingerprint=fingerprint(got), store=self.known.store,
            expected_type=expected.get_name(), expected_fingerprint=fingerprint(expected), expected_file=where,
        )

    def _trusted(self, name: str, key: paramiko.PKey, path: Path) -> None:
        self.emit("info", conn=self.conn,
                  message=f"trusted new host key for {name}: {key.get_name()} {fingerprint(key)} (remembered in {path})",
                  meta={"trusted": True, "host": name, "host_key_type": key.get_name(),
                        "fingerprint": fingerprint(key), "file": str(path)})

    def start_command(self, command: str) -> None:
        """Open a session channel and ask the server to run ``command`` in it."""
        assert self.client is not None
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise NetlabError(f"the connection to {self.target.address} is gone")
        try:
            chan = transport.open_session(timeout=self.target.timeout)
            self.channel = chan
            chan.exec_command(command)
        except paramiko.ChannelException as exc:
            raise NetlabError(f"{self.target.address} refused to open a session: {exc.text}") from None
        except paramiko.SSHException as exc:
            raise NetlabError(f"{self.target.address} refused to run the command: {exc}") from None
        self.emit("request", conn=self.conn, local=self.local, peer=self.peer, message=f"exec: {command}",
                  meta={"command": command, "channel": chan.get_id()})

    def stream(self, on_output: Callable[[str, bytes], None], cancel: threading.Event) -> int | None:
        """Stream the command's output to ``on_output(kind, data)`` until it ends. The remote exit status
        (None if the server sent none, e.g. the command was killed by a signal)."""
        chan = self.channel
        assert chan is not None
        eof_at: float | None = None
        while True:
            if cancel.is_set():
                chan.close()
                return None
            got = False
            if chan.recv_ready():
                data = chan.recv(READ_CHUNK)
                if data:
                    got = True
                    on_output("stdout", data)
            if chan.recv_stderr_ready():
                data = chan.recv_stderr(READ_CHUNK)
                if data:
                    got = True
                    on_output("stderr", data)
            if got:
                continue
            if chan.eof_received or chan.closed:
                if chan.exit_status_ready() or chan.closed:
                    break
                eof_at = eof_at or time.monotonic()
                if time.monotonic() - eof_at > EXIT_STATUS_WAIT:
                    break
            # The channel's fileno becomes readable when data arrives; the timeout covers stderr and
            # exit-status, which do not wake it.
            select.select([chan], [], [], 0.05)
        status = chan.exit_status if chan.exit_status_ready() else -1
        return None if status < 0 else status

    def send(self, data: bytes) -> None:
        chan = self.channel
        if chan is None or chan.closed:
            raise NetlabError("the remote command is not running")
        try:
            chan.sendall(data)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise NetlabError(f"cannot send to the remote command: {exc or exc.__class__.__name__}") from None

    def close_stdin(self) -> None:
        chan = self.channel
        if chan is not None and not chan.closed:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                chan.shutdown_write()

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
        if self._sock is not None:  # paramiko does not close a socket it was given before it started
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()


# -- the session -------------------------------------------------------------------------------------------
class SshSession(Session):
    """Log in to one host and run one command; stdout/stderr stream as events, the exit status ends it.

    ``start()`` returns once logged in and the command is started (raising ``NetlabError`` — ``UnknownHostKey``, ``HostKeyChanged`` …
    — if that fails); ``wait()`` gives the remote exit status.
    """

    kind = "ssh"
    proto = "ssh"
    role = "client"

    def __init__(self, journal: Journal, target: SshTarget, command: str, *, name: str | None = None,
                 collect: int = 0) -> None:
        if not command.strip():
            raise NetlabError("no command to run")
        super().__init__(journal, name=name or f"ssh {target.label}")
        self.target = target
        self.command = command
        self.collect = collect  # keep up to this many bytes of each stream (for comparing hosts)
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.conn = new_conn_id("ssh")
        self.exit_code: int | None = None
        self.error_message: str | None = None
        self.cancelled = False
        self._cancel = threading.Event()
        self._connection: SshConnection | None = None
        self._thread: threading.Thread | None = None
        self._exited = asyncio.Event()
        self._started_at = 0.0

    @property
    def description(self) -> str:
        state = "running" if not self._exited.is_set() else (
            self.error_message or ("no exit status" if self.exit_code is None else f"exit status {self.exit_code}"))
        return f"{self.target.label}: {self.command}  ({state})"

    def _emit(self, kind: str, **fields: Any) -> None:
        """From the connection thread; a loop that is already gone loses the event, nothing else."""
        if self._loop is not None:
            self.emit_threadsafe(kind, **fields)

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._exited = asyncio.Event()
        self._cancel = threading.Event()
        self._started_at = time.monotonic()
        logged_in: asyncio.Future[None] = loop.create_future()
        self._connection = SshConnection(self.target, self._emit, self.conn, self.place)
        self._thread = threading.Thread(target=self._main, args=(loop, logged_in), name=f"netlab {self.name}",
                                        daemon=True)
        self._thread.start()
        try:
            await logged_in
        except asyncio.CancelledError:
            self._cancel.set()
            connection = self._connection
            await loop.run_in_executor(None, connection.close)
            raise
        except NetlabError as exc:
            self._exited.set()  # nothing will run: wait() must not hang
            meta: dict[str, Any] = {"host": self.target.host, "port": self.target.port, "user": self.target.username}
            if isinstance(exc, HostKeyError):
                meta.update(host_key_error="changed" if isinstance(exc, HostKeyChanged) else "unknown",
                            host_key_type=exc.key_type, fingerprint=exc.fingerprint)
            self.emit("error", conn=self.conn, peer=self.target.address, message=str(exc), meta=meta)
            raise

    def _main(self, loop: asyncio.AbstractEventLoop, logged_in: asyncio.Future) -> None:
        connection = self._connection
        assert connection is not None

        def settle(exc: BaseException | None) -> None:
            if logged_in.done():
                return
            if exc is None:
                logged_in.set_result(None)
            else:
                logged_in.set_exception(exc)

        try:
            connection.connect()
            connection.start_command(self.command)
        except NetlabError as exc:
            connection.close()
            self.call_threadsafe(settle, exc)
            return
        except Exception as exc:  # paramiko raises more than it documents; still one line for the user
            self.call_threadsafe(settle, NetlabError(f"SSH with {self.target.address} failed: {exc!r}"))
            connection.close()
            return
        self.call_threadsafe(settle, None)
        code: int | None = None
        error: str | None = None
        try:
            code = connection.stream(self._output, self._cancel)
        except NetlabError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"SSH with {self.target.address} failed: {exc!r}"
        finally:
            connection.close()
            self.call_threadsafe(self._on_exit, code, error)

    def _output(self, kind: str, data: bytes) -> None:
        if self.collect:
            buffer = self.stdout if kind == "stdout" else self.stderr
            room = self.collect - len(buffer)
            if room > 0:
                buffer += data[:room]
        connection = self._connection
        self._emit(kind, direction="in", payload=data, conn=self.conn,
                   local=connection.local if connection else None, peer=connection.peer if connection else None)

    def _on_exit(self, code: int | None, error: str | None) -> None:
        self.exit_code = code
        self.error_message = error
        connection = self._connection
        local, peer = (connection.local, connection.peer) if connection else (None, None)
        if error:
            self.emit("error", conn=self.conn, local=local, peer=peer, message=error)
        if self.cancelled:
            message = "cancelled; connection closed"
        elif code is None:
            message = "the remote command ended without an exit status (killed by a signal?)"
        else:
            message = f"remote exit status {code}"
        self.emit("exit", conn=self.conn, local=local, peer=peer, message=message,
                  meta={"code": code, "cancelled": self.cancelled, "host": self.target.host,
                        "port": self.target.port, "duration": round(time.monotonic() - self._started_at, 6)})
        self._exited.set()
        self.finished(error)

    async def _stop(self) -> None:
        if self._thread is None or self._exited.is_set():
            return
        self.cancelled = True
        self._cancel.set()
        connection = self._connection
        if connection is not None:  # also unblocks a thread still connecting or logging in
            await asyncio.get_running_loop().run_in_executor(None, connection.close)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self._exited.wait()

    async def cancel(self) -> None:
        await self.stop()

    async def wait(self) -> int | None:
        """The remote exit status (None if there was none)."""
        await self._exited.wait()
        return self.exit_code

    async def write_stdin(self, data: bytes) -> None:
        connection = self._connection
        if connection is None:
            raise NetlabError("not connected")
        await asyncio.get_running_loop().run_in_executor(None, connection.send, data)
        self.emit("stdin", direction="out", payload=data, conn=self.conn, local=connection.local, peer=connection.peer)

    async def close_stdin(self) -> None:
        connection = self._connection
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(None, connection.close_stdin)


# -- the same command on several hosts ---------------------------------------------------------------------
@dataclass
class HostResult:
    target: SshTarget
    stdout: bytes = b""
    stderr: bytes = b""
    code: int | None = None
    error: str | None = None
    exception: NetlabError | None = None  # why the host could not run the command (UnknownHostKey …)
    session: SshSession | None = None

    @property
    def label(self) -> str:
        return self.target.label

    @property
    def text(self) -> str:
        """What to compare: stdout, or the error when the host could not run the command."""
        if self.error and not self.stdout:
            return f"[{self.error}]\n"
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return "no exit status" if self.code is None else f"exit {self.code}"


async def run_on_hosts(
    journal: Journal,
    targets: Sequence[SshTarget],
    command: str,
    *,
    registry: Any = None,
    on_session: Callable[[SshSession], None] | None = None,
) -> list[HostResult]:
    """Run ``command`` on every target at once; one ``HostResult`` each, in order. A host that fails
    (unknown key, refused …) has ``error`` set; the others still run."""

    async def one(target: SshTarget) -> HostResult:
        result = HostResult(target)
        try:
            session = SshSession(journal, target, command, collect=COLLECT_LIMIT)
        except NetlabError as exc:
            result.error, result.exception = str(exc), exc
            return result
        result.session = session
        if on_session is not None:
            on_session(session)
        try:
            if registry is not None:
                await registry.start(session)
            else:
                await session.start()
            result.code = await session.wait()
            result.error = session.error_message
        except NetlabError as exc:
            result.error, result.exception = str(exc), exc
        finally:
            if registry is not None:
                registry.remove(session)
        result.stdout = bytes(session.stdout)
        result.stderr = bytes(session.stderr)
        return result

    return list(await asyncio.gather(*(one(t) for t in targets)))


@dataclass
class Comparison:
    """Several hosts' outputs: identical or not, side by side, and unified diffs against the first."""

    results: list[HostResult]
    diffs: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (label a, label b, diff lines)

    @property
    def identical(self) -> bool:
        return all(not lines for _a, _b, lines in self.diffs)

    def side_by_side(self, width: int = 120) -> list[str]:
        """The outputs in columns, a ``|`` gutter, and ``*`` at the start of rows where hosts differ."""
        count = len(self.results)
        if not count:
            return []
        column = max(8, (width - 2 - 3 * (count - 1)) // count)
        columns = [r.text.expandtabs(8).splitlines() for r in self.results]
        rows = max((len(c) for c in columns), default=0)

        def cell(text: str) -> str:
            return text[: column - 1] + "…" if len(text) > column else text.ljust(column)

        lines = ["  " + " | ".join(cell(f"{r.label} ({r.status})") for r in self.results)]
        lines.append("  " + "-+-".join("-" * column for _ in self.results))
        for row in range(rows):
            values = [c[row] if row < len(c) else "" for c in columns]
            mark = "* " if len(set(values)) > 1 else "  "
            lines.append((mark + " | ".join(cell(v) for v in values)).rstrip())
        return lines


def compare(results: Sequence[HostResult]) -> Comparison:
    comparison = Comparison(list(results))
    if not results:
        return comparison
    first = results[0]
    base = first.text.splitlines(keepends=True)
    for other in results[1:]:
        lines = list(difflib.unified_diff(base, other.text.splitlines(keepends=True),
                                          fromfile=first.label, tofile=other.label))
        comparison.diffs.append((first.label, other.label, [line.rstrip("\n") for line in lines]))
    return comparison


def with_defaults(target: SshTarget, **changes: Any) -> SshTarget:
    """A copy of ``target`` with some fields changed (e.g. ``trust=True`` after the user confirmed)."""
    return replace(target, **changes)
