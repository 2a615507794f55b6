"""Probes: netlab's own clients exercising the learner's server, as a check.

A probe is a list of actions run in order, each a one-line TOML table::

    probe = [
      {connect = "a"}, {expect = "a", text = "primary"},
      {connect = "b"}, {expect = "b", text = "secondary"},
      {close = "a"},   {expect = "b", text = "primary", timeout = 3},
    ]

``connect`` opens a named TCP client (``udp = true`` for a UDP one) to the check's ``target`` (or its own);
``send`` writes ``text``/``line``/``hex``/``json``; ``expect`` waits for what the client has received and not
yet consumed to contain ``text``, match ``regex``, parse as JSON with ``json`` paths, or end (``eof``);
``shutdown`` half-closes, ``close`` closes, ``sleep`` waits; ``http`` makes one HTTP request and checks
``status``, ``text`` and ``json``. Every byte goes through the journal like any other client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

from netlab_tui.engine.core.events import format_addr, new_conn_id
from netlab_tui.engine.core.journal import Journal
from netlab_tui.engine.core.sessions import NetlabError, Session
from netlab_tui.engine.sockets.tcp import TcpClient

from .checks import CheckContext, CheckSyntaxError, Outcome, json_path, payload_documents, same_value, shorten

DEFAULT_EXPECT_TIMEOUT = 3.0
MAX_SLEEP = 30.0

_ACTION_KEYS: dict[str, set[str]] = {
    "connect": {"target", "udp"},
    "send": {"text", "line", "hex", "json"},
    "expect": {"text", "regex", "json", "eof", "timeout"},
    "shutdown": set(),
    "close": set(),
    "sleep": set(),
    "http": {"path", "target", "headers", "body", "body_json", "status", "text", "json", "timeout"},
}


def parse_actions(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise CheckSyntaxError("probe must be a list of actions such as [{connect = \"a\"}, ...]", "probe")
    clients: dict[str, bool] = {}  # name -> udp
    actions = []
    for position, action in enumerate(value, 1):
        where = f"probe action {position}"
        if not isinstance(action, dict):
            raise CheckSyntaxError(f"{where} must be a table such as {{connect = \"a\"}}", "probe")
        verbs = [k for k in _ACTION_KEYS if k in action]
        if len(verbs) != 1:
            raise CheckSyntaxError(f"{where} needs exactly one of {', '.join(_ACTION_KEYS)}", "probe")
        verb = verbs[0]
        extra = set(action) - {verb} - _ACTION_KEYS[verb]
        if extra:
            raise CheckSyntaxError(f"{where}: unknown key {sorted(extra)[0]!r} for {verb}", "probe")
        subject = action[verb]
        if verb == "sleep":
            if isinstance(subject, bool) or not isinstance(subject, (int, float)) or not 0 <= subject <= MAX_SLEEP:
                raise CheckSyntaxError(f"{where}: sleep takes seconds (0 to {MAX_SLEEP:g})", "probe")
        elif verb == "http":
            if subject not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
                raise CheckSyntaxError(f"{where}: http takes a method such as \"GET\"", "probe")
            if "status" in action and (isinstance(action["status"], bool) or not isinstance(action["status"], int)):
                raise CheckSyntaxError(f"{where}: status must be a number", "probe")
        else:
            if not isinstance(subject, str) or not re.fullmatch(r"[\w-]+", subject):
                raise CheckSyntaxError(f"{where}: {verb} takes a client name such as \"a\"", "probe")
            if verb == "connect":
                clients[subject] = bool(action.get("udp", False))
            elif subject not in clients:
                raise CheckSyntaxError(f"{where}: client {subject!r} is not connected by an earlier action", "probe")
            if verb == "send":
                payloads = [k for k in ("text", "line", "hex", "json") if k in action]
                if len(payloads) != 1:
                    raise CheckSyntaxError(f"{where}: send needs one of text, line, hex, json", "probe")
                if "hex" in action:
                    try:
                        bytes.fromhex(str(action["hex"]))
                    except ValueError:
                        raise CheckSyntaxError(f"{where}: hex is not valid hex digits", "probe") from None
            if verb == "expect":
                wanted = [k for k in ("text", "regex", "json", "eof") if k in action]
                if len(wanted) != 1:
                    raise CheckSyntaxError(f"{where}: expect needs one of text, regex, json, eof", "probe")
                if "regex" in action:
                    try:
                        re.compile(str(action["regex"]))
                    except re.error as exc:
                        raise CheckSyntaxError(f"{where}: invalid regex: {exc}", "probe") from None
                if "eof" in action and clients[subject]:
                    raise CheckSyntaxError(f"{where}: a UDP client has no end of stream", "probe")
        if "timeout" in action:
            if isinstance(action["timeout"], bool) or not isinstance(action["timeout"], (int, float)) \
                    or action["timeout"] <= 0:
                raise CheckSyntaxError(f"{where}: timeout must be positive seconds", "probe")
        actions.append(dict(action))
    return actions


def describe_action(action: dict[str, Any]) -> str:
    if "connect" in action:
        return f"connect {action['connect']}" + (" (UDP)" if action.get("udp") else "")
    if "send" in action:
        payload = next(action[k] for k in ("text", "line", "hex", "json") if k in action)
        return f"{action['send']} sends {payload!r}"
    if "expect" in action:
        if action.get("eof"):
            return f"{action['expect']} sees the server close"
        wanted = next(action[k] for k in ("text", "regex", "json") if k in action)
        return f"{action['expect']} receives {wanted!r}"
    if "http" in action:
        return f"{action['http']} {action.get('path', '/')}" + (f" → {action['status']}" if "status" in action else "")
    if "sleep" in action:
        return f"wait {action['sleep']}s"
    verb = next(iter(action))
    return f"{verb} {action[verb]}"


def split_target(target: str) -> tuple[str, int]:
    """``host:port``, ``[::1]:port`` or a bare port (on 127.0.0.1)."""
    target = target.strip()
    if target.isdigit():
        return "127.0.0.1", int(target)
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise NetlabError(f"probe target {target!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


class ProbeSession(Session):
    """Carries the events of probe clients that are not TcpClients (UDP datagrams, HTTP exchanges)."""

    kind = "lab-probe"
    proto = "tcp"
    role = "client"

    async def _start(self) -> None:
        return None

    async def _stop(self) -> None:
        return None


class _ProbeTcpClient(TcpClient):
    """A TcpClient whose events say which probe client they come from (``probe a 127.0.0.1:…``)."""

    def __init__(self, label: str, journal: Journal, host: str, port: int) -> None:
        self.label = label
        super().__init__(journal, host, port, connect_timeout=5.0)
        self.name = f"probe {label}→{format_addr(host, port)}"

    def set_name(self, base: str) -> None:
        super().set_name(base.replace("tcp-client", f"probe {self.label}", 1))


class _UdpProbe(asyncio.DatagramProtocol):
    def __init__(self, client: "_Client") -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.client.received(data)
        self.client.emit("data", "in", data)


class _Client:
    """One probe client: what it received and has not consumed yet, and whether the peer closed."""

    def __init__(self, name: str, probe: ProbeSession) -> None:
        self.name = name
        self.probe = probe
        self.buffer = b""
        self.eof = False
        self.changed = asyncio.Event()
        self.tcp: TcpClient | None = None
        self.udp: asyncio.DatagramTransport | None = None
        self.local: str | None = None
        self.peer: str | None = None
        self.conn = new_conn_id("udp")

    def received(self, data: bytes | None) -> None:
        if data is None:
            self.eof = True
        else:
            self.buffer += data
        self.changed.set()

    def emit(self, kind: str, direction: str | None, payload: bytes | None = None, message: str | None = None):
        self.probe.emit(kind, direction=direction, payload=payload, message=message, local=self.local,
                        peer=self.peer, conn=self.conn, proto="udp")

    async def connect(self, journal: Journal, host: str, port: int, udp: bool) -> None:
        if udp:
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProbe(self), remote_addr=(host, port))
            self.udp = transport  # type: ignore[assignment]
            sockname = transport.get_extra_info("sockname")
            self.local = format_addr(sockname[0], sockname[1])
            self.peer = format_addr(host, port)
            self.emit("info", None, message=f"probe {self.name}: UDP socket to {self.peer}")
            return
        client = _ProbeTcpClient(self.name, journal, host, port)
        client.on_receive(self.received)
        await client.start()
        self.tcp = client

    async def send(self, data: bytes) -> None:
        if self.udp is not None:
            self.udp.sendto(data)
            self.emit("data", "out", data)
        elif self.tcp is not None:
            await self.tcp.send(data)

    async def close(self) -> None:
        if self.udp is not None:
            self.udp.close()
            self.udp = None
        if self.tcp is not None:
            await self.tcp.stop()


async def run_probe(actions: list[dict[str, Any]], target: str, ctx: CheckContext, journal: Journal,
                    deadline: float | None = None) -> Outcome:
    """Play the actions; the first that fails gives the outcome's sentence."""
    probe = ProbeSession(journal, name="lab-probe")
    await probe.start()
    clients: dict[str, _Client] = {}
    try:
        default_host, default_port = split_target(ctx.render(target)) if target else ("127.0.0.1", 0)
        for position, action in enumerate(actions, 1):
            action = ctx.variables.render_value(action)
            try:
                problem = await _play(action, clients, probe, journal, (default_host, default_port), deadline)
            except NetlabError as exc:
                problem = str(exc)
            except OSError as exc:
                problem = f"{exc.strerror or exc}"
            if problem:
                return Outcome(False, f"probe step {position} ({describe_action(action)}): {problem}")
        return Outcome(True, f"probe passed: {'; '.join(describe_action(a) for a in actions)}")
    finally:
        for client in clients.values():
            with contextlib.suppress(Exception):
                await client.close()
        await probe.stop()


