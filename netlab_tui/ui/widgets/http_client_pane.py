"""HTTP client: build a request (method, URL, query, headers, body, auth, options), send it, and read the
response — status, headers, pretty body, size and time — next to the exact bytes that crossed the wire.
Every request goes to the history, to reopen or resend; any request can be copied as a curl command."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Label,
    RichLog,
    Select,
    TabbedContent,
    TabPane,
    TextArea,
)

from netlab_tui.engine.core.place import current_place
from netlab_tui.engine.core.sessions import NetlabError
from netlab_tui.engine.http.client import (
    AUTH_KINDS,
    BODY_KINDS,
    METHODS,
    HttpClient,
    HttpExchange,
    HttpRequestSpec,
    HttpResult,
)
from netlab_tui.ui.panes import register_pane

from .base import NetlabPane
from .check_box import NetlabCheckbox
from .history_input import HistoryInput
from .host_select import HostSelect
from .key_value_table import KeyValueTable

RAW_SHOWN = 64 * 1024  # bytes of each direction shown in the Raw tab (the inspector shows everything)
HISTORY_SIZE = 200
NO_SERVER_PLACEHOLDER = "http://host:port/path — or start the HTTP lab server in Servers, then c there"
CURL_FILE = "netlab-request.curl.sh"


def status_style(status: int) -> str:
    if status >= 500:
        return "bold white on red"
    if status >= 400:
        return "bold black on yellow"
    if status >= 300:
        return "bold black on cyan"
    return "bold black on green"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


_WIRE_TOKENS = re.compile(r"[\x20-\x7e\t]+|\r|\n|[^\x20-\x7e\t\r\n]")


def wire_text(data: bytes, style: str) -> Text:
    """Bytes as they were: printable ASCII as is, CR and LF made visible (␍␊), anything else as \\xNN."""
    text = Text()
    for match in _WIRE_TOKENS.finditer(data[:RAW_SHOWN].decode("latin-1")):
        token = match.group()
        if token == "\r":
            text.append("␍", style="dim")
        elif token == "\n":
            text.append("␊\n", style="dim")
        elif len(token) == 1 and not (" " <= token <= "~" or token == "\t"):
            text.append(f"\\x{ord(token):02x}", style="magenta")
        else:
            text.append(token, style=style)
    if len(data) > RAW_SHOWN:
        text.append(f"\n… {len(data) - RAW_SHOWN:,} more bytes (select the event in the traffic log to see all)",
                    style="italic")
    text.rstrip()
    return text


@register_pane
class HttpClientPane(NetlabPane):
    PANE_ID = "http-client"
    PANE_TITLE = "HTTP client"
    ORDER = 30
    HELP = """\
## HTTP client
What `requests`/`httpx` do, with the wire in view.

1. Pick a **method**, type a **URL** (`127.0.0.1:8080/get` — start *HTTP lab server* in *Servers*),
   press **Enter** or **Ctrl+S**.
2. **Query** and **Headers**: type a name and a value, Enter adds the row; Delete removes the selected
   row, Enter on a row takes it back for editing.
3. **Body**: JSON (checked before sending), form fields (URL-encoded) or raw text.
   **Auth**: basic (user and password) or a bearer token. **Options**: timeout, redirects.
4. **Response**: the status (coloured), size, time, headers and the body pretty-printed.
   **Raw**: the exact bytes sent and received, hop by hop (␍␊ is CR LF).
5. **History**: Enter (or **Open**) puts a past request back in the form with its response;
   **Resend** sends it again. **curl** (Ctrl+Y) writes the request as a curl command to `netlab-request.curl.sh` in the
   current directory and offers it to the terminal's clipboard (OSC 52, if your terminal accepts it).
