"""The traffic filter language: ``tcp and port 9999 and not dir in``, ``text ~ /hel+o/i``, ``size > 100``.

One small language for the TUI's filter bar, ``netlab open --filter`` and scripts. ``compile(text)``
returns a predicate over ``TrafficEvent``s, or raises ``FilterError`` with the column of the mistake so
a filter bar can underline it as you type. The help text is generated from ``FIELDS`` below, so a field
added there is documented everywhere.

Grammar::

    expr    := term ( ("or" | "||") term )*
    term    := factor ( ["and" | "&&"] factor )*        two factors side by side mean "and"
    factor  := ("not" | "!") factor | "(" expr ")" | test
    test    := FIELD [OP] VALUE                          proto tcp · port >= 8000 · text ~ /GET|POST/
             | WORD                                      a protocol, direction or kind: tcp · in · data
             | "quoted text" | /regex/flags              search the payload (and messages)

Values may be a comma list (``port 80,443``, ``kind data,close``); ports and numbers may be ranges
(``port 8000-8100``). ``~`` is a regex search (``/.../i`` for case-insensitive), ``==`` exact, ``!=``
its negation; on two-sided fields (``port``, ``host``) ``!=`` means *neither side*.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netlab_tui.engine.core.events import PROTOS, TrafficEvent

Predicate = Callable[[TrafficEvent], bool]


class FilterError(ValueError):
    """A filter that does not compile. ``pos`` is the 0-based column of the mistake, ``end`` where it ends."""

    def __init__(self, message: str, pos: int, end: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.end = end if end is not None else pos + 1

    def __str__(self) -> str:
        return f"column {self.pos + 1}: {self.message}"


# -- fields ----------------------------------------------------------------------------------------------
KINDS = ("listen", "accept", "connect", "data", "close", "request", "response", "stdout", "stderr", "exit",
         "port", "created", "modified", "moved", "deleted", "step", "error", "info", "ack", "reset")
DIRECTIONS = ("in", "out")
ALL_OPS = ("==", "!=", "~", "!~", "<", "<=", ">", ">=")


@functools.lru_cache(maxsize=4096)
def split_addr(addr: str | None) -> tuple[str | None, int | None]:
    """``"127.0.0.1:80"`` → ``("127.0.0.1", 80)``; ``"[::1]:80"`` → ``("::1", 80)``."""
    if not addr:
        return None, None
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        return addr.strip("[]"), None
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Field:
    name: str
    value: str  # the value type: "word", "text", "addr", "port", "number", "bytes"
    help: str
    example: str
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # when set, values must be one of these
    ops: tuple[str, ...] = ("==", "!=", "~", "!~")
    two_sided: bool = False  # matches when either endpoint matches


FIELDS: tuple[Field, ...] = (
    Field("proto", "word", "protocol of the event", "proto udp", choices=PROTOS),
    Field("kind", "word", "what happened: data, connect, accept, close, request, error …", "kind data,close"),
    Field("dir", "word", "direction: in = received by netlab, out = sent by netlab", "dir out",
          aliases=("direction",), choices=DIRECTIONS + ("none",)),
    Field("port", "port", "port of either endpoint (range a-b, list a,b)", "port 8000-8100",
          ops=("==", "!=", "<", "<=", ">", ">="), two_sided=True),
    Field("lport", "port", "port of netlab's end (local)", "lport 9999", ops=("==", "!=", "<", "<=", ">", ">=")),
    Field("pport", "port", "port of the other end (peer)", "pport > 40000", ops=("==", "!=", "<", "<=", ">", ">=")),
    Field("host", "addr", "host (IP) of either endpoint", "host 127.0.0.1", two_sided=True),
    Field("local", "addr", "netlab's end, host:port", "local ~ :9999$"),
    Field("peer", "addr", "the other end, host:port", "peer 127.0.0.1:50000"),
    Field("session", "word", "the session (source) that saw it; ~ to match part of the name", "session ~ echo",
          aliases=("source",)),
    Field("conn", "word", "conversation id: one connection, exchange or process", "conn tcp-3"),
    Field("text", "text", "payload (or message) contains this text; ~ for a regex", 'text "Hello"',
          aliases=("payload", "contains")),
    Field("bytes", "bytes", "payload contains these bytes, in hex", "bytes 0d0a", aliases=("hex",),
          ops=("==", "!=")),
    Field("size", "number", "payload size in bytes", "size > 1000", ops=("==", "!=", "<", "<=", ">", ">=")),
    Field("seq", "number", "the event's number in the journal", "seq >= 100", ops=("==", "!=", "<", "<=", ">", ">=")),
    Field("meta.KEY", "text", "a key of the event's meta (HTTP method, status, exit code …)",
          "meta.status >= 400", ops=ALL_OPS),
)
_BY_NAME: dict[str, Field] = {}
for _field in FIELDS:
    _BY_NAME[_field.name] = _field
    for _alias in _field.aliases:
        _BY_NAME[_alias] = _field

BARE_WORDS: dict[str, tuple[str, str]] = {
    **{p: ("proto", p) for p in PROTOS},
    **{d: ("dir", d) for d in DIRECTIONS},
    **{k: ("kind", k) for k in KINDS},
}
KEYWORDS = {"and": "and", "&&": "and", "or": "or", "||": "or", "not": "not", "!": "not"}


# -- tokens ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    type: str  # "word", "string", "regex", "op", "(", ")", "and", "or", "not", "end"
    value: str
    pos: int
    end: int
    flags: str = ""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<lpar>\() | (?P<rpar>\))
  | (?P<op>==|!=|!~|<=|>=|=|~|<|>)
  | (?P<and>&&) | (?P<or>\|\|) | (?P<not>!)
  | (?P<string>"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)
  | (?P<regex>/(?:[^/\\]|\\.)*/?[imsx]*)
  | (?P<word>[^\s()"'=!<>~&|]+)
""", re.VERBOSE)


