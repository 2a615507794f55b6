"""What the machine's own network namespace looks like, to prove a topology never touches it; and what a
topology could leave behind (namespaces, records, processes)."""

from __future__ import annotations

import os
import subprocess

from netlab_tui.engine.topology import netns, runs

ROOT_REASON = "network namespaces need root (CI runs as root)"


def machine_state() -> dict[str, str]:
    """Addresses, routes (v4 and v6) and links of this machine's namespace, without counters."""
    def ip(*args: str) -> str:
        return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout

    return {"addr": ip("-o", "addr"), "route": ip("route", "show", "table", "all"),
            "route6": ip("-6", "route", "show", "table", "all"), "link": ip("-o", "link")}


def leftovers(prefix: str | None = None) -> list[str]:
    """Namespaces and records carrying a run prefix (``prefix`` alone when given)."""
    found = [n for n in netns.listed() if (m := runs.NAMESPACE.match(n)) and (prefix is None or m.group(1) == prefix)]
    found += [r["name"] for r in runs.read_records() if prefix is None or r.get("prefix") == prefix]
    return found


def alive(pid: int) -> bool:
    return runs.process_start(pid) is not None and os.path.exists(f"/proc/{pid}")