async def _play(action: dict[str, Any], clients: dict[str, _Client], probe: ProbeSession, journal: Journal,
                default: tuple[str, int], deadline: float | None) -> str | None:
    if "sleep" in action:
        await asyncio.sleep(float(action["sleep"]))
        return None
    if "http" in action:
        return await _http(action, probe, default)
    if "connect" in action:
        host, port = split_target(str(action["target"])) if "target" in action else default
        if not port:
            return "no target: give the check a target = \"HOST:PORT\""
        client = _Client(action["connect"], probe)
        clients[action["connect"]] = client
        await client.connect(journal, host, port, bool(action.get("udp")))
        return None
    name = next(action[k] for k in ("send", "expect", "shutdown", "close") if k in action)
    client = clients[name]
    if "send" in action:
        if "hex" in action:
            data = bytes.fromhex(str(action["hex"]))
        elif "json" in action:
            data = json.dumps(action["json"]).encode()
        elif "line" in action:
            data = (str(action["line"]) + "\n").encode()
        else:
            data = str(action["text"]).encode()
        await client.send(data)
        return None
    if "shutdown" in action:
        if client.tcp is None:
            return "a UDP client cannot half-close"
        await client.tcp.shutdown_write()
        return None
    if "close" in action:
        await client.close()
        return None
    return await _expect(client, action, deadline)