_CLOSED_STRING = {'"': re.compile(r'"(?:[^"\\]|\\.)*"'), "'": re.compile(r"'(?:[^'\\]|\\.)*'")}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FilterError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup
        value = m.group()
        start, pos = pos, m.end()
        if kind == "ws":
            continue
        if kind == "string":
            quote = value[0]
            if not _CLOSED_STRING[quote].fullmatch(value):
                raise FilterError(f"unterminated string: add a closing {quote}", start, pos)
            body = re.sub(r"\\(.)", r"\1", value[1:-1])
            tokens.append(Token("string", body, start, pos))
        elif kind == "regex":
            body_end = value.rfind("/")
            if body_end == 0:
                raise FilterError("unterminated regex: add a closing /", start, pos)
            tokens.append(Token("regex", value[1:body_end], start, pos, flags=value[body_end + 1:]))
        elif kind == "word" and value.lower() in KEYWORDS:
            tokens.append(Token(KEYWORDS[value.lower()], value, start, pos))
        elif kind in ("and", "or", "not"):
            tokens.append(Token(kind, value, start, pos))
        elif kind == "lpar":
            tokens.append(Token("(", value, start, pos))
        elif kind == "rpar":
            tokens.append(Token(")", value, start, pos))
        else:
            tokens.append(Token(kind or "word", "==" if value == "=" else value, start, pos))
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


# -- parser ----------------------------------------------------------------------------------------------
def _true(_event: TrafficEvent) -> bool:
    return True


def compile(text: str) -> Predicate:  # noqa: A001 - the natural name, as re.compile
    """The predicate for filter ``text`` (all events when blank). Raises ``FilterError``."""
    if not text.strip():
        return _true
    parser = _Parser(text, tokenize(text))
    predicate = parser.expr()
    token = parser.peek()
    if token.type == ")":
        raise FilterError("unmatched )", token.pos)
    if token.type != "end":
        raise FilterError(f"unexpected {token.value!r}", token.pos, token.end)
    return predicate


