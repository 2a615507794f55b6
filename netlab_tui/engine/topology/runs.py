"""The record of running topologies: one JSON file per run under /run/netlab/topo, written before the
first namespace is created, so that whatever a killed run left behind can be found and removed
(``netlab topo clean``) — by the record, and by the run prefix for anything the record missed."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from . import netns

RUN_DIR = "/run/netlab/topo"
PREFIX = re.compile(r"^nl[0-9a-f]{4}$")
NAMESPACE = re.compile(r"^(nl[0-9a-f]{4})-")
RUN_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")


def record_path(name: str) -> str:
    return os.path.join(RUN_DIR, f"{name}.json")


def process_start(pid: int) -> int | None:
    """The start time of ``pid`` (clock ticks since boot), to tell it from a later process with the same id."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None
    return int(fields[19])


def is_live(record: dict[str, Any]) -> bool:
    pid = record.get("pid")
    return isinstance(pid, int) and process_start(pid) == record.get("pid_start")


def write_record(record: dict[str, Any]) -> None:
    os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
    tmp = record_path(record["name"]) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh, indent=1)
    os.replace(tmp, record_path(record["name"]))


def read_records() -> list[dict[str, Any]]:
    records = []
    try:
        entries = sorted(os.listdir(RUN_DIR))
    except FileNotFoundError:
        return []
    for entry in entries:
        if not entry.endswith(".json"):
            continue
        try:
            with open(os.path.join(RUN_DIR, entry), encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            records.append(record)
    return records


def find(name: str) -> dict[str, Any] | None:
    for record in read_records():
        if record["name"] == name:
            return record
    return None


def remove_record(name: str) -> None:
    try:
        os.unlink(record_path(name))
    except FileNotFoundError:
        pass


def tear_down_namespaces(paths: list[str]) -> int:
    """Kill every process in the namespaces (hosts first), then remove them. Processes killed."""
    killed = 0
    for path in paths:
        killed += netns.kill_all_in(path)
    for path in paths:
        netns.remove(path)
    return killed


def clean() -> dict[str, Any]:
    """Remove what dead runs left behind: their namespaces (and so their links), their processes and their
    records; then any namespace carrying a run prefix that no live run owns."""
    removed_runs, namespaces, killed = [], [], 0
    live_prefixes = set()
    for record in read_records():
        if is_live(record):
            live_prefixes.add(record.get("prefix"))
            continue
        paths = [p for p in record.get("namespaces", []) if isinstance(p, str) and p.startswith(netns.NETNS_DIR + "/")
                 and NAMESPACE.match(os.path.basename(p))]
        present = [p for p in paths if os.path.exists(p)]
        killed += tear_down_namespaces(present)
        namespaces += [os.path.basename(p) for p in present]
        remove_record(record["name"])
        removed_runs.append(record["name"])
    orphans = [n for n in netns.listed() if (m := NAMESPACE.match(n)) and m.group(1) not in live_prefixes]
    killed += tear_down_namespaces([netns.path_of(n) for n in orphans])
    namespaces += orphans
    return {"runs": removed_runs, "namespaces": sorted(set(namespaces)), "processes": killed}
