"""The README's dashboard screenshot: a real ``netlab class``, a few learners, a teacher in headless Chromium.

Run with ``.venv/bin/python screenshots/make_class_dashboard.py``; writes ``screenshots/class-dashboard.png``
(a PNG: the dashboard is a web page, drawn by a real browser, unlike the TUI's SVGs). Learners log in over HTTP and two of them open their netlab (so they show
online); their lab progress is recorded through each learner's own progress store, as their netlab records it
when a step passes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netlab_tui.classroom.dashboard import lab_outline  # noqa: E402
from netlab_tui.labs.progress import ProgressStore  # noqa: E402
from tests.classroom._browser import chromium  # noqa: E402
from tests.classroom._class import client_session, login, open_terminal, start_class  # noqa: E402

# name: {lab index: (steps passed, hints on the current step)}
CLASS = {
    "Amira": {0: (3, 0), 1: (3, 1), 2: (1, 0)},
    "Bastien": {0: (3, 2), 1: (1, 1)},
    "Chloé": {0: (3, 0), 1: (3, 0), 2: (3, 0), 3: (1, 0)},
    "Diego": {0: (1, 3)},
    "Elif": {0: (3, 1), 1: (2, 0)},
    "Farid": {0: (2, 0)},
    "Gaëlle": {0: (3, 0), 1: (3, 2), 2: (2, 1)},
}


async def main(out: Path) -> None:
    server = start_class(code="RESEAU")
    outline = lab_outline()
    try:
        async with client_session() as online_a, client_session() as online_b:
            for name, labs in CLASS.items():
                async with client_session() as http:
                    await login(http, server.url, name, server.code)
                store = ProgressStore(server.directory / "learners" / name.casefold() / "progress.json")
                for index, (passed, hints) in labs.items():
                    lab = outline[index]
                    steps = [s["id"] for s in lab["steps"]]
                    for step in steps[:passed]:
                        store.mark_passed(lab["id"], step, all_steps=steps)
                    if passed < len(steps):
                        store.set_current(lab["id"], steps[passed])
                        store.set_hints(lab["id"], steps[passed], hints)
            terminals = []
            for http, name in ((online_a, "Amira"), (online_b, "Diego")):
                await login(http, server.url, name, server.code)
                terminals.append(await open_terminal(http, server.url))
            await asyncio.gather(*(t.wait_for("Tools", 60) for t in terminals))
            async with chromium(1280, 560) as page:
                await page.call("Page.navigate", url=server.url + "/teacher")
                await page.wait_until("document.getElementById('password') !== null")
                await page.evaluate(f"""(() => {{ document.getElementById('password').value = '{server.password}';
                    document.querySelector('form').submit(); return true; }})()""")
                await page.wait_until("document.querySelectorAll('#grid tr[data-learner]').length === "
                                      f"{len(CLASS)}", timeout=30)
                time.sleep(0.3)
                await page.screenshot(out)
            for terminal in terminals:
                await terminal.close()
    finally:
        server.stop()
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder to write into")
    asyncio.run(main(parser.parse_args().out / "class-dashboard.png"))