def check(text: str) -> FilterError | None:
    """The first error in ``text``, or None when it compiles (what a filter bar calls as you type)."""
    try:
        compile(text)
    except FilterError as exc:
        return exc
    return None


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expr(self) -> Predicate:
        left = self.term()
        while self.peek().type == "or":
            op = self.take()
            if self.peek().type in ("end", ")", "or", "and"):
                raise FilterError(f"{op.value!r} needs something after it", op.pos, op.end)
            right = self.term()
            left = _or(left, right)
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while True:
            token = self.peek()
            if token.type == "and":
                self.take()
                if self.peek().type in ("end", ")", "or", "and"):
                    raise FilterError(f"{token.value!r} needs something after it", token.pos, token.end)
                left = _and(left, self.factor())
            elif token.type in ("word", "string", "regex", "(", "not"):
                left = _and(left, self.factor())
            else:
                return left

    def factor(self) -> Predicate:
        token = self.peek()
        if token.type == "not":
            self.take()
            if self.peek().type in ("end", ")", "or", "and"):
                raise FilterError(f"{token.value!r} needs something after it", token.pos, token.end)
            inner = self.factor()
            return lambda e: not inner(e)
        if token.type == "(":
            self.take()
            if self.peek().type == ")":
                raise FilterError("empty parentheses", token.pos, self.peek().end)
            if self.peek().type == "end":
                raise FilterError("missing ) for this (", token.pos, token.end)
            inner = self.expr()
            close = self.peek()
            if close.type != ")":
                raise FilterError("missing ) for this (", token.pos, token.end)
            self.take()
            return inner
        if token.type in ("string", "regex"):
            self.take()
            return _text_test("~" if token.type == "regex" else "contains", token)
        if token.type == "word":
            return self.test()
        if token.type == "op":
            raise FilterError(f"{token.value!r} needs a field before it, e.g. port {token.value} 80",
                              token.pos, token.end)
        if token.type == "end":
            raise FilterError("the filter ends too early", token.pos)
        if token.type == ")":
            raise FilterError("unmatched )", token.pos)
        raise FilterError(f"unexpected {token.value!r}", token.pos, token.end)

    def test(self) -> Predicate:
        word = self.take()
        name = word.value.lower()
        meta_key = None
        if name.startswith("meta.") and len(name) > 5:
            meta_key = word.value[5:]
            field = _BY_NAME["meta.KEY"]
        else:
            field = _BY_NAME.get(name)
        nxt = self.peek()
        if field is None:
            if name in BARE_WORDS and nxt.type not in ("op",):
                fname, value = BARE_WORDS[name]
                return _word_test(_BY_NAME[fname], "==", [value])
            raise FilterError(_unknown_word(word.value), word.pos, word.end)
        op = "default"
        if nxt.type == "op":
            op_token = self.take()
            op = op_token.value
            if op not in field.ops:
                allowed = " ".join(field.ops)
                raise FilterError(f"{field.name} does not take {op}; use one of: {allowed}",
                                  op_token.pos, op_token.end)
        value = self.peek()
        if value.type not in ("word", "string", "regex"):
            raise FilterError(f"{word.value} needs a value, e.g. {field.example}", word.pos,
                              value.pos if value.type == "end" else value.end)
        self.take()
        if value.type == "regex" and op not in ("~", "!~", "default"):
            raise FilterError("a /regex/ goes with ~ or !~", value.pos, value.end)
        if value.type == "regex" or op in ("~", "!~"):
            if "~" not in field.ops:
                raise FilterError(f"{field.name} cannot be matched with a regex", value.pos, value.end)
            regex = _regex(value)
            getter = _getter(field, meta_key)
            test = _regex_test(getter, regex, field.two_sided)
            return (lambda e: not test(e)) if op == "!~" else test
        if field.value == "text":
            if meta_key is not None:
                return _meta_test(meta_key, op, value)
            return _text_test("==" if op == "==" else "!=" if op == "!=" else "contains", value)
        if field.value == "bytes":
            return _bytes_test(op, value)
        if field.value in ("port", "number"):
            return _number_test(field, op, value)
        values = [v for v in value.value.split(",")] if value.type == "word" else [value.value]
        if field.choices:
            for v in values:
                if v.lower() not in field.choices:
                    choices = ", ".join(field.choices)
                    raise FilterError(f"{field.name} is one of {choices}; not {v!r}", value.pos, value.end)
            values = [v.lower() for v in values]
        return _word_test(field, "!=" if op == "!=" else "==", values, meta_key)


