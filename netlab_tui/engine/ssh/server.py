"""``netlab serve ssh``: a lab SSH server on paramiko's server side, so the SSH lab needs no sshd.

It listens on 127.0.0.1 with a host key generated on first use (kept in netlab's data directory, so
clients that trusted it keep trusting it), lets the current user log in with a public key from
``~/.ssh/authorized_keys`` (or ``--authorized-keys FILE``) or with a password (``--password``, or a
random one shown when the server starts), and runs each exec request with the user's login shell, as
the user who started it — like sshd does for that user. A shell request without a command runs the
shell reading the channel (no terminal: ``pty-req`` is declined).

Every step is an event: ``accept``, the handshake (client version, cipher, host key), each
authentication attempt (never the password), ``request`` for exec, the bytes in both directions,
``exit`` with the status sent back, ``close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import hmac
import logging
import os
import pwd
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paramiko
import platformdirs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netlab_tui.engine.core.events import format_addr, new_conn_id, sockaddr_str
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.netutil import bind_error, check_port, is_all_interfaces, resolve
from netlab_tui.engine.core.place import place_command, place_socket
from netlab_tui.engine.core.sessions import NetlabError, Session

# paramiko logs socket errors it also raises; netlab reports those itself (one line, in the journal), so
# without a handler configured by the user they must not reach stderr through logging's last resort.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

READ_CHUNK = 32768
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


def default_host_key_path() -> Path:
    return platformdirs.user_data_path("netlab") / "ssh_host_ed25519_key"


def load_or_create_host_key(path: str | os.PathLike[str]) -> tuple[paramiko.PKey, bool]:
    """The host key at ``path``, generating an Ed25519 key there first if there is none.
    Returns ``(key, created)``."""
    file = Path(path).expanduser()
    created = False
    if not file.exists():
        try:
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            created = True
        except FileExistsError:  # another netlab created it meanwhile: use theirs
            pass
        except OSError as exc:
            raise NetlabError(f"cannot create the host key {file}: {exc.strerror or exc}") from None
    try:
        return paramiko.PKey.from_path(file), created
    except paramiko.PasswordRequiredException:
        raise NetlabError(f"host key {file} is encrypted; give an unencrypted key") from None
    except (paramiko.SSHException, ValueError, paramiko.UnknownKeyType) as exc:
        raise NetlabError(f"host key {file} is not a private key netlab can use ({exc})") from None
    except OSError as exc:
        raise NetlabError(f"cannot read the host key {file}: {exc.strerror or exc}") from None


def read_authorized_keys(path: str | os.PathLike[str]) -> list[tuple[str, bytes, str]]:
    """``(key type, key blob, comment)`` for each key line; options before the type are skipped."""
    import base64
    import binascii

    keys = []
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise NetlabError(f"authorized keys file not found: {path}") from None
    except OSError as exc:
        raise NetlabError(f"cannot read authorized keys file {path}: {exc.strerror or exc}") from None
    for line in text.splitlines():
        words = line.strip().split()
        if not words or words[0].startswith("#"):
            continue
        for i, word in enumerate(words[:-1]):
            if word in KEY_TYPES:
                with contextlib.suppress(binascii.Error, ValueError):
                    keys.append((word, base64.b64decode(words[i + 1], validate=True), " ".join(words[i + 2 :])))
                break
    return keys


class SshLabServer(Session):
    kind = "ssh"
    proto = "ssh"
    role = "server"

    def __init__(
        self,
        journal: Journal,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        password: str | None = None,
        authorized_keys: str | None = None,
        host_key: str | None = None,
    ) -> None:
        super().__init__(journal, name=f"ssh@{format_addr(host, port)}")
        self.host = host
        self.port = check_port(port)
        self.user = getpass.getuser()
        self.password_generated = password is None
        self._password = password if password is not None else secrets.token_urlsafe(12)
        self.authorized_keys_path = authorized_keys
        self.host_key_path = Path(host_key).expanduser() if host_key else default_host_key_path()
        self.host_key: paramiko.PKey | None = None
        self.authorized: list[tuple[str, bytes, str]] = []
        self.address: str | None = None
        self.connections: dict[str, str | None] = {}  # open connections: conn id -> peer
        self.total_connections = 0
        self._sock: socket.socket | None = None
        self._accept_task: asyncio.Task | None = None
        self._transports: set[paramiko.Transport] = set()
        self._processes: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def description(self) -> str:
        return f"{self.address or format_addr(self.host, self.port)}  {len(self.connections)} conn"

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping.clear()
        self.host_key, created = await loop.run_in_executor(None, load_or_create_host_key, self.host_key_path)
        keys_file = self.authorized_keys_path
        if keys_file is None:
            default = Path.home() / ".ssh" / "authorized_keys"
            keys_file = str(default) if default.is_file() else None
        self.authorized = read_authorized_keys(keys_file) if keys_file else []
        where = format_addr(self.host, self.port)
        family, sockaddr = await resolve(self.host, self.port, passive=True)
        # On a topology host (engine.core.place) the listening socket is opened there.
        sock = place_socket(self.place, family, socket.SOCK_STREAM) or socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(64)
        except OSError as exc:
            sock.close()
            raise bind_error(exc, where) from None
        sock.setblocking(False)
        self._sock = sock
        self.address = sockaddr_str(sock.getsockname())
        self.port = sock.getsockname()[1]
        self.set_name(f"ssh@{self.address}")
        fp = self.host_key.fingerprint
        login = f"user {self.user}, password " + (self._password if self.password_generated else "(as given)")
        if self.authorized:
            login += f" or one of {len(self.authorized)} authorized keys"
        meta: dict[str, Any] = {
            "kind": self.kind, "host": sock.getsockname()[0], "port": self.port, "user": self.user,
            "host_key_type": self.host_key.get_name(), "fingerprint": fp, "host_key_file": str(self.host_key_path),
            "host_key_created": created, "authorized_keys": len(self.authorized),
        }
        if self.password_generated:
            meta["password"] = self._password  # generated for this run: the user needs it to log in
        self.emit("listen", local=self.address, meta=meta,
                  message=f"SSH lab server listening on {self.address} ({self.host_key.get_name()} {fp}; {login})")
        if is_all_interfaces(self.host):
            self.emit("info", local=self.address, meta={"warning": "all-interfaces"},
                      message=f"warning: bound to all interfaces ({self.address}); other machines can reach a "
                              f"server that runs commands as {self.user}")
        self._accept_task = loop.create_task(self._accept_loop())

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._sock is not None
        while True:
            try:
                conn, addr = await loop.sock_accept(self._sock)
            except asyncio.CancelledError:
                return
            except OSError as exc:
                self.emit("error", local=self.address, message=f"accept failed: {exc.strerror or exc}")
                await asyncio.sleep(0.1)
                continue
            conn.setblocking(True)
            threading.Thread(target=self._serve, args=(conn, addr), name=f"netlab ssh {addr}", daemon=True).start()

    async def _stop(self) -> None:
        self._stopping.set()
        if self._accept_task is not None:
            self._accept_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accept_task
        if self._sock is not None:
            self._sock.close()
        with self._lock:
            processes = list(self._processes)
            transports = list(self._transports)
        for proc in processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        loop = asyncio.get_running_loop()
        for transport in transports:
            await loop.run_in_executor(None, transport.close)
        self.emit("info", local=self.address, message=f"{self.name} stopped", meta={"stopped": True})

    # -- events from threads -----------------------------------------------------------------------------
    def _emit(self, kind: str, **fields: Any) -> None:
        if self._loop is not None:
            self.emit_threadsafe(kind, **fields)

    def _changed_threadsafe(self) -> None:
        """Tell the registry's listeners (the Servers table) from a connection thread."""
        self.call_threadsafe(self._changed)

    # -- one connection (its own thread) -------------------------------------------------------------------
    def _serve(self, sock: socket.socket, addr: Any) -> None:
        peer = sockaddr_str(addr)
        local = sockaddr_str(sock.getsockname())
        cid = new_conn_id("ssh")
        where = {"local": local, "peer": peer, "conn": cid}
        self._emit("accept", message=f"connection from {peer}", **where)
        transport = paramiko.Transport(sock)
        assert self.host_key is not None
        transport.add_server_key(self.host_key)
        with self._lock:
            self._transports.add(transport)
            self.connections[cid] = peer
            self.total_connections += 1
        self._changed_threadsafe()
        interface = _LabInterface(self, where)
        closed_by = "peer"
        started = time.monotonic()
        try:
            try:
                transport.start_server(server=interface)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                self._emit("error", message=f"SSH handshake with {peer} failed: {exc or exc.__class__.__name__}",
                           **where)
                return
            self._emit("info", message=f"handshake with {peer}: {transport.remote_version}, "
                                       f"cipher {transport.remote_cipher}",
                       meta={"handshake": True, "client_version": transport.remote_version,
                             "cipher": transport.remote_cipher, "host_key_type": self.host_key.get_name(),
                             "fingerprint": self.host_key.fingerprint}, **where)
            announced = False
            while transport.is_active() and not self._stopping.is_set():
                channel = transport.accept(timeout=0.2)
                if not announced and transport.is_authenticated():
                    announced = True
                    method = interface.method
                    self._emit("auth", message=f"{transport.get_username()} logged in with {method}",
                               meta={"user": transport.get_username(), "method": method, "ok": True}, **where)
                if channel is not None:
                    self._emit("info", message=f"channel {channel.get_id()} opened",
                               meta={"channel": channel.get_id()}, **where)
            if self._stopping.is_set():
                closed_by = "server"
        finally:
            with self._lock:
                self._transports.discard(transport)
                self.connections.pop(cid, None)
            transport.close()
            self._changed_threadsafe()
            self._emit("close", message=f"{peer} disconnected" if closed_by == "peer" else "closed by server",
                       meta={"by": closed_by, "duration": round(time.monotonic() - started, 6)}, **where)

    # -- one command (its own thread) ------------------------------------------------------------------
    def run_command(self, channel: paramiko.Channel, command: str | None, where: dict[str, Any]) -> None:
        threading.Thread(target=self._run_command, args=(channel, command, where),
                         name=f"netlab ssh exec {where['conn']}", daemon=True).start()

    def _run_command(self, channel: paramiko.Channel, command: str | None, where: dict[str, Any]) -> None:
        account = pwd.getpwuid(os.getuid())
        shell = account.pw_shell or "/bin/sh"
        argv = [shell, "-c", command] if command is not None else [shell]
        peer_host, _, peer_port = (where["peer"] or "").rpartition(":")
        local_host, _, local_port = (where["local"] or "").rpartition(":")
        env = {**os.environ, "SSH_CLIENT": f"{peer_host.strip('[]')} {peer_port} {local_port}",
               "SSH_CONNECTION": f"{peer_host.strip('[]')} {peer_port} {local_host.strip('[]')} {local_port}",
               "USER": account.pw_name, "LOGNAME": account.pw_name, "HOME": account.pw_dir, "SHELL": shell}
        meta = {"channel": channel.get_id()}
        try:
            proc = subprocess.Popen(place_command(self.place, argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    cwd=account.pw_dir if os.path.isdir(account.pw_dir) else None, env=env,
                                    start_new_session=True)
        except OSError as exc:
            message = f"cannot run {shell}: {exc.strerror or exc}\n"
            self._emit("error", message=message.strip(), meta=meta, **where)
            with contextlib.suppress(Exception):
                channel.sendall_stderr(message.encode())
                channel.send_exit_status(127)
                channel.close()
            return
        with self._lock:
            self._processes.add(proc)
        started = time.monotonic()

        def pump(stream: Any, kind: str, send: Any) -> None:
            fd = stream.fileno()
            while True:
                data = os.read(fd, READ_CHUNK)
                if not data:
                    return
                self._emit(kind, direction="out", payload=data, meta=meta, **where)
                try:
                    send(data)
                except (OSError, EOFError, paramiko.SSHException):
                    return  # the client went away; keep draining so the process is not blocked

        def feed() -> None:
            assert proc.stdin is not None
            try:
                while True:
                    data = channel.recv(READ_CHUNK)
                    if not data:
                        break
                    self._emit("stdin", direction="in", payload=data, meta=meta, **where)
                    proc.stdin.write(data)
                    proc.stdin.flush()
            except (OSError, EOFError, ValueError, paramiko.SSHException):
                pass
            finally:
                with contextlib.suppress(OSError, ValueError):
                    proc.stdin.close()

        pumps = [threading.Thread(target=pump, args=(proc.stdout, "stdout", channel.sendall), daemon=True),
                 threading.Thread(target=pump, args=(proc.stderr, "stderr", channel.sendall_stderr), daemon=True)]
        for thread in pumps:
            thread.start()
        threading.Thread(target=feed, daemon=True).start()
        returncode = proc.wait()
        for thread in pumps:
            thread.join(timeout=5.0)
        with self._lock:
            self._processes.discard(proc)
        status = returncode if returncode >= 0 else 128 - returncode
        with contextlib.suppress(Exception):
            channel.send_exit_status(status)
            channel.shutdown_write()
            channel.close()
        self._emit("exit", message=f"sent exit status {status}",
                   meta={**meta, "code": status, "pid": proc.pid, "duration": round(time.monotonic() - started, 6)},
                   **where)
        for stream in (proc.stdout, proc.stderr):
            with contextlib.suppress(Exception):
                stream.close()

    # -- authentication (called from paramiko's thread) ------------------------------------------------
    def check_password(self, username: str, password: str) -> bool:
        return username == self.user and hmac.compare_digest(password.encode(), self._password.encode())

    def check_key(self, username: str, key: paramiko.PKey) -> bool:
        blob = key.asbytes()
        return username == self.user and any(hmac.compare_digest(blob, b) for _t, b, _c in self.authorized)


class _LabInterface(paramiko.ServerInterface):
    """paramiko's questions for one connection, answered by the server's settings."""

    def __init__(self, server: SshLabServer, where: dict[str, Any]) -> None:
        self.server = server
        self.where = where
        self.method = ""  # the method of the last accepted login (paramiko's server side does not keep it)

    def _auth_failed(self, username: str, method: str, why: str) -> int:
        self.server._emit("auth", message=f"{method} login for {username!r} refused: {why}",
                          meta={"user": username, "method": method, "ok": False}, **self.where)
        return paramiko.AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password"

    def check_auth_none(self, username: str) -> int:
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        if username != self.server.user:
            return self._auth_failed(username, "password", f"only {self.server.user} can log in here")
        if not self.server.check_password(username, password):
            return self._auth_failed(username, "password", "wrong password")
        self.method = "password"
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username != self.server.user:
            return self._auth_failed(username, "publickey", f"only {self.server.user} can log in here")
        if not self.server.check_key(username, key):
            return self._auth_failed(username, "publickey", f"{key.get_name()} {key.fingerprint} is not authorized")
        self.method = f"publickey {key.get_name()} {key.fingerprint}"
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        self.server._emit("info", message=f"refused a {kind!r} channel (only sessions are served)",
                          meta={"channel_kind": kind}, **self.where)
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = command.decode("utf-8", errors="replace")
        self.server._emit("request", message=f"exec: {text}", meta={"command": text, "channel": channel.get_id()},
                          **self.where)
        self.server.run_command(channel, text, self.where)
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.server._emit("request", message="shell (no terminal)", meta={"shell": True, "channel": channel.get_id()},
                          **self.where)
        self.server.run_command(channel, None, self.where)
        return True

    def check_channel_pty_request(self, channel, term, width, height, pixelwidth, pixelheight, modes) -> bool:
        self.server._emit("info", message="declined a terminal (pty-req): commands run without one",
                          meta={"pty": False, "channel": channel.get_id()}, **self.where)
        return False

    def check_channel_env_request(self, channel, name, value) -> bool:
        return False
