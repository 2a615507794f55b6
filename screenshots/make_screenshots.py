"""Draw the README's pictures: SVG screenshots of netlab at work, from real traffic on loopback.

Run it with ``./dev screenshots`` (or ``python screenshots/make_screenshots.py [--out DIR] [SCENE…]``).
Each scene starts a fresh ``NetlabApp`` at 140x42 under Textual's Pilot, drives it the way a learner
would (netlab's own servers on 127.0.0.1, real sockets, real processes), and saves the screen with
Textual's ``save_screenshot``. Nothing here is drawn by hand, so the pictures follow the code;
``tests/test_screenshots.py`` runs this script into a temporary folder so it cannot rot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's netlab_tui, whichever venv runs this

SIZE = (140, 42)
Scene = Callable[..., Awaitable[None]]
SCENES: dict[str, tuple[str, Scene]] = {}


def scene(name: str, caption: str) -> Callable[[Scene], Scene]:
    def register(func: Scene) -> Scene:
        SCENES[name] = (caption, func)
        return func
    return register


async def wait_for(pilot, condition, timeout: float = 20.0, what: str = "the scene") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def start_kind(app, kind: str, **options):
    from netlab_tui.engine.core.catalog import server_kinds

    return await app.registry.start(server_kinds()[kind].create(app.journal, host="127.0.0.1", port=0, **options))


async def talk(port: int, *messages: bytes, read: bool = True) -> None:
    """A course-style client: connect, send each message, read the reply, close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for message in messages:
        writer.write(message)
        await writer.drain()
        if read:
            await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    await writer.wait_closed()


async def select_last(pilot, app, predicate) -> None:
    """Select (and inspect) the newest journal event that matches, as F3 + arrows would."""
    from netlab_tui.ui.widgets.traffic_log import TrafficLog

    log = app.query_one(TrafficLog)
    await wait_for(pilot, lambda: any(predicate(e) for e in app.journal.events()), what="the event")
    event = [e for e in app.journal.events() if predicate(e)][-1]
    log.flush()
    app.select_event(event.seq)
    log.focus()
    await pilot.pause(0.3)


# -- the scenes ------------------------------------------------------------------------------------------
@scene("start", "netlab as it opens: tools, the active tool, the inspector and the live traffic log")
async def start_screen(app, pilot, tmp: Path) -> None:
    await pilot.pause(0.3)


@scene("servers", "Servers: tcp-echo and tcp-greet running, a course-style client's traffic in the log")
async def servers(app, pilot, tmp: Path) -> None:
    echo = await start_kind(app, "tcp-echo")
    await start_kind(app, "tcp-greet")
    await talk(echo.port, b"Hello\n", b"Bonjour, le monde\n", b"\x00\x01binary\xff\n")
    app.show_pane("servers", focus=True)
    await wait_for(pilot, lambda: sum(1 for e in app.journal.events() if e.kind == "data") >= 6)
    await pilot.pause(0.4)


@scene("tcp-client", "TCP client mid-conversation with tcp-echo: each recv() shown with its size")
async def tcp_client(app, pilot, tmp: Path) -> None:
    from textual.widgets import Input

    echo = await start_kind(app, "tcp-echo")
    pane = app.show_pane("tcp-client", host="127.0.0.1", port=echo.port)
    await pilot.pause()
    pane.query_one("#tcp-connect").press()
    message = app.query_one("#tcp-message", Input)
    await wait_for(pilot, lambda: not message.disabled, what="the connection")
    for text in ("Hello", "Bonjour le monde", "QUIT?"):
        message.focus()
        message.value = text
        await pilot.press("enter")
        await wait_for(pilot, lambda t=text: any(e.direction == "in" and t.encode() in e.payload
                                                 for e in app.journal.events() if e.source == pane.client.name))
    await pilot.pause(0.3)


@scene("http-client", "HTTP client: a GET to netlab's lab server, the exact bytes both ways in Raw")
async def http_client(app, pilot, tmp: Path) -> None:
    from textual.widgets import Input, TabbedContent

    from netlab_tui.engine.http.lab import LabHttpApp
    from netlab_tui.engine.http.server import HttpServer

    server = await app.registry.start(HttpServer(app.journal, LabHttpApp(db=str(tmp / "lab.db")), "127.0.0.1", 0))
    pane = app.show_pane("http-client", url=f"http://127.0.0.1:{server.port}/get?lang=fr&course=reseau")
    await pilot.pause()
    pane.query_one("#http-url", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(pane.history) == 1, what="the response")
    pane.query_one("#http-tabs", TabbedContent).active = "http-tab-raw"
    await pilot.pause(0.4)


@scene("scan", "Port scan of 127.0.0.1: open ports stream into the table as they are found")
async def scan(app, pilot, tmp: Path) -> None:
    from netlab_tui.ui.widgets.scan_pane import ScanPane

    servers = [await start_kind(app, kind) for kind in ("tcp-echo", "tcp-greet", "tcp-time", "http")]
    low = min(s.port for s in servers) - 40
    ports = f"{low}-{low + 120}," + ",".join(str(s.port) for s in servers)
    app.show_pane("scan", target="127.0.0.1", ports=ports, engine="connect")
    await pilot.pause()
    pane = app.query_one(ScanPane)
    pane.query_one("#scan-start").press()
    await wait_for(pilot, lambda: not pane.query_one("#scan-start").disabled
                   and any(e.proto == "scan" and e.kind != "port" for e in app.journal.events()
                           if e.meta.get("done") or e.kind in ("info", "exit", "close")), what="the scan")
    await pilot.pause(0.4)


