"""Checks: conditions on what crossed the wire, on the learner's script, or on a probe of the learner's server.

A ``lab:check`` block is a TOML table holding exactly one condition:

- ``event = {server = "echo", kind = "data", direction = "in", text = "Hello", min = 1}``: events of the
  step, matched on proto/kind/direction/source/peer/payload (substring, regex, hex, JSON paths) and meta,
  then counted (``min``, ``max``, ``count``; ``distinct = "conn"`` counts conversations, not events);
- ``sequence = [{...}, {...}]``: matchers seen in this order (``same_conn = true``: in one conversation);
- ``script = {exit = 0, stdout = "Hello"}``: the last run of the learner's script;
- ``probe = [{connect = "a"}, {expect = "a", text = "primary"}, …]`` with ``target``: netlab's clients
  exercising the learner's server (see ``probe.py``);
- ``all = [...]``, ``any = [...]``, ``not = {...}``: combinations of the above.

Conditions are pure: ``evaluate(ctx)`` looks at the step's events and results and says pass or not, with
a sentence a learner can act on. Probes are the exception — they act — so they run separately (when the
learner's server starts) and their outcome is looked up here.
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netlab_tui.engine.core.events import TrafficEvent

from .templating import UndefinedVariable, Variables


class CheckSyntaxError(ValueError):
    """A check that cannot be understood; ``key`` names the TOML key to point the author at."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Outcome:
    passed: bool
    detail: str
    diagnosis: Any = None  # a diagnose.Diagnosis for a failure: why, from the traffic seen

    def __bool__(self) -> bool:
        return self.passed


@dataclass
class ScriptResult:
    """One run of a learner's script."""

    name: str
    command: list[str]
    file: str = ""
    exit_code: int | None = None  # None while running, or when it could not start
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    running: bool = False
    error: str | None = None  # could not start, never listened …
    duration: float = 0.0
    background: bool = False  # a server or long-running client, stopped by netlab


class MatchIndex:
    """Which of a step's events each matcher matched, kept from one evaluation to the next.

    The lab runner judges its step every time events arrive; rescanning every event of the step each
    time costs O(events) per check. With an index, each event is matched once per matcher: an
    evaluation matches only the events published since the last one (the step's events come from the
    journal, in ``seq`` order) and forgets the hits the step's bounded window has dropped. The index is
    only valid for one set of servers and variables: ``reset`` it when they or the step change.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, bool], _IndexEntry] = {}
        self._key: object = None
        self.nearest: dict[int, list[Any]] = {}  # diagnose.nearest's running best miss per matcher

    def reset(self, key: object = None) -> None:
        self._entries.clear()
        self.nearest.clear()
        self._key = key

    def use(self, key: object) -> None:
        """Start an evaluation with these servers/variables (``key``): a change forgets every hit."""
        if key != self._key:
            self.reset(key)

    def hits(self, matcher: "EventMatcher", envelope_only: bool, ctx: "CheckContext") -> Sequence[TrafficEvent]:
        events = ctx.events
        entry = self._entries.get((id(matcher), envelope_only))
        if entry is None or entry.matcher is not matcher:
            entry = self._entries[(id(matcher), envelope_only)] = _IndexEntry(matcher)
        test = matcher.matches_envelope if envelope_only else matcher.matches
        new = []
        for event in reversed(events):  # the events since the last evaluation are at the end
            if event.seq <= entry.upto:
                break
            new.append(event)
        found = [e for e in reversed(new) if test(e, ctx)]  # may raise: nothing recorded then
        entry.hits.extend(found)
        if new:
            entry.upto = new[0].seq
        first = events[0].seq if events else entry.upto + 1
        while entry.hits and entry.hits[0].seq < first:
            entry.hits.popleft()
        return entry.hits

    @staticmethod
    def usable(events: Sequence[TrafficEvent]) -> bool:
        """True for journal events (every seq set, in increasing order at both ends)."""
        return not events or (events[0].seq > 0 and events[0].seq <= events[-1].seq)


@dataclass
class _IndexEntry:
    matcher: "EventMatcher"  # held so that its id() is not reused while the entry lives
    hits: deque[TrafficEvent] = field(default_factory=deque)
    upto: int = 0  # the seq of the last event matched


@dataclass
class CheckContext:
    events: Sequence[TrafficEvent]
    variables: Variables = field(default_factory=Variables)
    servers: Mapping[str, str] = field(default_factory=dict)  # lab server name -> its session name
    scripts: Mapping[str, ScriptResult] = field(default_factory=dict)
    probes: Mapping[int, Outcome] = field(default_factory=dict)  # id(ProbeCondition) -> last outcome
    default_script: str | None = None
    index: MatchIndex | None = None  # the runner's, kept across evaluations (None: scan every event)
    _rendered: dict[Any, Any] = field(default_factory=dict, repr=False)
    _texts: dict[int, str] = field(default_factory=dict, repr=False)

    # Memoised for one evaluation: every matcher asks the same questions of thousands of events.
    def render(self, text: str) -> str:
        try:
            return self._rendered[text]
        except KeyError:
            value = self._rendered[text] = self.variables.render(text)
            return value

    def render_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.render(value)
        key = ("value", id(value))
        if key not in self._rendered:
            self._rendered[key] = self.variables.render_value(value)
        return self._rendered[key]

    def text_of(self, event: TrafficEvent) -> str:
        """The event's payload as text (decoded once per evaluation, whatever the number of checks)."""
        key = id(event)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = event.text or ""
        return text

    def hits(self, matcher: "EventMatcher", envelope_only: bool = False) -> Sequence[TrafficEvent]:
        """The step's events that ``matcher`` matches (only its envelope with ``envelope_only``), in order."""
        if self.index is not None:
            return self.index.hits(matcher, envelope_only, self)
        test = matcher.matches_envelope if envelope_only else matcher.matches
        return [e for e in self.events if test(e, self)]


