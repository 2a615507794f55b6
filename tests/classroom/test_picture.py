"""The README's dashboard picture is made by a script with a real class and headless Chromium: run it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (./dev installs it)")
def test_the_dashboard_picture_script_draws_it(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "screenshots" / "make_class_dashboard.py"), "--out",
                             str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    picture = tmp_path / "class-dashboard.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
    assert "](screenshots/class-dashboard.png)" in (ROOT / "README.md").read_text()