@scene("shell", "Shell: a pipeline, each stage a process, stdout and stderr as events")
async def shell(app, pilot, tmp: Path) -> None:
    from textual.widgets import Input

    (tmp / "words.txt").write_text("tcp\nudp\nhttp\ntcp\nssh\nudp\ntcp\n")
    app.show_pane("shell", command="sort words.txt | uniq -c | sort -rn", mode="pipeline", cwd=str(tmp))
    await pilot.pause()
    app.query_one("#shell-command", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: any(e.proto == "shell" and e.kind == "exit" for e in app.journal.events()),
                   what="the pipeline")
    await pilot.pause(0.4)


@scene("ssh-host-key", "SSH: an unknown host key is shown with its fingerprint, never trusted silently")
async def ssh_host_key(app, pilot, tmp: Path) -> None:
    from netlab_tui.engine.ssh.server import SshLabServer
    from netlab_tui.ui.widgets.ssh_pane import TrustHostScreen

    lab = await app.registry.start(SshLabServer(app.journal, password="course", host_key=str(tmp / "host_key")))
    app.show_pane("ssh", host=f"student@127.0.0.1:{lab.port}", password="course", command="uname -a; id",
                  known_hosts=str(tmp / "known_hosts"))
    await pilot.pause()
    app.query_one("#ssh-run").press()
    await wait_for(pilot, lambda: isinstance(app.screen, TrustHostScreen), what="the host-key dialog")
    await pilot.pause(0.4)


@scene("inspector-pickle", "Inspector: a pickle shown with pickletools — what loads() would call, never loaded")
async def inspector_pickle(app, pilot, tmp: Path) -> None:
    echo = await start_kind(app, "tcp-echo")
    profile = {"name": "Ada", "langs": ["python", "php"], "admin": False, "scores": (17.5, 19)}
    await talk(echo.port, pickle.dumps(profile, protocol=4))
    await select_last(pilot, app, lambda e: e.kind == "data" and e.direction == "in" and e.payload[:1] == b"\x80")
    app.action_focus_inspector()
    await pilot.pause(0.4)


async def _exchange_with_quit(app, pilot) -> None:
    finquit = await start_kind(app, "tcp-finquit")
    await talk(finquit.port, b"Bonjour\n", b"Comment ca va ?\n", b"FIN\n", read=True)
    await select_last(pilot, app, lambda e: e.kind == "data" and e.direction == "in" and e.source.startswith("tcp-finquit"))


@scene("follow-stream", "Follow stream: both directions of one TCP conversation, in order, as Wireshark shows it")
async def follow_stream(app, pilot, tmp: Path) -> None:
    from netlab_tui.ui import traffic_actions

    await _exchange_with_quit(app, pilot)
    traffic_actions.open_follow_stream(app)
    await pilot.pause(0.5)


@scene("flow-graph", "Flow graph: the same conversation as a ladder diagram, connect to close")
async def flow_graph(app, pilot, tmp: Path) -> None:
    from netlab_tui.ui import traffic_actions

    await _exchange_with_quit(app, pilot)
    traffic_actions.open_flow_graph(app)
    await pilot.pause(0.5)


@scene("lab", "A guided lab in progress: step 1 passed from the traffic netlab saw, step 2 waiting")
async def lab(app, pilot, tmp: Path) -> None:
    from textual.widgets import DataTable

    from netlab_tui.ui.widgets.lab_panel import LabPanel

    app.show_pane("labs")
    await pilot.pause()
    table = app.query_one("#labs-table", DataTable)
    table.move_cursor(row=table.get_row_index("tcp-first-exchange"))
    await pilot.pause()
    app.query_one("#labs-start").press()
    await wait_for(pilot, lambda: app.query(LabPanel) and app.query_one(LabPanel).runner.started, what="the lab")
    panel = app.query_one(LabPanel)
    await wait_for(pilot, lambda: panel._step_shown is not None)
    await talk(panel.runner.servers["echo"].port, b"Hello")
    await wait_for(pilot, lambda: panel.runner.status.passed, what="the step to pass")
    await pilot.pause(0.5)


# -- running them ----------------------------------------------------------------------------------------
async def shoot(name: str, out: Path, work: Path) -> Path:
    from netlab_tui.ui.app import NetlabApp

    caption, func = SCENES[name]
    app = NetlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one("#panes").current == "servers", what="the first pane")
        await pilot.pause(0.1)
        scene_dir = work / name
        scene_dir.mkdir(parents=True, exist_ok=True)
        await func(app, pilot, scene_dir)
        app.title = f"netlab — {caption}" if len(caption) < 100 else "netlab"
        path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))
        await app.registry.stop_all()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE), help="folder for the SVGs (default: screenshots/)")
    parser.add_argument("scenes", nargs="*", help=f"scenes to draw (default: all): {' '.join(SCENES)}")
    args = parser.parse_args(argv)
    unknown = [s for s in args.scenes if s not in SCENES]
    if unknown:
        parser.error(f"unknown scene {unknown[0]!r}; scenes: {' '.join(SCENES)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="netlab-shots-") as tmp:
        work = Path(tmp)
        # A private netlab: progress, host keys and databases of the pictures never touch the user's.
        for var in ("NETLAB_STATE_DIR", "NETLAB_DATA_DIR"):
            os.environ[var] = str(work / var.lower())
        os.environ["NETLAB_LANG"] = "en"
        for name in args.scenes or list(SCENES):
            path = asyncio.run(shoot(name, out, work))
            print(f"{path}  {SCENES[name][0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
