"""Why a check fails, from the traffic seen: the nearest miss, said in plain words.

When an event check or a sequence check fails, every event of the step is measured against the check's
matcher by a distance over its fields — proto, server (and so port), kind, direction, conversation and
payload bytes — and the nearest one is described by the fields it gets wrong:

=====================  =========================================================================
kind                   when
=====================  =========================================================================
``no-traffic``         nothing at all crossed the wire since the step began
``script-error``       nothing near, and the step's script failed (its exception is quoted)
``wrong-port``         the traffic went to another address than the lab's server (or the
                       script's connection was refused)
``wrong-server``       the right bytes, at another session than the one the check watches
``wrong-bytes``        the right place, other bytes (tags: ``case`` — only the case differs,
                       ``partial`` — the first N bytes agree, then …)
``wrong-direction``    the right bytes, going the other way
``wrong-kind``         the right place and direction, another kind of event
``other-connection``   a sequence whose next event happened on another connection
``too-few`` / ``too-many``  the right events, not as many as the check counts
``wrong-output``       a script's output differs (with the same case / partial analysis)
``not-run``            the script (or probe) has not run yet
``probe``              netlab's probe of the learner's server failed
=====================  =========================================================================

A ``lab:hint when="..."`` names one of these kinds, a tag, or a check's ``id``; the runner offers the
hint that fits the current failure first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from netlab_tui.engine.core.events import TrafficEvent

KINDS = ("no-traffic", "script-error", "wrong-port", "wrong-server", "wrong-bytes", "wrong-direction", "wrong-kind",
         "other-connection", "too-few", "too-many", "wrong-output", "not-run", "probe")
TAGS = ("case", "partial")
SCAN_LIMIT = 5_000  # events measured (the newest); diagnosis runs only for failing checks


@dataclass(frozen=True)
class Diagnosis:
    kind: str
    sentence: str
    tags: tuple[str, ...] = ()

    def fits(self, when: str) -> bool:
        return when == self.kind or when in self.tags


def _q(text: str, width: int = 40) -> str:
    text = text.translate({c: 0x2400 + c for c in range(0x20)})
    if len(text) > width:
        text = text[: width - 1] + "…"
    return repr(text)


# -- payloads -------------------------------------------------------------------------------------------
def compare_text(seen: str, wanted: str) -> tuple[float, str, tuple[str, ...]]:
    """How far ``seen`` is from containing ``wanted`` (0..1), a phrase saying how, and tags."""
    if wanted in seen:
        return 0.0, "", ()
    if wanted.casefold() in seen.casefold():
        return 0.15, "the case differs", ("case",)
    if wanted.strip() and wanted.strip() in seen:
        return 0.2, "the spaces or line ends around it differ", ("partial",)
    # The longest prefix of ``wanted`` that appears in ``seen``: "the first N agree, then …".
    best, at = 0, -1
    for size in range(len(wanted) - 1, 0, -1):
        position = seen.find(wanted[:size])
        if position >= 0:
            best, at = size, position
            break
    if best and (best >= 2 or len(wanted) <= 3):
        rest = seen[at + best: at + best + 1]
        then = f"then {_q(rest, 12)} where {_q(wanted[best], 12)} was expected" if rest else \
            f"then it stops where {_q(wanted[best:], 20)} was expected"
        unit = "byte" if best == 1 else "bytes"
        return 1.0 - 0.8 * best / len(wanted), f"the first {best} {unit} agree ({_q(wanted[:best], 20)}), {then}", \
            ("partial",)
    return 1.0, "", ()


def _payload_gap(matcher, event: TrafficEvent, ctx) -> tuple[float, str, tuple[str, ...]]:
    if matcher.matches_payload(event, ctx):
        return 0.0, "", ()
    if event.payload is None and not (matcher.text or matcher.regex):
        return 1.0, "it carried no bytes", ()
    text = ctx.text_of(event)
    for needle in matcher.text:
        rendered = ctx.render(needle)
        if rendered not in text:
            cost, how, tags = compare_text(text, rendered)
            return cost, f"{_q(rendered)} expected" + (f"; {how}" if how else ""), tags
    if matcher.hex is not None:
        wanted = bytes.fromhex(matcher.hex)
        seen = event.payload or b""
        cost, how, tags = compare_text(seen.decode("latin-1"), wanted.decode("latin-1"))
        return cost, f"bytes {matcher.hex} expected" + (f"; {how}" if how else ""), tags
    if matcher.regex is not None:
        return 1.0, f"it does not match /{ctx.render(matcher.regex)}/", ()
    if matcher.min_size is not None and event.size < matcher.min_size:
        return 0.5, f"{event.size} bytes, at least {matcher.min_size} expected", ("partial",)
    if matcher.json:
        return 1.0, "JSON " + ", ".join(f"{k}={ctx.render_value(v)!r}" for k, v in matcher.json.items()) + \
            " expected", ()
    return 1.0, "other bytes expected", ()


# -- one event against one matcher --------------------------------------------------------------------
@dataclass
class Miss:
    event: TrafficEvent
    cost: float
    fields: dict[str, str]  # field -> what is wrong
    tags: tuple[str, ...] = ()
    mirrored: bool = False  # the client's view of the server's traffic (directions swap)


def _host_port(address: str | None) -> tuple[str, str]:
    if not address:
        return "", ""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def measure(matcher, event: TrafficEvent, ctx, memo: dict | None = None) -> Miss:
    fields: dict[str, str] = {}
    cost = 0.0
    tags: tuple[str, ...] = ()
    mirrored = False
    if matcher.proto and event.proto not in matcher.proto:
        fields["proto"] = f"{event.proto}, not {'/'.join(matcher.proto)}"
        cost += 3
    if matcher.server is not None:
        session = ctx.servers.get(matcher.server)
        address = ctx.variables.get(f"{matcher.server}.address") if hasattr(ctx.variables, "get") else None
        if event.source != session:
            if address and event.peer == address:
                mirrored = True  # a client talking to the right server: its "out" is the server's "in"
                cost += 0.5
            else:
                host, port = _host_port(address)
                theirs = event.peer if event.kind == "connect" or event.source.startswith(("tcp-client", "udp-"))\
                    else event.local
                t_host, t_port = _host_port(theirs)
                if theirs and port and t_port and t_port != port and t_host in (host, "127.0.0.1", "::1", "localhost"):
                    fields["port"] = f"{theirs}|{address}"
                    cost += 2
                else:
                    fields["server"] = event.source
                    cost += 3
    if matcher.kind and event.kind not in matcher.kind:
        fields["kind"] = f"a {event.kind} event, not {'/'.join(matcher.kind)}"
        cost += 1.5
    if matcher.direction is not None:
        expected = None if matcher.direction == "none" else matcher.direction
        actual = event.direction
        if mirrored and actual in ("in", "out"):
            actual = "out" if actual == "in" else "in"
        if actual != expected:
            fields["direction"] = f"{actual or 'none'}|{expected or 'none'}"
            cost += 1.5
    for key in ("source", "peer", "local"):
        pattern = getattr(matcher, key)
        if pattern is not None:
            import fnmatch

            value = getattr(event, key) or ""
            if not fnmatch.fnmatchcase(value, ctx.render(pattern)):
                fields[key] = f"{key} {value or '(none)'}, not {ctx.render(pattern)}"
                cost += 2
    if matcher.meta:
        from .checks import json_path, same_value

        meta = event.meta or {}
        for path, expected in matcher.meta.items():
            found, value = json_path(meta, path)
            if not found or not same_value(value, ctx.render_value(expected)):
                fields["meta"] = f"{path}={value!r}, {path}={ctx.render_value(expected)!r}" if found else \
                    f"no {path}"
                cost += 1
                break
    if matcher.checks_payload:
        key = event.payload if memo is not None and event.payload is not None and len(event.payload) <= 4096 \
            else None
        found = memo.get(key) if key is not None else None
        if found is None:
            found = _payload_gap(matcher, event, ctx)
            if key is not None and len(memo) < 4096:  # floods repeat their payloads: compare each once
                memo[key] = found
        gap, how, tags = found
        if gap:
            fields["payload"] = how
            cost += 2 * gap
    return Miss(event, cost, fields, tags, mirrored)


def _candidates(matcher, events: Sequence[TrafficEvent]) -> list[TrafficEvent]:
    wants_shell = "shell" in matcher.proto or matcher.source is not None
    chosen = [e for e in list(events)[-SCAN_LIMIT:] if e.proto != "lab" and (wants_shell or e.proto != "shell")]
    return chosen


def nearest(matcher, events: Sequence[TrafficEvent], ctx) -> Miss | None:
    index = getattr(ctx, "index", None)
    if index is not None and events is ctx.events:
        return _nearest_indexed(matcher, events, ctx, index)
    best: Miss | None = None
    for event in _candidates(matcher, events):
        miss = measure(matcher, event, ctx)
        if best is None or miss.cost <= best.cost:  # ties: the latest
            best = miss
    return best


def _nearest_indexed(matcher, events: Sequence[TrafficEvent], ctx, index) -> Miss | None:
    """``nearest`` over the step's journal events, measuring each event once (the runner judges its step
    at every burst of events: only the events since the last judgement are new)."""
    entry = index.nearest.get(id(matcher))
    first = events[0].seq if events else 0
    if entry is None or entry[0] is not matcher or (entry[2] is not None and entry[2].event.seq < first):
        entry = index.nearest[id(matcher)] = [matcher, 0, None, {}]  # the matcher is held: its id stays unique
    new = []
    for event in reversed(events):
        if event.seq <= entry[1] or len(new) >= SCAN_LIMIT:
            break
        new.append(event)
    best: Miss | None = entry[2]
    for event in _candidates(matcher, list(reversed(new))):
        miss = measure(matcher, event, ctx, entry[3])
        if best is None or miss.cost <= best.cost:
            best = miss
    if events:
        entry[1] = events[-1].seq
    entry[2] = best
    return best


def _where(matcher, ctx) -> str:
    return f" at {matcher.server}" if matcher.server else ""


def describe_miss(matcher, miss: Miss, ctx) -> Diagnosis:
    event, fields = miss.event, miss.fields
    seen = ctx.text_of(event) if event.payload is not None else ""
    saw = f"saw {_q(seen)}" if event.payload is not None else f"saw a {event.kind} event"
    server = matcher.server or "the"
    if "port" in fields:
        theirs, address = fields["port"].split("|")
        who = "your client connected to" if event.source.startswith(("tcp-client", "udp-", "http-client")) \
            or event.kind == "connect" else "the traffic went to"
        return Diagnosis("wrong-port", f"{who} {theirs}, the {server} server is on {address}")
    if "server" in fields and len(fields) == 1:
        return Diagnosis("wrong-server", f"{saw} at {event.source}, not at the {server} server")
    if fields.keys() & {"payload", "meta"} and set(fields) <= {"payload", "meta"}:
        what = "; ".join(fields[k] for k in ("meta", "payload") if k in fields)
        if "payload" not in fields and event.kind in ("request", "response"):
            saw = f"saw a {event.kind} with {fields['meta'].split(',')[0]}"
            what = fields["meta"].split(", ", 1)[1] if ", " in fields["meta"] else fields["meta"]
            return Diagnosis("wrong-bytes", f"{saw}{_where(matcher, ctx)} — {what} expected", miss.tags)
        return Diagnosis("wrong-bytes", f"{saw}{_where(matcher, ctx)} — {what}", miss.tags)
    if "direction" in fields and set(fields) <= {"direction"}:
        actual, expected = fields["direction"].split("|")
        names = {"in": "in (received)", "out": "out (sent)", "none": "without a direction"}
        return Diagnosis("wrong-direction", f"{saw}{_where(matcher, ctx)} going {names.get(actual, actual)}, "
                                            f"but it should go {names.get(expected, expected)}")
    if "kind" in fields and set(fields) <= {"kind"}:
        return Diagnosis("wrong-kind", f"{saw}{_where(matcher, ctx)}: {fields['kind']}")
    parts = []
    for key, value in fields.items():
        if key == "direction":
            actual, expected = value.split("|")
            parts.append(f"direction {actual}, not {expected}")
        elif key == "server":
            parts.append(f"at {value}, not at the {server} server")
        else:
            parts.append(value)
    kind = "wrong-bytes" if fields.keys() & {"payload", "meta"} else "wrong-server" if "server" in fields else \
        "wrong-direction" if "direction" in fields else "wrong-kind"
    return Diagnosis(kind, f"nearest: {saw}{'' if 'server' in fields else _where(matcher, ctx)} — "
                           + "; ".join(parts), miss.tags)


# -- scripts ------------------------------------------------------------------------------------------
_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Refused|Reset|Timeout|Interrupt)\w*)\b:?\s*(.*)$")


def script_failure(ctx) -> tuple[str, str] | None:
    """(file, the exception or last error line) of a script of the step that failed, if one did."""
    for result in ctx.scripts.values():
        label = result.file or result.name
        if result.error and not result.running:
            return label, result.error
        failed = result.exit_code not in (0, None) and not result.running
        if failed or result.timed_out:
            lines = [ln.strip() for ln in result.stderr.strip().splitlines() if ln.strip()]
            exception = next((ln for ln in reversed(lines) if _EXCEPTION.match(ln)), None)
            if exception is None and lines:
                exception = lines[-1]
            if result.timed_out:
                return label, "it did not finish in time" + (f" ({exception})" if exception else "")
            return label, exception or f"it exited with status {result.exit_code}"
    return None


def no_traffic(matcher, ctx) -> Diagnosis:
    failure = script_failure(ctx)
    if failure is not None:
        label, why = failure
        address = ctx.variables.get(f"{matcher.server}.address") if matcher.server else None
        if "Refused" in why or "refused" in why:
            where = f" — is the port right? the {matcher.server} server is on {address}" if address else ""
            return Diagnosis("script-error", f"{label} never connected: {why}{where}", ("wrong-port",))
        return Diagnosis("script-error", f"{label} failed before sending anything: {why}")
    return Diagnosis("no-traffic", "no traffic at all since the step began"
                                   + (f" (the {matcher.server} server is on "
                                      f"{ctx.variables.get(matcher.server + '.address')})" if matcher.server else ""))


def diagnose_matcher(matcher, events: Sequence[TrafficEvent], ctx) -> Diagnosis:
    miss = nearest(matcher, events, ctx)
    if miss is None:
        return no_traffic(matcher, ctx)
    if not miss.fields:  # a full match (the caller counts): nothing to say about the bytes
        return Diagnosis("too-few", f"saw {_q(ctx.text_of(miss.event) or miss.event.kind)}")
    if miss.cost >= 3 and "port" not in miss.fields:
        failure = script_failure(ctx)
        if failure is not None:
            return no_traffic(matcher, ctx)
    return describe_miss(matcher, miss, ctx)


def diagnose_output(label: str, stream: str, output: str, wanted: str) -> Diagnosis:
    """A script's output that lacks ``wanted``: the nearest line, and how it differs."""
    lines = [ln for ln in output.splitlines() if ln.strip()] or [output]
    best = min(((compare_text(line, wanted), line) for line in lines), key=lambda item: item[0][0])
    (cost, how, tags), line = best
    if not output.strip():
        return Diagnosis("wrong-output", f"{label} printed nothing on {stream}; {_q(wanted)} expected")
    if cost >= 1.0:
        return Diagnosis("wrong-output", f"{label}'s {stream} does not contain {_q(wanted)} "
                                         f"(it printed {_q(output.strip(), 60)})")
    return Diagnosis("wrong-output", f"{label} printed {_q(line)} — {_q(wanted)} expected; {how}", tags)


