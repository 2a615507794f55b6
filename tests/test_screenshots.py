"""The README's pictures are made by a script (``./dev screenshots``); run it so it cannot rot."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "screenshots" / "make_screenshots.py"


def test_the_screenshot_script_draws_every_scene(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    shots = sorted(tmp_path.glob("*.svg"))
    assert len(shots) >= 10, result.stdout
    for shot in shots:
        root = ET.parse(shot).getroot()  # a whole SVG document, not a half-written file
        assert root.tag.endswith("svg")
        assert "netlab" in shot.read_text()
    # Every picture the README shows is one the script makes.
    readme = (ROOT / "README.md").read_text()
    shown = {line.split("screenshots/")[1].split(")")[0] for line in readme.splitlines() if "](screenshots/" in line}
    shown -= {"class-dashboard.png"}  # a web page, drawn by make_class_dashboard.py (tests/classroom/test_picture.py)
    assert shown and shown <= {p.name for p in shots}, shown - {p.name for p in shots}
    assert shown <= {p.name for p in (ROOT / "screenshots").glob("*.svg")}
