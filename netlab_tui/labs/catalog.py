"""The labs netlab ships (``labs/<id>/lab.md`` at the top of the project), found by id or by path.

The content lives outside the package, in the project's ``labs/`` folder: a source checkout and an
editable install read it in place; a wheel ships the same folder as ``netlab_tui/labs_content/``
(see ``setup.py``). ``NETLAB_LABS_DIR`` points netlab at another folder of labs.
"""

from __future__ import annotations

import locale
import os
import shutil
from pathlib import Path

from netlab_tui.engine.core.sessions import NetlabError

from .model import Lab, LabFileError
from .parser import parse_lab
from .validate import REQUIREMENTS


def content_dir() -> Path:
    """Where the shipped labs are: ``NETLAB_LABS_DIR``, the wheel's copy, else the checkout's ``labs/``."""
    override = os.environ.get("NETLAB_LABS_DIR")
    if override:
        return Path(override).expanduser()
    package = Path(__file__).resolve().parents[1]
    installed = package / "labs_content"
    if installed.is_dir():
        return installed
    return package.parent / "labs"


CONTENT_DIR = content_dir()
LANGUAGES = ("en", "fr")


def lab_files(content: Path = CONTENT_DIR) -> list[Path]:
    return sorted(p for p in content.glob("*/lab.md") if p.is_file())


def preferred_language(requested: str | None = None) -> str:
    """``--lang``, else ``NETLAB_LANG``, else the locale (French for fr_*), else English."""
    for candidate in (requested, os.environ.get("NETLAB_LANG")):
        if candidate:
            return candidate.split("_")[0].split("-")[0].lower()
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    code = locale.getlocale()[0] or ""
    return "fr" if code.lower().startswith("fr") else "en"


def load_labs(lang: str | None = None, content: Path = CONTENT_DIR) -> tuple[list[Lab], list[str]]:
    """Every shipped lab that parses (in course order), and one line per lab that does not."""
    labs, broken = [], []
    for path in lab_files(content):
        try:
            labs.append(parse_lab(path, lang))
        except LabFileError as exc:
            broken.append(str(exc))
    labs.sort(key=lambda lab: (lab.order, lab.id))
    return labs, broken


def find_lab(ref: str, lang: str | None = None) -> Lab:
    """A lab by id (shipped) or by path (a lab.md or its folder); NetlabError if none or broken."""
    path = Path(ref)
    candidates = []
    if "/" in ref or ref.endswith(".md") or path.exists():
        candidates.append(path / "lab.md" if path.is_dir() else path)
    else:
        candidates.append(CONTENT_DIR / ref / "lab.md")
    for candidate in candidates:
        if candidate.is_file():
            try:
                return parse_lab(candidate, lang)
            except LabFileError as exc:
                raise NetlabError(f"lab {ref} is broken: {exc}") from None
    known = ", ".join(p.parent.name for p in lab_files())
    raise NetlabError(f"no lab {ref!r} (labs: {known})")


def missing_requirements(lab: Lab) -> list[str]:
    """Requirements of the lab whose programs are not installed here."""
    from .doctor import lab_tools

    missing = []
    for requirement in dict.fromkeys([*lab.requires, *lab_tools(lab)]):  # declared, and inferred (netlab scan …)
        program = REQUIREMENTS.get(requirement, requirement)
        if shutil.which(program) is None and not (program == "sshd" and Path("/usr/sbin/sshd").exists()):
            missing.append(requirement)
    if lab.hosts and os.geteuid() != 0:  # a multi-host lab builds network namespaces
        missing.append("root (hosts are network namespaces)")
    return missing