def _unknown_word(word: str) -> str:
    names = [f.name for f in FIELDS if f.name != "meta.KEY"] + list(BARE_WORDS)
    close = difflib.get_close_matches(word.lower(), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown word {word!r}{hint} (to search the payload, quote it: \"{word}\")"


def _and(a: Predicate, b: Predicate) -> Predicate:
    return lambda e: a(e) and b(e)


def _or(a: Predicate, b: Predicate) -> Predicate:
    return lambda e: a(e) or b(e)


def _regex(token: Token) -> re.Pattern[str]:
    flags = 0
    for f in token.flags:
        flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}[f]
    try:
        return re.compile(token.value, flags)
    except re.error as exc:
        where = token.pos + 1 + (exc.pos or 0)
        raise FilterError(f"bad regex: {exc.msg}", min(where, token.end - 1), token.end) from None


def _getter(field: Field, meta_key: str | None) -> Callable[[TrafficEvent], Any]:
    name = field.name
    if meta_key is not None:
        return lambda e: (e.meta or {}).get(meta_key)
    return {
        "proto": lambda e: e.proto,
        "kind": lambda e: e.kind,
        "dir": lambda e: e.direction or "none",
        "session": lambda e: e.source,
        "conn": lambda e: e.conn,
        "local": lambda e: e.local,
        "peer": lambda e: e.peer,
        "host": lambda e: (split_addr(e.local)[0], split_addr(e.peer)[0]),
        "text": lambda e: e.text,
    }[name]


def _either(getter: Callable[[TrafficEvent], tuple[Any, Any]], test: Callable[[Any], bool]) -> Predicate:
    """True when ``test`` holds for either endpoint's value (``getter`` gives both). Spelled out rather than
    ``any(...)``: a filter runs over the whole journal (200,000 events) when it changes."""

    def predicate(e: TrafficEvent) -> bool:
        a, b = getter(e)
        return bool(test(a) or test(b))

    return predicate


def _word_test(field: Field, op: str, values: list[str], meta_key: str | None = None) -> Predicate:
    getter = _getter(field, meta_key)
    wanted = frozenset(values)
    if field.two_sided:
        either = _either(getter, wanted.__contains__)
        if op == "==":
            return either
        return lambda e: not either(e)
    if op == "==":
        return lambda e: getter(e) in wanted
    return lambda e: getter(e) not in wanted


def _regex_test(getter: Callable[[TrafficEvent], Any], regex: re.Pattern[str], two_sided: bool) -> Predicate:
    search = regex.search
    if two_sided:
        return _either(getter, lambda v: v is not None and search(str(v)) is not None)

    def test(e: TrafficEvent) -> bool:
        value = getter(e)
        return value is not None and search(value if isinstance(value, str) else str(value)) is not None

    return test


def _text_test(op: str, token: Token) -> Predicate:
    if op == "~":
        regex = _regex(token)
        return _regex_test(lambda e: e.text, regex, False)
    needle = token.value
    raw = needle.encode("utf-8")

    def contains(e: TrafficEvent) -> bool:
        if e.payload is not None:
            return raw in e.payload
        return e.message is not None and needle in e.message

    if op == "contains":
        return contains
    if op == "==":
        return lambda e: e.text == needle
    return lambda e: e.text != needle


def _bytes_test(op: str, token: Token) -> Predicate:
    cleaned = "".join(ch for ch in token.value if ch not in " :")
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    try:
        needle = bytes.fromhex(cleaned)
    except ValueError:
        raise FilterError("bytes wants hex digits in pairs, e.g. bytes 0d0a", token.pos, token.end) from None
    if op == "==":
        return lambda e: e.payload == needle
    if op == "!=":
        return lambda e: e.payload != needle
    return lambda e: e.payload is not None and needle in e.payload


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _number_set(field: Field, token: Token) -> Callable[[int], bool]:
    """A membership test for ``80``, ``80,443`` or ``8000-8100``."""
    singles: set[int] = set()
    ranges: list[tuple[int, int]] = []
    for part in token.value.split(","):
        lo, dash, hi = part.partition("-")
        try:
            a, b = (int(lo), int(hi)) if dash else (int(part), int(part))
        except ValueError:
            what = "a port number" if field.value == "port" else "a number"
            raise FilterError(f"{field.name} wants {what}, not {part!r}", token.pos, token.end) from None
        if a > b:
            raise FilterError(f"empty range {part!r}: the first number must be the smaller", token.pos, token.end)
        if dash:
            ranges.append((a, b))
        else:
            singles.add(a)
    if field.value == "port":
        for n in list(singles) + [x for r in ranges for x in r]:
            if not 0 <= n <= 65535:
                raise FilterError(f"port out of range 0-65535: {n}", token.pos, token.end)
    if not ranges:
        return singles.__contains__
    return lambda n: n in singles or any(a <= n <= b for a, b in ranges)


def _number_test(field: Field, op: str, token: Token) -> Predicate:
    name = field.name
    getter: Callable[[TrafficEvent], Any]
    if name == "port":
        getter = lambda e: (split_addr(e.local)[1], split_addr(e.peer)[1])  # noqa: E731
    elif name == "lport":
        getter = lambda e: split_addr(e.local)[1]  # noqa: E731
    elif name == "pport":
        getter = lambda e: split_addr(e.peer)[1]  # noqa: E731
    elif name == "size":
        getter = lambda e: e.size  # noqa: E731
    else:
        getter = lambda e: e.seq  # noqa: E731
    if op in _CMP:
        try:
            bound = int(token.value)
        except ValueError:
            raise FilterError(f"{name} {op} wants one number, not {token.value!r}", token.pos, token.end) from None
        cmp = _CMP[op]
        if field.two_sided:
            return _either(getter, lambda v: v is not None and cmp(v, bound))
        return lambda e: (v := getter(e)) is not None and cmp(v, bound)
    member = _number_set(field, token)
    if field.two_sided:
        test: Predicate = _either(getter, lambda v: v is not None and member(v))
    else:
        test = lambda e: (v := getter(e)) is not None and member(v)  # noqa: E731
    if op == "!=":
        return lambda e: not test(e)
    return test


def _meta_test(key: str, op: str, token: Token) -> Predicate:
    wanted = token.value

    def value_of(e: TrafficEvent) -> Any:
        meta = e.meta
        if not meta:
            return None
        value = meta
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    if op in _CMP:
        try:
            bound: Any = float(wanted)
        except ValueError:
            bound = wanted
        cmp = _CMP[op]

        def compare(e: TrafficEvent) -> bool:
            value = value_of(e)
            if value is None or isinstance(value, (dict, list)):
                return False
            try:
                return cmp(float(value), bound) if isinstance(bound, float) else cmp(str(value), bound)
            except (TypeError, ValueError):
                return False

        return compare

    def equal(e: TrafficEvent) -> bool:
        value = value_of(e)
        if value is None:
            return False
        if isinstance(value, bool):
            return str(value).lower() == wanted.lower()
        return str(value) == wanted or str(value).lower() == wanted.lower()

    if op == "!=":
        return lambda e: not equal(e)
    return equal


# -- help ------------------------------------------------------------------------------------------------
EXAMPLES = (
    ("tcp and port 9999", "TCP events on port 9999, either end"),
    ("data and dir in", "bytes netlab received"),
    ('text "Hello" or text ~ /bye/i', "payload contains Hello, or matches bye in any case"),
    ("kind close,error", "connections ending, and errors"),
    ("http and meta.status >= 400", "failed HTTP answers"),
    ("not (session ~ echo)", "everything but the echo server"),
    ("size > 1000 && !udp", "big payloads, not UDP"),
)


def help_text() -> str:
    """The language's documentation, generated from FIELDS, BARE_WORDS and EXAMPLES."""
    out = ["Filter: fields, words and text searches, combined with and / or / not and parentheses.", ""]
    out.append("Fields (FIELD [OP] VALUE):")
    labels = [f.name + (" (" + ", ".join(f.aliases) + ")" if f.aliases else "") for f in FIELDS]
    width = max(len(label) for label in labels)
    for label, f in zip(labels, FIELDS):
        out.append(f"  {label:<{width}}  {f.help}")
        ops = " ".join(f.ops)
        choices = f"; values: {', '.join(f.choices)}" if f.choices else ""
        out.append(f"  {'':<{width}}    e.g. {f.example}   (ops: {ops}{choices})")
    out.append("")
    out.append("Words on their own:")
    out.append("  protocols: " + " ".join(p for p in PROTOS))
    out.append("  directions: in out      kinds: " + " ".join(KINDS))
    out.append('  "quoted text" searches the payload; /regex/i searches it with a regex')
    out.append("")
    out.append("Operators: == (or =) exact · != not · ~ regex search · !~ no match · < <= > >= numbers.")
    out.append("Lists and ranges: port 80,443 · port 8000-8100 · kind data,close.")
    out.append("Combine: and && (or just a space) · or || · not ! · ( … ).")
    out.append("")
    out.append("Examples:")
    for example, meaning in EXAMPLES:
        out.append(f"  {example:<32} {meaning}")
    return "\n".join(out)


# -- apply as filter -------------------------------------------------------------------------------------
def _quoted(value: str) -> str:
    if re.fullmatch(r"[\w.:\[\]/@-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def terms_for(event: TrafficEvent) -> list[tuple[str, str]]:
    """Filters that select events like ``event`` by one of its fields, as ``(filter, what it keeps)`` —
    Wireshark's *Apply as Filter* on a field of the selected packet. Each one compiles."""
    terms: list[tuple[str, str]] = []
    if event.conn:
        terms.append((f"conn {_quoted(event.conn)}", "this conversation"))
    if event.peer:
        terms.append((f"peer == {_quoted(event.peer)}", "the same other end"))
        host, port = split_addr(event.peer)
        if host:
            terms.append((f"host {_quoted(host)}", "this host, either end"))
    if event.local:
        _host, port = split_addr(event.local)
        if port is not None:
            terms.append((f"port {port}", "this port, either end"))
    terms.append((f"session == {_quoted(event.source)}", "this session"))
    terms.append((f"proto {event.proto}", f"{event.proto} events"))
    terms.append((f"kind {event.kind}", f"{event.kind} events"))
    if event.direction in DIRECTIONS:
        terms.append((f"dir {event.direction}", "received by netlab" if event.direction == "in" else "sent by netlab"))
    text = event.text if event.payload is not None else None
    if text:
        line = text.strip().splitlines()[0][:24] if text.strip() else ""
        if line:
            terms.append((f"text {_quoted(line)}", "payloads with this text"))
    if event.payload is not None:
        terms.append((f"size == {event.size}", "payloads of this size"))
    return [(term, what) for term, what in terms if check(term) is None]


def help_markdown() -> str:
    """``help_text`` as Markdown lists, which wrap at any width (a code block is cut at the right edge)."""
    out = ["Fields (`FIELD [OP] VALUE`), combined with `and` / `or` / `not` and parentheses:", ""]
    for f in FIELDS:
        aliases = f" (also {', '.join(f.aliases)})" if f.aliases else ""
        choices = f"; values: {', '.join(f.choices)}" if f.choices else ""
        out.append(f"- **{f.name}**{aliases}: {f.help} — e.g. `{f.example}` (ops: {' '.join(f.ops)}{choices})")
    out += ["", "Words on their own:", "",
            "- protocols: " + " ".join(PROTOS),
            "- directions: in out",
            "- kinds: " + " ".join(KINDS),
            '- `"quoted text"` searches the payload; `/regex/i` searches it with a regex', "",
            "Operators: `==` (or `=`) exact · `!=` not · `~` regex search · `!~` no match · `<` `<=` `>` `>=` numbers. "
            "Lists and ranges: `port 80,443` · `port 8000-8100` · `kind data,close`. "
            "Combine: `and` `&&` (or just a space) · `or` `||` · `not` `!` · `( … )`.", "",
            "Examples:", ""]
    out += [f"- `{example}`: {meaning}" for example, meaning in EXAMPLES]
    return "\n".join(out)
