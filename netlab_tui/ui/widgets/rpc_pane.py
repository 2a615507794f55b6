"""RPC client: list an XML-RPC or JSON-RPC server's methods, call one, and read the XML or JSON documents
that the call put on the wire and got back."""

from __future__ import annotations

import json
import shlex
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, OptionList, RichLog, Select
from textual.widgets.option_list import Option

from netlab_tui.engine.core.place import current_place
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.rpc.client import RpcClient, RpcResult, parse_cli_value
from netlab_tui.engine.rpc.server import plain
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane
from .history_input import HistoryInput
from .host_select import HostSelect

PROTOCOLS = ("xml-rpc", "json-rpc")


def parse_params(text: str) -> list[Any] | dict[str, Any]:
    """``2 3``, ``ab "c d"`` (each a JSON value, or text), or one JSON array/object: ``[2, 3]``, ``{"days": 2}``."""
    text = text.strip()
    if not text:
        return []
    if text[0] in "[{":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NetlabError(f"the parameters are not valid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(value, (list, dict)):
            raise NetlabError("give the parameters as a JSON array or object")
        return value
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise NetlabError(f"cannot split the parameters: {exc}") from None
    return [parse_cli_value(word) for word in words]


@register_pane
class RpcPane(NetlabPane):
    PANE_ID = "rpc"
    PANE_TITLE = "RPC client"
    ORDER = 35
    HELP = """\
## RPC client
Remote procedure calls over HTTP — what `xmlrpc.client.ServerProxy` does, with the documents in view.

1. Start *XML-RPC service* in *Servers* (or `netlab serve xmlrpc`), give its URL; choose **xml-rpc**
   (URL `/` or `/RPC2`) or **json-rpc** (URL `/jsonrpc`).
2. **List methods** asks `system.listMethods`; pick one to see its help.
3. Type the **parameters** — `2 3` (numbers), `ab cd` (strings), `"2"` (a string), or one JSON
   array/object — and press **Enter** or **Call**.
4. The transcript shows the request document (→), the response document (←) and the result, or the
   fault with its code.
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+s", "call", "Call", id="rpc.call"),
    ]

    DEFAULT_CSS = """
    RpcPane #rpc-protocol { width: 17; }
    RpcPane #rpc-url { width: 1fr; }
    RpcPane #rpc-method { width: 24; }
    RpcPane #rpc-params { width: 1fr; }
    RpcPane #rpc-status { width: 1fr; height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    RpcPane #rpc-body { height: 1fr; }
    RpcPane #rpc-methods { width: 26; height: 1fr; border: round $primary-darken-3; }
    RpcPane #rpc-transcript { width: 1fr; height: 1fr; border: round $primary-darken-3; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client: RpcClient | None = None
        self.results: list[RpcResult] = []

    def compose(self) -> ComposeResult:
        yield HostSelect()
        with Horizontal(classes="form"):
            yield Select([(p, p) for p in PROTOCOLS], value="xml-rpc", allow_blank=False, id="rpc-protocol")
            yield Input("http://127.0.0.1:8000/", id="rpc-url", placeholder="http://host:port/ or …/jsonrpc")
            yield Button("List methods", id="rpc-list")
        with Horizontal(classes="form"):
            yield HistoryInput(placeholder="method", id="rpc-method")
            yield HistoryInput(placeholder="params: 2 3 · ab · [1, 2]", id="rpc-params")
            yield Button("Call", id="rpc-call", variant="primary")
        yield Label("List the methods, pick one, call it", id="rpc-status")
        with Horizontal(id="rpc-body"):
            yield OptionList(id="rpc-methods")
            yield RichLog(id="rpc-transcript", wrap=True, markup=False, max_lines=10000)

    def on_mount(self) -> None:
        self.query_one("#rpc-methods", OptionList).border_title = "Methods"

    def prefill(self, **values: object) -> None:
        if "url" in values:
            self.query_one("#rpc-url", Input).value = str(values["url"])
        if "protocol" in values and values["protocol"] in PROTOCOLS:
            self.query_one("#rpc-protocol", Select).value = str(values["protocol"])
        if "method" in values:
            self.query_one("#rpc-method", Input).value = str(values["method"])
        if "params" in values:
            self.query_one("#rpc-params", Input).value = str(values["params"])

    def connect_to(self, url: str, **values: object) -> None:
        """Aim the pane at a running XML-RPC service (the Servers pane's ``c``) and list its methods."""
        self.prefill(url=url, protocol=values.get("protocol", "xml-rpc"), **{k: v for k, v in values.items()
                                                                          if k != "protocol"})
        field = self.query_one("#rpc-url", Input)
        field.focus()
        field.cursor_position = len(field.value)
        self.list_methods()

    async def _client(self) -> RpcClient:
        url = self.query_one("#rpc-url", Input).value.strip()
        protocol = str(self.query_one("#rpc-protocol", Select).value)
        if not url:
            raise NetlabError("enter the server's URL, e.g. http://127.0.0.1:8000/")
        if self.client is not None and self.client.running and (self.client.url, self.client.protocol,
                                                                self.client.place) == (url, protocol, current_place.get()):
            return self.client
        if self.client is not None and self.client.running:
            await self.netlab.registry.stop(self.client)
        self.client = RpcClient(self.netlab.journal, url, protocol)
        await self.netlab.registry.start(self.client)
        return self.client

    # -- listing ---------------------------------------------------------------------------------------
    @on(Button.Pressed, "#rpc-list")
    @on(Input.Submitted, "#rpc-url")
    def _list_pressed(self) -> None:
        self.list_methods()

    @work(exclusive=True, group="rpc", exit_on_error=False)
    async def list_methods(self) -> None:
        try:
            client = await self._client()
            result = await client.call("system.listMethods", [])
        except NetlabError as exc:
            self._failed(exc)
            return
        self._show(result)
        if result.fault is not None or not isinstance(result.value, list):
            return
        methods = self.query_one("#rpc-methods", OptionList)
        methods.clear_options()
        methods.add_options([Option(str(name), id=str(name)) for name in result.value])
        self._set_status(Text(f"{len(result.value)} methods — pick one", style="green"))

    @on(OptionList.OptionSelected, "#rpc-methods")
    def _method_picked(self, event: OptionList.OptionSelected) -> None:
        name = str(event.option.id)
        self.query_one("#rpc-method", Input).value = name
        self.query_one("#rpc-params", Input).focus()
        self.describe(name)

    @work(exclusive=True, group="rpc", exit_on_error=False)
    async def describe(self, name: str) -> None:
        try:
            client = await self._client()
            result = await client.call("system.methodHelp", [name])
        except NetlabError as exc:
            self._failed(exc)
            return
        if result.fault is None and isinstance(result.value, str) and result.value:
            self._set_status(Text(result.value.splitlines()[0]))

    # -- calling ---------------------------------------------------------------------------------------
    @on(Button.Pressed, "#rpc-call")
    @on(Input.Submitted, "#rpc-method, #rpc-params")
    def action_call(self) -> None:
        method = self.query_one("#rpc-method", Input).value.strip()
        try:
            if not method:
                raise NetlabError("enter a method name (List methods shows them)")
            params = parse_params(self.query_one("#rpc-params", Input).value)
        except NetlabError as exc:
            self._failed(exc)
            return
        self.call(method, params)

    @work(exclusive=True, group="rpc", exit_on_error=False)
    async def call(self, method: str, params: list[Any] | dict[str, Any]) -> None:
        try:
            client = await self._client()
            result = await client.call(method, params)
        except NetlabError as exc:
            self._failed(exc)
            return
        self._show(result)

    # -- output ----------------------------------------------------------------------------------------
    def _show(self, result: RpcResult) -> None:
        self.results.append(result)
        log = self.query_one("#rpc-transcript", RichLog)
        args = ", ".join(json.dumps(plain(p), ensure_ascii=False) for p in result.params) \
            if isinstance(result.params, list) else json.dumps(plain(result.params), ensure_ascii=False)
        hop = result.exchange
        log.write(Text(f"{result.method}({args})  via {result.protocol} · HTTP {hop.status} · {hop.total_ms:.1f} ms",
                       style="bold"))
        log.write(Text(f"→ {len(result.request_body)} bytes", style="bold yellow"))
        log.write(Text(result.request_body.decode("utf-8", "replace").rstrip(), style="yellow"))
        log.write(Text(f"← {len(result.response_body)} bytes", style="bold green"))
        log.write(Text(result.response_body.decode("utf-8", "replace").rstrip(), style="green"))
        if result.fault is not None:
            line = Text(f"fault {result.fault.code}: {result.fault.message}", style="bold red")
            self._set_status(line)
        else:
            shown = json.dumps(plain(result.value), ensure_ascii=False)
            line = Text(f"= {shown}", style="bold")
            self._set_status(Text(f"{result.method} = {shown[:200]}", style="green"))
        log.write(line)
        log.write(Text(""))

    def _failed(self, exc: NetlabError) -> None:
        self._set_status(Text(f"failed: {exc}", style="bold red"))
        self.notify(str(exc), title="RPC failed", severity="error")

    def _set_status(self, text: Text) -> None:
        self.query_one("#rpc-status", Label).update(text)