"""

    BINDINGS: ClassVar = [
        Binding("ctrl+s", "send", "Send", id="http-client.send"),
        Binding("ctrl+y", "copy_curl", "As curl", id="http-client.curl"),
    ]

    DEFAULT_CSS = """
    HttpClientPane #http-method { width: 15; }
    HttpClientPane #http-url { width: 1fr; }
    HttpClientPane #http-status { width: 1fr; height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    HttpClientPane #http-tabs { height: 1fr; }
    HttpClientPane TabPane { height: 1fr; padding: 0; }
    HttpClientPane #http-body-kind, HttpClientPane #http-auth-kind { width: 16; }
    HttpClientPane #http-body { height: 1fr; }
    HttpClientPane .http-auth-fields Input { width: 1fr; }
    HttpClientPane #http-timeout, HttpClientPane #http-max-redirects { width: 10; }
    HttpClientPane #http-response, HttpClientPane #http-raw { height: 1fr; }
    HttpClientPane #http-history { height: 1fr; }
    HttpClientPane .http-history-buttons { height: auto; }
    HttpClientPane .http-history-buttons Button { width: auto; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client: HttpClient | None = None
        self.history: list[HttpResult] = []
        self.shown: HttpResult | None = None  # what the Response and Raw tabs show
        self.last_curl: str | None = None
        self._auto_url = ""  # the URL this pane filled in itself from a running server (replaced, never what you typed)

    def compose(self) -> ComposeResult:
        yield HostSelect()
        with Horizontal(classes="form"):
            yield Select([(m, m) for m in METHODS], value="GET", allow_blank=False, id="http-method")
            yield HistoryInput("", id="http-url", placeholder=NO_SERVER_PLACEHOLDER)
            yield Button("Send", id="http-send", variant="primary")
            yield Button("curl", id="http-curl")
        yield Label("Enter sends · Ctrl+Y writes it as a curl command", id="http-status")
        with TabbedContent(id="http-tabs"):
            with TabPane("Query", id="http-tab-query"):
                yield KeyValueTable("parameter", "value", id="http-params")
            with TabPane("Headers", id="http-tab-headers"):
                yield KeyValueTable("header", "value", id="http-headers")
            with TabPane("Body", id="http-tab-body"):
                yield Select([(k, k) for k in BODY_KINDS], value="none", allow_blank=False, id="http-body-kind")
                yield TextArea(id="http-body", soft_wrap=True)
                yield KeyValueTable("field", "value", id="http-form")
            with TabPane("Auth", id="http-tab-auth"):
                with Horizontal(classes="form http-auth-fields"):
                    yield Select([(k, k) for k in AUTH_KINDS], value="none", allow_blank=False, id="http-auth-kind")
                    yield Input(placeholder="user", id="http-user")
                    yield Input(placeholder="password", password=True, id="http-password")
                    yield Input(placeholder="bearer token", id="http-token")
            with TabPane("Options", id="http-tab-options"):
                with Horizontal(classes="form"):
                    yield Label("Timeout (s)")
                    yield Input("10", id="http-timeout", type="number")
                    yield NetlabCheckbox("Follow redirects", id="http-follow")
                    yield Label("at most")
                    yield Input("10", id="http-max-redirects", type="integer")
            with TabPane("Response", id="http-tab-response"):
                yield RichLog(id="http-response", wrap=True, markup=False, max_lines=20000)
            with TabPane("Raw", id="http-tab-raw"):
                yield RichLog(id="http-raw", wrap=True, markup=False, max_lines=20000)
            with TabPane("History", id="http-tab-history"):
                with Vertical():
                    yield DataTable(id="http-history", cursor_type="row", zebra_stripes=True)
                    with Horizontal(classes="form http-history-buttons"):
                        yield Button("Open", id="http-history-open")
                        yield Button("Resend", id="http-history-resend", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#http-history", DataTable).add_columns("Time", "Method", "URL", "Status", "Size", "ms")
        self._show_body_fields("none")
        self._show_auth_fields("none")
        self._unsubscribe = self.netlab.registry.subscribe(self._session_changed)
        self.call_after_refresh(self._aim_at_running_server)

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _session_changed(self, session) -> None:
        if session.role == "server" and session.proto == "http":
            self.call_later(self._aim_at_running_server)

    def _aim_at_running_server(self) -> None:
        """An untouched URL field follows the running HTTP lab server (no default port where nothing runs)."""
        if not self.is_mounted:
            return
        field = self.query_one("#http-url", Input)
        if field.value not in ("", self._auto_url):
            return
        servers = [s for s in self.netlab.registry.sessions(role="server")
                   if s.kind == "http" and s.running and getattr(s, "url", None)]
        url = f"{servers[-1].url.rstrip('/')}/" if servers else ""
        field.value = self._auto_url = url
        if self.shown is None:  # nothing sent yet: the status line says where a server comes from
            self._set_status(Text(f"Enter sends to {url} · Ctrl+Y writes it as a curl command" if url else
                                  "No HTTP server runs: start the HTTP lab server in Servers, then c on it "
                                  "(or type a URL)"))

    # -- the form ------------------------------------------------------------------------------------
    def spec_from_form(self) -> HttpRequestSpec:
        timeout_text = self.query_one("#http-timeout", Input).value.strip() or "10"
        redirects_text = self.query_one("#http-max-redirects", Input).value.strip() or "10"
        try:
            timeout = float(timeout_text)
        except ValueError:
            raise NetlabError(f"the timeout must be a number of seconds, not {timeout_text!r}") from None
        try:
            max_redirects = int(redirects_text)
        except ValueError:
            raise NetlabError(f"the redirect limit must be a whole number, not {redirects_text!r}") from None
        return HttpRequestSpec(
            method=str(self.query_one("#http-method", Select).value),
            url=self.query_one("#http-url", Input).value,
            params=self.query_one("#http-params", KeyValueTable).pairs,
            headers=self.query_one("#http-headers", KeyValueTable).pairs,
            body_kind=str(self.query_one("#http-body-kind", Select).value),
            body=self.query_one("#http-body", TextArea).text,
            form=self.query_one("#http-form", KeyValueTable).pairs,
            auth_kind=str(self.query_one("#http-auth-kind", Select).value),
            username=self.query_one("#http-user", Input).value,
            password=self.query_one("#http-password", Input).value,
            token=self.query_one("#http-token", Input).value.strip(),
            timeout=timeout,
            follow_redirects=self.query_one("#http-follow", Checkbox).value,
            max_redirects=max_redirects,
        )

    def fill_form(self, spec: HttpRequestSpec) -> None:
        method = spec.method.upper()
        self.query_one("#http-method", Select).value = method if method in METHODS else "GET"
        self.query_one("#http-url", Input).value = spec.url
        self.query_one("#http-params", KeyValueTable).set_pairs(spec.params)
        self.query_one("#http-headers", KeyValueTable).set_pairs(spec.headers)
        self.query_one("#http-body-kind", Select).value = spec.body_kind
        self.query_one("#http-body", TextArea).text = spec.body
        self.query_one("#http-form", KeyValueTable).set_pairs(spec.form)
        self.query_one("#http-auth-kind", Select).value = spec.auth_kind
        self.query_one("#http-user", Input).value = spec.username
        self.query_one("#http-password", Input).value = spec.password
        self.query_one("#http-token", Input).value = spec.token
        self.query_one("#http-timeout", Input).value = f"{spec.timeout:g}"
        self.query_one("#http-follow", Checkbox).value = spec.follow_redirects
        self.query_one("#http-max-redirects", Input).value = str(spec.max_redirects)

    def prefill(self, **values: object) -> None:
        spec = self.spec_from_form()
        if "url" in values:
            spec.url = str(values["url"])
        if "method" in values:
            spec.method = str(values["method"]).upper()
        if "body" in values:
            spec.body = str(values["body"])
            spec.body_kind = str(values.get("body_kind", "json"))
        if "headers" in values and isinstance(values["headers"], (list, dict)):
            items = values["headers"].items() if isinstance(values["headers"], dict) else values["headers"]
            spec.headers = [(str(k), str(v)) for k, v in items]
        self.fill_form(spec)

    def connect_to(self, url: str, **values: object) -> None:
        """Aim the form at a running server (the Servers pane's ``c``): its URL, the cursor at its end."""
        self.prefill(url=url, **values)
        field = self.query_one("#http-url", Input)
        field.focus()
        field.cursor_position = len(field.value)
        self._set_status(Text(f"{url}: add a path if you like, Enter sends {self.query_one('#http-method', Select).value}"))

    @on(Select.Changed, "#http-body-kind")
    def _body_kind_changed(self, event: Select.Changed) -> None:
        self._show_body_fields(str(event.value))

    def _show_body_fields(self, kind: str) -> None:
        self.query_one("#http-body", TextArea).display = kind in ("json", "raw")
        self.query_one("#http-form", KeyValueTable).display = kind == "form"

    @on(Select.Changed, "#http-auth-kind")
    def _auth_kind_changed(self, event: Select.Changed) -> None:
        self._show_auth_fields(str(event.value))

    def _show_auth_fields(self, kind: str) -> None:
        self.query_one("#http-user", Input).display = kind == "basic"
        self.query_one("#http-password", Input).display = kind == "basic"
        self.query_one("#http-token", Input).display = kind == "bearer"

    # -- sending -------------------------------------------------------------------------------------
    @on(Button.Pressed, "#http-send")
    @on(Input.Submitted, "#http-url")
    def action_send(self) -> None:
        try:
            spec = self.spec_from_form()
            spec.build()  # validate here, so a mistake is reported before any I/O
        except NetlabError as exc:
            self._set_status(Text(f"not sent: {exc}", style="bold red"))
            self.notify(str(exc), title="Cannot send", severity="error")
            return
        self.send_request(spec)

    @work(exclusive=True, group="http-client", exit_on_error=False)
    async def send_request(self, spec: HttpRequestSpec) -> None:
        self._set_status(Text(f"sending {spec.method} {spec.url} …"))
        try:
            if self.client is not None and self.client.running and self.client.place is not current_place.get():
                await self.netlab.registry.stop(self.client)  # another host was chosen: connect from there
            if self.client is None or not self.client.running:
                self.client = HttpClient(self.netlab.journal)
                await self.netlab.registry.start(self.client)
            result = await self.client.send(spec)
        except NetlabError as exc:
            self._set_status(Text(f"failed: {exc}", style="bold red"))
            self.notify(str(exc), title="Request failed", severity="error")
            return
        self._add_history(result)
        self.show_result(result)
        self.query_one("#http-tabs", TabbedContent).active = "http-tab-response"

    @on(Button.Pressed, "#http-curl")
    def action_copy_curl(self) -> None:
        try:
            spec = self.spec_from_form()
            spec.build()
            command = spec.to_curl()
        except NetlabError as exc:
            self.notify(str(exc), title="Cannot build the command", severity="error")
            return
        self.last_curl = command
        # OSC 52 asks the terminal to put it on the clipboard; nothing says whether it did (tmux and many
        # terminals ignore it by default), so the command is also written to a file, and both are said.
        self.app.copy_to_clipboard(command)
        path = Path.cwd() / CURL_FILE
        try:
            path.write_text(command + "\n", encoding="utf-8")
            saved = f"saved to {path}"
        except OSError as exc:
            saved = f"not saved ({path}: {exc.strerror})"
        self._set_status(Text(f"curl command {saved}; also sent to the terminal clipboard (OSC 52)"))
        self.notify(f"{command}\n\n{saved}. Also sent to your terminal's clipboard by OSC 52 — "
                    "if your terminal ignores OSC 52, use the file.", title="curl command", timeout=10)

    # -- the response --------------------------------------------------------------------------------
    def show_result(self, result: HttpResult) -> None:
        self.shown = result
        final = result.final
        summary = Text.assemble(
            (f" {final.status} {final.reason} ", status_style(final.status)),
            f"  {human_size(final.size)} received · body {human_size(len(final.body))} · {result.elapsed_ms:.1f} ms",
        )
        if len(result.hops) > 1:
            summary.append("  via " + " → ".join(str(h.status) for h in result.hops), style="cyan")
        self._set_status(summary)
        self._render_response(result)
        self._render_raw(result)

    def _render_response(self, result: HttpResult) -> None:
        log = self.query_one("#http-response", RichLog)
        log.clear()
        final = result.final
        log.write(Text.assemble((f"HTTP/{final.http_version.removeprefix('HTTP/')} ", "bold"),
                                (f" {final.status} {final.reason} ", status_style(final.status)),
                                f"  {final.method} {final.url}"))
        timing = [f"{final.total_ms:.1f} ms"]
        if final.connect_ms is not None:
            timing.append(f"connect {final.connect_ms:.1f} ms")
        if final.ttfb_ms is not None:
            timing.append(f"first byte {final.ttfb_ms:.1f} ms")
        timing.append("kept-alive connection" if final.reused else "new connection")
        log.write(Text(" · ".join(timing) + f" · {final.local} → {final.peer}", style="dim"))
        for name, value in final.response_headers:
            log.write(Text.assemble((name, "bold cyan"), ": ", value))
        log.write(Text(""))
        body = final.pretty_body()
        if not body:
            log.write(Text("(no body)", style="dim italic"))
        elif "json" in final.content_type or body[:1] in "{[":
            log.write(Syntax(body, "json", word_wrap=True, background_color="default"))
        else:
            log.write(Text(body))

    def _render_raw(self, result: HttpResult) -> None:
        log = self.query_one("#http-raw", RichLog)
        log.clear()
        for number, hop in enumerate(result.hops, 1):
            prefix = f"hop {number} · " if len(result.hops) > 1 else ""
            log.write(Text(f"{prefix}→ sent to {hop.peer} ({len(hop.raw_sent)} bytes)", style="bold yellow"))
            log.write(wire_text(hop.raw_sent, "yellow"))
            log.write(Text(f"{prefix}← received from {hop.peer} ({len(hop.raw_received)} bytes)", style="bold green"))
            log.write(wire_text(hop.raw_received, "green"))

    # -- history -------------------------------------------------------------------------------------
    def _add_history(self, result: HttpResult) -> None:
        self.history.append(result)
        if len(self.history) > HISTORY_SIZE:
            self.history.pop(0)
        table = self.query_one("#http-history", DataTable)
        table.clear()
        for index, past in reversed(list(enumerate(self.history))):
            final: HttpExchange = past.final
            table.add_row(
                time.strftime("%H:%M:%S", time.localtime(past.started)), past.spec.method.upper(),
                past.spec.full_url(), Text(str(final.status), style=status_style(final.status)),
                human_size(final.size), f"{past.elapsed_ms:.0f}", key=str(index))

    def _selected_history(self) -> HttpResult | None:
        table = self.query_one("#http-history", DataTable)
        if not self.history or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.history[int(key)] if key is not None else None

    @on(DataTable.RowSelected, "#http-history")
    @on(Button.Pressed, "#http-history-open")
    def open_history(self) -> None:
        past = self._selected_history()
        if past is None:
            self.notify("nothing sent yet", severity="warning")
            return
        self.fill_form(past.spec.copy())
        self.show_result(past)
        self.query_one("#http-tabs", TabbedContent).active = "http-tab-response"

    @on(Button.Pressed, "#http-history-resend")
    def resend_history(self) -> None:
        past = self._selected_history()
        if past is None:
            self.notify("nothing sent yet", severity="warning")
            return
        self.fill_form(past.spec.copy())
        self.send_request(past.spec.copy())

    # -- helpers -------------------------------------------------------------------------------------
    def _set_status(self, text: Text) -> None:
        self.query_one("#http-status", Label).update(text)
