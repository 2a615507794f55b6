"""The teacher's view: every learner's progress, read from their own progress files.

``class_progress`` is what ``GET /teacher/progress.json`` returns and what the dashboard page draws (it
polls it every second). A learner's record is passed through as the progress store keeps it (``passed``,
``current``, ``hints``, ``completed`` and whatever else a newer store adds, such as tries or time spent).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netlab_tui.labs.catalog import load_labs
from netlab_tui.labs.progress import ProgressStore


@dataclass
class LearnerInfo:
    """What the server knows of a learner beyond their files."""

    name: str
    key: str
    online: bool = False
    last_input: float | None = None
    sessions: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def lab_outline(lang: str | None = None) -> list[dict[str, Any]]:
    labs, _broken = load_labs(lang)
    return [{"id": lab.id, "title": lab.title, "steps": [{"id": s.id, "title": s.title} for s in lab.steps]}
            for lab in labs]


def learner_progress(home: Path) -> tuple[dict[str, Any], float | None]:
    """Every lab record in a learner's progress file, and the time it last changed (None if none yet)."""
    path = home / "progress.json"
    if not path.exists():
        return {}, None
    store = ProgressStore(path)
    records = {lab_id: store.lab(lab_id) for lab_id in store.lab_ids()}
    try:
        changed = path.stat().st_mtime
    except OSError:
        changed = None
    return records, changed


def class_progress(learners_dir: Path, outline: list[dict[str, Any]],
                   live: dict[str, LearnerInfo]) -> dict[str, Any]:
    learners = []
    known = dict(live)
    if learners_dir.is_dir():
        for home in sorted(learners_dir.iterdir()):
            if home.is_dir() and home.name not in known:
                known[home.name] = LearnerInfo(name=_display_name(home), key=home.name)
    for key, info in sorted(known.items()):
        records, changed = learner_progress(learners_dir / key)
        labs = {}
        hints_total = 0
        for lab_id, record in records.items():
            hints = record.get("hints") if isinstance(record.get("hints"), dict) else {}
            used = sum(int(v) for v in hints.values() if isinstance(v, (int, float)))
            hints_total += used
            passed = record.get("passed") if isinstance(record.get("passed"), dict) else {}
            labs[lab_id] = {**record, "passed": sorted(passed), "passed_at": passed, "hints_used": used}
        stamps = [t for t in (info.last_input, changed) if t]
        learners.append({
            "name": info.name,
            "key": key,
            "online": info.online,
            "last_activity": max(stamps) if stamps else None,
            "hints_used": hints_total,
            "labs": labs,
        })
    return {"generated": time.time(), "labs": outline, "learners": learners}


def _display_name(home: Path) -> str:
    try:
        return json.loads((home / "learner.json").read_text(encoding="utf-8"))["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return home.name
