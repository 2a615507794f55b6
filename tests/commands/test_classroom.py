"""``netlab class`` on the command line: what it prints, what it keeps, what it refuses."""

import json
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

from tests.classroom._class import free_port
from tests.conftest import netlab_cmd


def class_dir() -> Path:
    base = Path(tempfile.mkdtemp(prefix="netlab-class-cli-"))
    CREATED.append(base)
    return base / "class"


CREATED: list[Path] = []


def teardown_module() -> None:
    for base in CREATED:
        shutil.rmtree(base, ignore_errors=True)


def run_class(directory: Path, *extra: str, host: str = "127.0.0.1") -> tuple[str, str, int]:
    proc = subprocess.Popen(netlab_cmd("class", "--host", host, "--port", str(free_port()), "--dir", str(directory),
                                       *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline() for _ in range(3)]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    return "".join(lines) + out, err, proc.returncode


def test_class_prints_url_code_and_password_once_and_keeps_them_private():
    directory = class_dir()
    out, err, code = run_class(directory)
    assert code == 0, err
    assert "learners open http://127.0.0.1:" in out and "with class code " in out
    secrets = json.loads((directory / "class.json").read_text())
    assert secrets["code"] in out and f"password {secrets['teacher_password']}" in out
    assert stat.S_IMODE((directory / "class.json").stat().st_mode) == 0o600
    assert "warning" not in err
    again, _, _ = run_class(directory)  # the same class again: same code, the password is not shown again
    assert secrets["code"] in again and secrets["teacher_password"] not in again
    changed, _, _ = run_class(directory, "--code", "newcode")
    assert "with class code NEWCODE" in changed


def test_class_warns_when_bound_beyond_loopback():
    _, err, code = run_class(class_dir(), host="0.0.0.0")
    assert code == 0 and "warning: serving beyond loopback" in err


def test_class_refuses_bad_options_in_one_line():
    for args, message in ((["--port", "0"], "--port 0"), (["--code", "a b"], "--code"),
                          (["--max-learners", "0"], "--max-learners"), (["--public-url", "ftp://x"], "--public-url")):
        result = subprocess.run(netlab_cmd("class", *args), capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_class_folder_that_cannot_be_made_is_one_line():
    blocker = class_dir().parent / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(netlab_cmd("class", "--dir", str(blocker / "class"), "--port", str(free_port())),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and result.stderr.startswith("netlab: cannot use ")
    assert result.stderr.count("\n") == 1