# -- expected vs observed exchange (sequence checks) ----------------------------------------------------
LADDER_EVENTS = 12  # observed events drawn at most


def _expected_events(condition, ctx) -> list[TrafficEvent]:
    events = []
    for number, matcher in enumerate(condition.matchers, 1):
        if matcher.text:
            payload: bytes | None = " ".join(ctx.render(t) for t in matcher.text).encode()
        elif matcher.hex:
            payload = bytes.fromhex(matcher.hex)
        elif matcher.json:
            payload = ("{" + ", ".join(f'"{k}": {ctx.render_value(v)!r}' for k, v in matcher.json.items())
                       + "}").encode()
        elif matcher.regex:
            payload = f"/{ctx.render(matcher.regex)}/".encode()
        else:
            payload = None
        kind = matcher.kind[0] if matcher.kind else ("data" if payload is not None else "event")
        meta = {k: ctx.render_value(v) for k, v in matcher.meta.items()} or None
        address = ctx.variables.get(f"{matcher.server}.address") if matcher.server else None
        events.append(TrafficEvent(source=matcher.server or "?", proto=matcher.proto[0] if matcher.proto else "tcp",
                                   kind=kind, direction=None if matcher.direction in (None, "none") else
                                   matcher.direction, local=address or matcher.server or "server", peer="client",
                                   conn="expected", payload=payload, meta=meta,
                                   message=", ".join(f"{k}={v}" for k, v in (meta or {}).items()) or None,
                                   ts=0.0, seq=number))
    return events


