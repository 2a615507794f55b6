"""What a lab is once its file is parsed: front matter, steps, and the machine-readable blocks of each step.

The lab file is the source of truth; these objects keep the file and line of everything so that a
problem found later (a bad check, an unknown server kind) is reported where the author can fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks import Condition

LEVELS = ("beginner", "intermediate", "advanced")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a lab file, at a place the author can open."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class LabFileError(Exception):
    """A lab that cannot be used; ``problems`` lists every reason, each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        first = self.problems[0] if self.problems else "invalid lab"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first}{more}")


@dataclass
class ServerSpec:
    """A netlab server the lab starts (``lab:server``); its address becomes ``{{ name.port }}`` etc."""

    name: str
    kind: str
    host: str = "127.0.0.1"
    port: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    port_range: tuple[int, int] | None = None  # port = "40000-40999": a free port drawn at random from it
    line: int = 0
    on: str | None = None  # the topology host it runs on (host = "h1" names a lab:host), bound to its address


@dataclass
class ScriptSpec:
    """A learner's program the lab runs from the workspace (``lab:script``).

    With ``listen`` set it is a server: started, awaited until it accepts connections on that port,
    kept running while the step is current, restarted when a file is saved. ``background`` alone is a
    long-running client (a chat bot, a directory watcher): started, and kept running the same way.
    """

    name: str
    file: str
    args: list[str] = field(default_factory=list)
    stdin: str | None = None
    timeout: float = 10.0
    env: dict[str, str] = field(default_factory=dict)
    interpreter: str | None = None  # default by extension: .py -> this Python, .php -> php, .sh -> sh
    listen: str | None = None  # a port (template) the script serves on
    background: bool = False  # keeps running while the step is current (always true with listen)
    line: int = 0
    on: str | None = None  # on = "h2": runs on that topology host


@dataclass
class ActionSpec:
    """A "do it" action: open a tool pane pre-filled (TUI), or the equivalent command (headless)."""

    label: str
    pane: str | None = None
    fill: dict[str, Any] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    solve: bool = True  # `netlab lab solve` runs the command to play the learner's part
    line: int = 0
    on: str | None = None  # on = "h2": runs on that topology host


@dataclass
class SolveSpec:
    """What the reference solution does for a step, beyond running the step's scripts (``lab:solve``)."""

    command: list[str]
    timeout: float = 20.0
    stdin: str | None = None
    line: int = 0
    on: str | None = None  # on = "h2": runs on that topology host


@dataclass
class HostSpec:
    """A host of the lab's topology (``lab:host``): a network namespace with this address."""

    name: str
    ip: list[str]
    line: int = 0
    ip_line: int = 0  # where ip = is set, for errors about the address


@dataclass
class SegmentSpec:
    """One L2 link joining hosts (``lab:segment``): a bridge in a namespace of its own."""

    name: str
    hosts: list[str]
    line: int = 0
    hosts_line: int = 0


@dataclass
class HintSpec:
    """A hint; ``when`` names the failures it answers (diagnosis kinds or tags, check ids), ``solution`` marks
    the step's solution text (shown only once the step passed or every other hint was revealed)."""

    text: str
    line: int = 0
    when: tuple[str, ...] = ()
    solution: bool = False


@dataclass
class WrongSpec:
    """A known mistake (``lab:wrong``): ``wrong/FILE`` put in place of ``replaces`` must fail the step and get
    the ``diagnosis`` named (a diagnosis kind or tag, see diagnose.py)."""

    file: str
    replaces: str
    diagnosis: str
    check: str | None = None  # the check (id or 1-based number) that must fail with it; default: any
    line: int = 0


@dataclass
class QuestionSpec:
    """A short question with a checked answer."""

    id: str
    prompt: str
    answers: list[str] = field(default_factory=list)  # templates; compared normalised
    regex: str | None = None
    choices: list[str] = field(default_factory=list)
    explain: str = ""
    line: int = 0


@dataclass
class CheckSpec:
    """One ``lab:check`` block: a titled condition with a time limit."""

    title: str
    condition: "Condition"
    timeout: float = 5.0
    line: int = 0
    id: str = ""  # optional; hints and wrong/ cases may name it


@dataclass
class Step:
    id: str
    title: str
    body: str  # Markdown prose, lab blocks removed
    line: int = 0
    servers: list[ServerSpec] = field(default_factory=list)
    scripts: list[ScriptSpec] = field(default_factory=list)
    actions: list[ActionSpec] = field(default_factory=list)
    solves: list[SolveSpec] = field(default_factory=list)
    hints: list[HintSpec] = field(default_factory=list)
    questions: list[QuestionSpec] = field(default_factory=list)
    checks: list[CheckSpec] = field(default_factory=list)
    wrongs: list[WrongSpec] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        """False for a step that is only read: it passes when the learner moves on."""
        return bool(self.checks or self.questions)


@dataclass
class Lab:
    id: str
    title: str
    summary: str
    path: Path  # the lab.md file
    topics: list[str] = field(default_factory=list)
    level: str = "beginner"
    minutes: int = 15
    requires: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)  # free ports allocated at run time: {{ ports.NAME }}
    intro: str = ""
    steps: list[Step] = field(default_factory=list)
    servers: list[ServerSpec] = field(default_factory=list)  # started with the lab
    lang: str = "en"
    languages: list[str] = field(default_factory=lambda: ["en"])
    order: int = 100  # position in the course
    hosts: list[HostSpec] = field(default_factory=list)  # a multi-host lab's topology (lab:host blocks)
    segments: list[SegmentSpec] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def starter_dir(self) -> Path:
        return self.directory / "starter"

    @property
    def solution_dir(self) -> Path:
        return self.directory / "solution"

    @property
    def wrong_dir(self) -> Path:
        return self.directory / "wrong"

    def step_index(self, step_id: str) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), None)

    def all_servers(self) -> list[ServerSpec]:
        return [*self.servers, *(s for step in self.steps for s in step.servers)]