async def _expect(client: _Client, action: dict[str, Any], deadline: float | None) -> str | None:
    timeout = float(action.get("timeout", DEFAULT_EXPECT_TIMEOUT))
    if deadline is not None:
        timeout = max(0.1, min(timeout, deadline - time.monotonic()))
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while True:
        consumed = _consume(client, action)
        if consumed is not None:
            client.buffer = client.buffer[consumed:]
            return None
        if client.eof and not action.get("eof"):
            break
        remaining = until - loop.time()
        if remaining <= 0:
            break
        client.changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await client.changed.wait()
    seen = shorten(client.buffer.decode("utf-8", errors="replace")) if client.buffer else "nothing"
    closed = " and the server closed the connection" if client.eof and not action.get("eof") else ""
    return f"not seen within {timeout:g}s; {client.name} received {seen!r}{closed}"


def _consume(client: _Client, action: dict[str, Any]) -> int | None:
    """How many buffered bytes the expectation consumes, or None when it is not met yet."""
    buffer = client.buffer
    if action.get("eof"):
        return len(buffer) if client.eof else None
    if "text" in action:
        needle = str(action["text"]).encode()
        index = buffer.find(needle)
        return None if index < 0 else index + len(needle)
    if "regex" in action:
        match = re.search(str(action["regex"]).encode(), buffer)
        return None if match is None else match.end()
    wanted = action["json"]
    for document in payload_documents(buffer):
        if isinstance(wanted, dict) and all((hit := json_path(document, path))[0] and same_value(hit[1], value)
                                            for path, value in wanted.items()):
            return len(buffer)
        if not isinstance(wanted, dict) and same_value(document, wanted):
            return len(buffer)
    return None


async def _http(action: dict[str, Any], probe: ProbeSession, default: tuple[str, int]) -> str | None:
    import httpx

    host, port = split_target(str(action["target"])) if "target" in action else default
    url = f"http://{format_addr(host, port)}{action.get('path', '/')}"
    method = action["http"]
    content = None
    headers = dict(action.get("headers") or {})
    if "body_json" in action:
        content = json.dumps(action["body_json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "body" in action:
        content = str(action["body"]).encode()
    conn = new_conn_id("http")
    peer = format_addr(host, port)
    probe.emit("request", direction="out", payload=content, peer=peer, conn=conn, proto="http",
               message=f"{method} {url}", meta={"method": method, "url": url})
    try:
        async with httpx.AsyncClient(timeout=float(action.get("timeout", DEFAULT_EXPECT_TIMEOUT))) as client:
            response = await client.request(method, url, content=content, headers=headers)
    except httpx.HTTPError as exc:
        probe.emit("error", peer=peer, conn=conn, proto="http", message=f"{method} {url}: {exc}")
        return f"request failed: {exc.__class__.__name__}: {exc}"
    probe.emit("response", direction="in", payload=response.content, peer=peer, conn=conn, proto="http",
               meta={"status": response.status_code, "method": method, "url": url})
    if "status" in action and response.status_code != action["status"]:
        return f"status {response.status_code}, expected {action['status']}"
    body = response.text
    if "text" in action and str(action["text"]) not in body:
        return f"the body does not contain {action['text']!r} (got {shorten(body)!r})"
    if "json" in action:
        try:
            document = response.json()
        except ValueError:
            return f"the body is not JSON (got {shorten(body)!r})"
        for path, expected in action["json"].items():
            found, value = json_path(document, path)
            if not found:
                return f"the JSON has no {path}"
            if not same_value(value, expected):
                return f"{path} is {value!r}, expected {expected!r}"
    return None