# -- helpers -------------------------------------------------------------------------------------------
def _strings(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise CheckSyntaxError(f"{key} must be a string or a list of strings", key)


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckSyntaxError(f"{key} must be a whole number >= 0", key)
    return value


def _unknown(table: Mapping[str, Any], allowed: set[str], what: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise CheckSyntaxError(
            f"unknown key {extra[0]!r} in {what} (expected {', '.join(sorted(allowed))})", extra[0])


def _compile(pattern: str, key: str) -> str:
    # Variables are substituted at run time; compile now with a stand-in to catch syntax errors early.
    try:
        re.compile(Variables().render(pattern, missing="0"))
    except re.error as exc:
        raise CheckSyntaxError(f"{key}: invalid regular expression: {exc}", key) from None
    return pattern


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def json_path(document: Any, path: str) -> tuple[bool, Any]:
    """Follow ``a.b[0].c`` (``a.b.0.c`` too) into parsed JSON; (found, value)."""
    value = document
    for match in _PATH_PART.finditer(path):
        name, index = match.groups()
        if index is not None or (name is not None and name.isdigit() and isinstance(value, list)):
            position = int(index if index is not None else name)
            if not isinstance(value, list) or position >= len(value):
                return False, None
            value = value[position]
        elif isinstance(value, dict) and name in value:
            value = value[name]
        else:
            return False, None
    return True, value


def same_value(actual: Any, expected: Any) -> bool:
    """TOML's expectation against JSON's value; a rendered template (a string) matches a number's text."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected if isinstance(expected, bool) else json.dumps(actual) == expected
    if isinstance(expected, str) and isinstance(actual, (int, float)):
        return str(actual) == expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(actual) == float(expected)
    return actual == expected


def payload_documents(payload: bytes) -> list[Any]:
    """The JSON documents in a payload: the whole of it, else each line (JSON lines)."""
    text = payload.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    documents = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                documents.append(json.loads(line))
            except ValueError:
                continue
    return documents


def shorten(text: str, width: int = 60) -> str:
    text = text.translate({c: 0x2400 + c for c in range(0x20)})
    return text if len(text) <= width else text[: width - 1] + "…"


# -- conditions ----------------------------------------------------------------------------------------
class Condition:
    def evaluate(self, ctx: CheckContext) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> Iterator["Condition"]:
        return iter(())

    def walk(self) -> Iterator["Condition"]:
        yield self
        for child in self.children():
            yield from child.walk()


MATCHER_KEYS = {"proto", "kind", "direction", "server", "source", "peer", "local", "text", "regex", "hex",
                "json", "meta", "min_size"}


@dataclass
class EventMatcher:
    """Which events count: every given field must match."""

    proto: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    direction: str | None = None  # "in", "out", or "none"
    server: str | None = None  # a lab server's name; matches that server's events
    source: str | None = None  # glob on the session name
    peer: str | None = None  # glob
    local: str | None = None  # glob
    text: tuple[str, ...] = ()  # substrings of the payload text (all of them)
    regex: str | None = None
    hex: str | None = None
    json: dict[str, Any] = field(default_factory=dict)  # path -> expected value
    meta: dict[str, Any] = field(default_factory=dict)
    min_size: int | None = None

    @classmethod
    def parse(cls, table: Any, extra: set[str] = frozenset()) -> "EventMatcher":
        if not isinstance(table, dict):
            raise CheckSyntaxError("an event matcher must be a table such as {kind = \"data\", text = \"Hi\"}")
        _unknown(table, MATCHER_KEYS | extra, "event matcher")
        matcher = cls()
        if "proto" in table:
            matcher.proto = _strings(table["proto"], "proto")
        if "kind" in table:
            matcher.kind = _strings(table["kind"], "kind")
        if "direction" in table:
            if table["direction"] not in ("in", "out", "none"):
                raise CheckSyntaxError("direction must be \"in\", \"out\" or \"none\"", "direction")
            matcher.direction = table["direction"]
        for key in ("server", "source", "peer", "local", "hex"):
            if key in table:
                if not isinstance(table[key], str) or not table[key]:
                    raise CheckSyntaxError(f"{key} must be a non-empty string", key)
                setattr(matcher, key, table[key])
        if matcher.hex is not None:
            cleaned = matcher.hex.replace(" ", "").lower()
            if not re.fullmatch(r"([0-9a-f]{2})+", cleaned):
                raise CheckSyntaxError("hex must be pairs of hex digits", "hex")
            matcher.hex = cleaned
        if "text" in table:
            matcher.text = _strings(table["text"], "text")
        if "regex" in table:
            if not isinstance(table["regex"], str):
                raise CheckSyntaxError("regex must be a string", "regex")
            matcher.regex = _compile(table["regex"], "regex")
        for key in ("json", "meta"):
            if key in table:
                if not isinstance(table[key], dict) or not table[key]:
                    raise CheckSyntaxError(f"{key} must be a table of path = expected value", key)
                setattr(matcher, key, dict(table[key]))
        if "min_size" in table:
            matcher.min_size = _count(table["min_size"], "min_size")
        return matcher

    # Matching is split in two so that a near miss (right event, wrong payload) can be reported.
    def matches_envelope(self, event: TrafficEvent, ctx: CheckContext) -> bool:
        if self.proto and event.proto not in self.proto:
            return False
        if self.kind and event.kind not in self.kind:
            return False
        if self.direction is not None and event.direction != (None if self.direction == "none" else self.direction):
            return False
        if self.server is not None and event.source != ctx.servers.get(self.server):
            return False
        if self.source is not None and not fnmatch.fnmatchcase(event.source, ctx.render(self.source)):
            return False
        if self.peer is not None and not fnmatch.fnmatchcase(event.peer or "", ctx.render(self.peer)):
            return False
        if self.local is not None and not fnmatch.fnmatchcase(event.local or "", ctx.render(self.local)):
            return False
        if self.meta:
            meta = event.meta or {}
            for path, expected in self.meta.items():
                found, value = json_path(meta, path)
                if not found or not same_value(value, ctx.render_value(expected)):
                    return False
        return True

    @property
    def checks_payload(self) -> bool:
        return bool(self.text or self.regex or self.hex or self.json or self.min_size is not None)

    def matches_payload(self, event: TrafficEvent, ctx: CheckContext) -> bool:
        if not self.checks_payload:
            return True
        if self.min_size is not None and event.size < self.min_size:
            return False
        text = ctx.text_of(event)
        for needle in self.text:
            if ctx.render(needle) not in text:
                return False
        if self.regex is not None and re.search(ctx.render(self.regex), text) is None:
            return False
        if self.hex is not None and (event.payload is None or bytes.fromhex(self.hex) not in event.payload):
            return False
        if self.json:
            if event.payload is None:
                return False
            wanted = {path: ctx.render_value(v) for path, v in self.json.items()}
            if not any(all((hit := json_path(doc, path))[0] and same_value(hit[1], value)
                           for path, value in wanted.items())
                       for doc in payload_documents(event.payload)):
                return False
        return True

    def matches(self, event: TrafficEvent, ctx: CheckContext) -> bool:
        return self.matches_envelope(event, ctx) and self.matches_payload(event, ctx)

    def describe(self) -> str:
        parts = []
        if self.proto:
            parts.append("/".join(self.proto))
        parts.append("/".join(self.kind) if self.kind else "event")
        if self.direction in ("in", "out"):
            parts.append({"in": "received", "out": "sent"}[self.direction])
        if self.server:
            parts.append(f"at server {self.server}")
        if self.source:
            parts.append(f"from {self.source}")
        if self.peer:
            parts.append(f"with peer {self.peer}")
        if self.text:
            parts.append("containing " + " and ".join(repr(t) for t in self.text))
        if self.regex:
            parts.append(f"matching /{self.regex}/")
        if self.hex:
            parts.append(f"with bytes {self.hex}")
        if self.json:
            parts.append("with JSON " + ", ".join(f"{k}={v!r}" for k, v in self.json.items()))
        if self.meta:
            parts.append(", ".join(f"{k}={v!r}" for k, v in self.meta.items()))
        if self.min_size is not None:
            parts.append(f"of at least {self.min_size} bytes")
        return " ".join(parts)


@dataclass
class EventCondition(Condition):
    matcher: EventMatcher
    min: int = 1
    max: int | None = None
    distinct: str | None = None  # count distinct conn/peer/source values instead of events

    COUNT_KEYS = {"min", "max", "count", "distinct"}

    @classmethod
    def parse(cls, table: Any) -> "EventCondition":
        matcher = EventMatcher.parse(table, extra=cls.COUNT_KEYS)
        condition = cls(matcher)
        if "count" in table:
            if "min" in table or "max" in table:
                raise CheckSyntaxError("use either count or min/max, not both", "count")
            condition.min = condition.max = _count(table["count"], "count")
        if "min" in table:
            condition.min = _count(table["min"], "min")
        if "max" in table:
            condition.max = _count(table["max"], "max")
        if condition.max is not None and condition.max < condition.min:
            raise CheckSyntaxError(f"max ({condition.max}) is less than min ({condition.min})", "max")
        if "distinct" in table:
            if table["distinct"] not in ("conn", "peer", "source"):
                raise CheckSyntaxError("distinct must be \"conn\", \"peer\" or \"source\"", "distinct")
            condition.distinct = table["distinct"]
        return condition

    def evaluate(self, ctx: CheckContext) -> Outcome:
        try:
            hits = ctx.hits(self.matcher)
        except UndefinedVariable as exc:
            return Outcome(False, str(exc))
        n = len({getattr(e, self.distinct) for e in hits}) if self.distinct else len(hits)
        unit = {"conn": "conversation", "peer": "peer", "source": "source"}.get(self.distinct or "", "event")
        wanted = self._wanted()
        if n >= self.min and (self.max is None or n <= self.max):
            return Outcome(True, f"{n} {unit}{'s' if n != 1 else ''}: {self.matcher.describe()}")
        plural = "" if wanted.endswith(" 1") and self.max in (None, 1) else "s"
        detail = f"expected {wanted} {unit}{plural}: {self.matcher.describe()} — seen {n}"
        diagnosis = self._diagnose(ctx, n)
        if diagnosis is not None:
            detail = f"{diagnosis.sentence} (expected {wanted} {unit}{plural}: {self.matcher.describe()}; seen {n})"
        return Outcome(False, detail, diagnosis)

    def _diagnose(self, ctx: CheckContext, n: int):
        from .diagnose import Diagnosis, diagnose_matcher

        try:
            if n > (self.max if self.max is not None else n):
                return Diagnosis("too-many", f"saw {n}, at most {self.max} expected")
            if n and n < self.min:
                return Diagnosis("too-few", f"saw {n} of the {self.min} needed")
            return diagnose_matcher(self.matcher, ctx.events, ctx)
        except UndefinedVariable:
            return None

    def _wanted(self) -> str:
        if self.max is None:
            return f"at least {self.min}"
        if self.max == self.min:
            return f"exactly {self.min}"
        return f"{self.min} to {self.max}"

    def describe(self) -> str:
        return f"{self._wanted()} × {self.matcher.describe()}"


@dataclass
class SequenceCondition(Condition):
    matchers: list[EventMatcher]
    same_conn: bool = False

    @classmethod
    def parse(cls, value: Any, same_conn: Any = False) -> "SequenceCondition":
        if not isinstance(value, list) or len(value) < 2:
            raise CheckSyntaxError("sequence must be a list of at least two event matchers", "sequence")
        if not isinstance(same_conn, bool):
            raise CheckSyntaxError("same_conn must be true or false", "same_conn")
        return cls([EventMatcher.parse(item) for item in value], same_conn)

    def _progress(self, events: Sequence[TrafficEvent], ctx: CheckContext) -> int:
        position = 0
        for event in events:
            if self.matchers[position].matches(event, ctx):
                position += 1
                if position == len(self.matchers):
                    break
        return position

    def _progress_in_hits(self, hits: list[list[int]]) -> int:
        """``_progress`` from each matcher's hits (their seqs, in order): the earliest hit of each matcher
        after the previous one's, as the walk over the events finds it."""
        last = -1
        for position, seqs in enumerate(hits):
            at = bisect.bisect_right(seqs, last)
            if at == len(seqs):
                return position
            last = seqs[at]
        return len(hits)

    def _indexed_best(self, ctx: CheckContext) -> int:
        hits = [ctx.hits(matcher) for matcher in self.matchers]
        if not self.same_conn:
            return self._progress_in_hits([[e.seq for e in h] for h in hits])
        by_conn: list[dict[str, list[int]]] = []
        for matcher_hits in hits:
            conns: dict[str, list[int]] = {}
            for event in matcher_hits:
                if event.conn is not None:
                    conns.setdefault(event.conn, []).append(event.seq)
            by_conn.append(conns)
        return max((self._progress_in_hits([conns.get(conn, []) for conns in by_conn]) for conn in by_conn[0]),
                   default=0)

    def evaluate(self, ctx: CheckContext) -> Outcome:
        try:
            if ctx.index is not None:
                best = self._indexed_best(ctx)
            elif self.same_conn:
                conversations: dict[str, list[TrafficEvent]] = {}
                for event in ctx.events:
                    if event.conn is not None:
                        conversations.setdefault(event.conn, []).append(event)
                best = max((self._progress(events, ctx) for events in conversations.values()), default=0)
            else:
                best = self._progress(ctx.events, ctx)
        except UndefinedVariable as exc:
            return Outcome(False, str(exc))
        total = len(self.matchers)
        where = " in one conversation" if self.same_conn else ""
        if best == total:
            return Outcome(True, f"all {total} events seen in order{where}")
        detail = f"{best} of {total} events seen in order{where}; waiting for: {self.matchers[best].describe()}"
        try:
            diagnosis = self.diagnose(ctx)
        except UndefinedVariable:
            diagnosis = None
        if diagnosis is not None:
            detail = f"{detail} — {diagnosis.sentence}"
        return Outcome(False, detail, diagnosis)

    def observed(self, ctx: CheckContext) -> tuple[list[TrafficEvent], int]:
        """The events that best follow the sequence (one conversation with ``same_conn``): (the events,
        how many matchers they satisfy in order)."""
        from .diagnose import SCAN_LIMIT

        groups: dict[str | None, list[TrafficEvent]] = {}
        for event in list(ctx.events)[-SCAN_LIMIT:]:  # the newest: a diagnosis must stay cheap under a flood
            if event.proto in ("lab", "shell"):
                continue
            groups.setdefault(event.conn if self.same_conn else None, []).append(event)
        best: tuple[list[TrafficEvent], int] = ([], 0)
        for events in groups.values():
            progress = self._progress(events, ctx)
            if progress > best[1] or (progress == best[1] and not best[0]):
                best = (events, progress)
        return best

    def diagnose(self, ctx: CheckContext):
        from .diagnose import Diagnosis, _q, diagnose_matcher

        events, progress = self.observed(ctx)
        matcher = self.matchers[progress]
        if progress and self.same_conn:
            # The next event may have happened on another conversation.
            from .diagnose import SCAN_LIMIT

            elsewhere = [e for e in list(ctx.events)[-SCAN_LIMIT:] if e.conn != (events[0].conn if events else None)
                         and e.proto != "lab" and matcher.matches(e, ctx)]
            if elsewhere:
                e = elsewhere[-1]
                return Diagnosis("other-connection",
                                 f"step {progress + 1} of the exchange, {_q(e.text or e.kind)}, happened on another "
                                 f"connection ({e.conn}), not the one the first {progress} did "
                                 f"({events[0].conn if events else '?'})")
        if progress:
            # Only what came after the last matched event of the best conversation is a candidate.
            position, count = 0, 0
            for position, event in enumerate(events):
                if self.matchers[count].matches(event, ctx):
                    count += 1
                    if count == progress:
                        break
            after = events[position + 1:]
            diagnosis = diagnose_matcher(matcher, after, ctx)
            prefix = f"after {progress} of {len(self.matchers)} expected events, "
            if diagnosis.kind == "no-traffic":
                return Diagnosis("no-traffic", prefix + "nothing more came on that conversation")
            return Diagnosis(diagnosis.kind, prefix + diagnosis.sentence, diagnosis.tags)
        return diagnose_matcher(matcher, ctx.events, ctx)

    def describe(self) -> str:
        return " then ".join(m.describe() for m in self.matchers)


SCRIPT_KEYS = {"name", "exit", "stdout", "stdout_re", "stderr", "stderr_re", "stdout_not", "stderr_not",
               "timed_out", "running"}


@dataclass
class ScriptCondition(Condition):
    name: str | None = None
    exit: int | None = None
    stdout: tuple[str, ...] = ()
    stdout_re: str | None = None
    stdout_not: tuple[str, ...] = ()
    stderr: tuple[str, ...] = ()
    stderr_re: str | None = None
    stderr_not: tuple[str, ...] = ()
    timed_out: bool | None = None
    running: bool | None = None

    @classmethod
    def parse(cls, table: Any) -> "ScriptCondition":
        if not isinstance(table, dict):
            raise CheckSyntaxError("script must be a table such as {exit = 0, stdout = \"Hello\"}", "script")
        _unknown(table, SCRIPT_KEYS, "script check")
        condition = cls()
        if "name" in table:
            if not isinstance(table["name"], str):
                raise CheckSyntaxError("name must be a script's name", "name")
            condition.name = table["name"]
        if "exit" in table:
            if isinstance(table["exit"], bool) or not isinstance(table["exit"], int):
                raise CheckSyntaxError("exit must be a whole number (the exit status)", "exit")
            condition.exit = table["exit"]
        for key in ("stdout", "stderr", "stdout_not", "stderr_not"):
            if key in table:
                setattr(condition, key, _strings(table[key], key))
        for key in ("stdout_re", "stderr_re"):
            if key in table:
                if not isinstance(table[key], str):
                    raise CheckSyntaxError(f"{key} must be a string", key)
                setattr(condition, key, _compile(table[key], key))
        for key in ("timed_out", "running"):
            if key in table:
                if not isinstance(table[key], bool):
                    raise CheckSyntaxError(f"{key} must be true or false", key)
                setattr(condition, key, table[key])
        return condition

    def evaluate(self, ctx: CheckContext) -> Outcome:
        name = self.name or ctx.default_script
        result = ctx.scripts.get(name or "")
        from .diagnose import Diagnosis

        if result is None:
            return Outcome(False, f"{name or 'the script'} has not run yet (it runs each time you save a file)",
                           Diagnosis("not-run", "the script has not run yet"))
        try:
            outcome = self._judge(result, ctx)
        except UndefinedVariable as exc:
            return Outcome(False, str(exc))
        if outcome.passed or outcome.diagnosis is not None:
            return outcome
        tags = ("wrong-port",) if "refused" in outcome.detail.lower() else ()
        return Outcome(False, outcome.detail, Diagnosis("script-error", outcome.detail, tags))

    def _judge(self, result: ScriptResult, ctx: CheckContext) -> Outcome:
        label = result.file or result.name
        if result.error and self.running is not False:
            return Outcome(False, f"{label}: {result.error}")
        if self.running is not None:
            if result.running != self.running:
                state = "is still running" if result.running else f"is not running (exit {result.exit_code})"
                return Outcome(False, f"{label} {state}")
        elif result.running:
            return Outcome(False, f"{label} is still running")
        if self.timed_out is not None and result.timed_out != self.timed_out:
            return Outcome(False, f"{label} {'did not time out' if self.timed_out else 'timed out'}")
        if self.exit is not None and result.exit_code != self.exit:
            tail = result.stderr.strip().splitlines()[-1:] if result.stderr.strip() else []
            why = f": {shorten(tail[0], 80)}" if tail else ""
            return Outcome(False, f"{label} exited with {result.exit_code}, expected {self.exit}{why}")
        for stream, wanted, unwanted, pattern in (
            ("stdout", self.stdout, self.stdout_not, self.stdout_re),
            ("stderr", self.stderr, self.stderr_not, self.stderr_re),
        ):
            output = getattr(result, stream)
            for needle in wanted:
                needle = ctx.render(needle)
                if needle not in output:
                    from .diagnose import diagnose_output

                    diagnosis = diagnose_output(label, stream, output, needle)
                    return Outcome(False, diagnosis.sentence, diagnosis)
            for needle in unwanted:
                needle = ctx.render(needle)
                if needle in output:
                    return Outcome(False, f"{label}'s {stream} contains {needle!r}")
            if pattern is not None and re.search(ctx.render(pattern), output, re.MULTILINE) is None:
                return Outcome(False, f"{label}'s {stream} does not match /{pattern}/ "
                                      f"(it printed {shorten(output.strip() or '(nothing)')!r})")
        return Outcome(True, f"{label}: {self.describe()}")

    def describe(self) -> str:
        parts = []
        if self.exit is not None:
            parts.append(f"exit {self.exit}")
        parts += [f"prints {s!r}" for s in self.stdout]
        if self.stdout_re:
            parts.append(f"prints /{self.stdout_re}/")
        parts += [f"stderr has {s!r}" for s in self.stderr]
        parts += [f"never prints {s!r}" for s in (*self.stdout_not, *self.stderr_not)]
        if self.running is not None:
            parts.append("still running" if self.running else "finished")
        return ", ".join(parts) or "ran"


@dataclass
class ProbeCondition(Condition):
    """netlab's clients exercising the learner's server; the actions are checked by ``probe.py``."""

    actions: list[dict[str, Any]]
    target: str = "{{ host }}"

    @classmethod
    def parse(cls, value: Any, target: Any = None) -> "ProbeCondition":
        from .probe import parse_actions

        if target is not None and (not isinstance(target, str) or not target):
            raise CheckSyntaxError("target must be \"HOST:PORT\" (variables allowed)", "target")
        actions = parse_actions(value)
        return cls(actions, target or "")

    def evaluate(self, ctx: CheckContext) -> Outcome:
        from .diagnose import Diagnosis

        outcome = ctx.probes.get(id(self))
        if outcome is None:
            return Outcome(False, "probe not run yet (it runs when your server starts)",
                           Diagnosis("not-run", "the probe has not run yet"))
        if not outcome.passed and outcome.diagnosis is None:
            return Outcome(False, outcome.detail, Diagnosis("probe", outcome.detail))
        return outcome

    def describe(self) -> str:
        from .probe import describe_action

        return "; ".join(describe_action(a) for a in self.actions)


@dataclass
class AllCondition(Condition):
    items: list[Condition]

    def evaluate(self, ctx: CheckContext) -> Outcome:
        for item in self.items:
            outcome = item.evaluate(ctx)
            if not outcome:
                return outcome
        return Outcome(True, "; ".join(item.evaluate(ctx).detail for item in self.items))

    def children(self) -> Iterator[Condition]:
        return iter(self.items)

    def describe(self) -> str:
        return " and ".join(i.describe() for i in self.items)


@dataclass
class AnyCondition(Condition):
    items: list[Condition]

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failures = []
        for item in self.items:
            outcome = item.evaluate(ctx)
            if outcome:
                return outcome
            failures.append(outcome)
        return Outcome(False, "none of: " + " | ".join(f.detail for f in failures),
                       next((f.diagnosis for f in failures if f.diagnosis is not None), None))

    def children(self) -> Iterator[Condition]:
        return iter(self.items)

    def describe(self) -> str:
        return " or ".join(i.describe() for i in self.items)


@dataclass
class NotCondition(Condition):
    item: Condition

    def evaluate(self, ctx: CheckContext) -> Outcome:
        outcome = self.item.evaluate(ctx)
        if outcome:
            return Outcome(False, f"should not happen: {outcome.detail}")
        return Outcome(True, f"as expected, not: {self.item.describe()}")

    def children(self) -> Iterator[Condition]:
        return iter((self.item,))

    def describe(self) -> str:
        return f"not ({self.item.describe()})"


CONDITION_KEYS = ("event", "sequence", "script", "probe", "all", "any", "not")
# Keys allowed beside a condition key in the same table.
COMPANION_KEYS = {"sequence": {"same_conn"}, "probe": {"target"}}


def parse_condition(table: Any, *, allowed: set[str] = frozenset()) -> Condition:
    """A condition from a TOML table holding exactly one condition key (``allowed`` extra keys are ignored)."""
    if not isinstance(table, dict):
        raise CheckSyntaxError(f"a condition must be a table with one of: {', '.join(CONDITION_KEYS)}")
    present = [k for k in CONDITION_KEYS if k in table]
    if len(present) != 1:
        found = f"found {', '.join(present)}" if present else "found none"
        raise CheckSyntaxError(f"a check needs exactly one of {', '.join(CONDITION_KEYS)} ({found})",
                               present[1] if len(present) > 1 else None)
    key = present[0]
    companions = COMPANION_KEYS.get(key, set())
    for other, keys in COMPANION_KEYS.items():
        if other != key:
            for companion in keys & set(table):
                raise CheckSyntaxError(f"{companion} only applies to {other} checks", companion)
    _unknown(table, {key} | companions | set(allowed), f"{key} check")
    value = table[key]
    if key == "event":
        return EventCondition.parse(value)
    if key == "sequence":
        return SequenceCondition.parse(value, table.get("same_conn", False))
    if key == "script":
        return ScriptCondition.parse(value)
    if key == "probe":
        return ProbeCondition.parse(value, table.get("target"))
    if key == "not":
        return NotCondition(parse_condition(value))
    if not isinstance(value, list) or not value:
        raise CheckSyntaxError(f"{key} must be a non-empty list of conditions", key)
    items = [parse_condition(item) for item in value]
    return AllCondition(items) if key == "all" else AnyCondition(items)