def _plain(view, marks: dict[int, str]) -> list[str]:
    lines = []
    for index, (segments, seq) in enumerate(zip(view.lines, view.seqs, strict=False)):
        text = "".join(s[0] for s in segments)[11:]  # no time column: the two ladders line up by step
        lines.append(f"{marks.get(seq, '  ') if seq is not None else '  '}{text}" if index > 0 else f"  {text}")
    return lines


def ladder(condition, ctx, width: int = 46) -> list[str]:
    """The expected exchange above the observed one, as flow-graph ladders; ✗ marks the first divergence."""
    from netlab_tui.engine.inspect.conversations import flow_graph

    events, progress = condition.observed(ctx)
    expected = _expected_events(condition, ctx)
    marks = {e.seq: ("✓ " if n < progress else "✗ " if n == progress else "  ") for n, e in enumerate(expected)}
    graph_width = max(44, width + 11)
    lines = [f"expected ({len(expected)} events, in order):"]
    lines += _plain(flow_graph(expected, "expected", width=graph_width), marks)
    conn = None
    if progress:
        conn = next((e.conn for e in events if condition.matchers[0].matches(e, ctx) and e.conn), None)
    else:
        miss = nearest(condition.matchers[0], ctx.events, ctx)
        conn = miss.event.conn if miss is not None else None
    if conn is None:
        return [*lines, "observed: nothing on the wire yet"]
    chosen = [e for e in ctx.events if e.conn == conn][:LADDER_EVENTS]
    observed_marks: dict[int, str] = {}
    count = 0
    for event in chosen:
        if count < len(condition.matchers) and condition.matchers[count].matches(event, ctx):
            observed_marks[event.seq] = "✓ "
            count += 1
    after = [e for e in chosen if e.seq > max(observed_marks, default=-1)]
    if after and count < len(condition.matchers):
        miss = nearest(condition.matchers[count], after, ctx)  # where it went another way
        observed_marks[(miss.event if miss is not None else after[0]).seq] = "✗ "
    lines.append(f"observed on {conn} ({count} of {len(expected)} matched):")
    lines += _plain(flow_graph(chosen, conn, width=graph_width), observed_marks)
    return lines
