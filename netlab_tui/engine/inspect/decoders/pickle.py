"""Pickle: the ``pickletools`` disassembly, and what ``pickle.loads`` *would* do — it is never loaded.

Unpickling is running a tiny program: ``GLOBAL``/``STACK_GLOBAL`` import any attribute of any module,
``REDUCE``/``INST``/``OBJ``/``NEWOBJ`` call it, ``BUILD`` calls ``__setstate__``. A socket that sends
``cos\\nsystem\\n(S'rm -rf ~'\\ntR.`` gets a shell command run by whoever unpickles it. This view walks
the opcodes symbolically (a stack of descriptions, never objects) and names every import and call the
real ``pickle.loads`` would make, with their arguments, before showing the disassembly.
"""

from __future__ import annotations

import io
import pickletools
import re
from dataclasses import dataclass, field
from typing import Any

from . import Line, View, register

MAX_BYTES = 4 << 20
MAX_DIS_LINES = 20_000
_OPS = {op.name for op in pickletools.opcodes}
_PROTO0_START = frozenset(b"(cdilIFLSVNK]}()\x80.")


class _Mark:
    def __repr__(self) -> str:
        return "MARK"


MARK = _Mark()


@dataclass
class Sym:
    """A symbolic value: how a Python object would be described, not the object."""

    text: str

    def __repr__(self) -> str:
        return self.text


@dataclass
class Container:
    kind: str  # "list", "dict", "set", "tuple", "frozenset"
    items: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        shown = self.items[:6]
        more = ", …" if len(self.items) > 6 else ""
        if self.kind == "dict":
            body = ", ".join(f"{_r(k)}: {_r(v)}" for k, v in shown) + more
            return "{" + body + "}"
        body = ", ".join(_r(v) for v in shown) + more
        if self.kind == "list":
            return "[" + body + "]"
        if self.kind == "tuple":
            return "(" + body + ("," if len(self.items) == 1 else "") + ")"
        if self.kind == "set":
            return "{" + body + "}" if self.items else "set()"
        return f"frozenset({{{body}}})"


def _r(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Effects:
    imports: list[str] = field(default_factory=list)  # "os.system"
    calls: list[str] = field(default_factory=list)  # "os.system('echo hi')"
    protocol: int | None = None
    error: str | None = None  # where the walk stopped, for a truncated or malformed pickle
    stopped: bool = False  # reached STOP
    result: str | None = None  # what loads would return, described
    ops: int = 0  # opcodes read


def _args_text(args: Any) -> str:
    if isinstance(args, Container) and args.kind == "tuple":
        return ", ".join(_r(a, 160) for a in args.items)
    return "*" + _r(args, 160)


def simulate(data: bytes) -> Effects:
    """Walk the opcodes with a symbolic stack; never imports or calls anything."""
    fx = Effects()
    stack: list[Any] = []
    memo: dict[int, Any] = {}

    def pop_mark() -> list[Any]:
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is MARK:
                items = stack[i + 1 :]
                del stack[i:]
                return items
        raise ValueError("no MARK on the stack")

    def pop() -> Any:
        if not stack:
            raise ValueError("stack underflow")
        return stack.pop()

    def imported(module: Any, name: Any) -> Sym:
        qual = f"{_plain(module)}.{_plain(name)}"
        if qual not in fx.imports:
            fx.imports.append(qual)
        return Sym(qual)

    def called(func: Any, args_text: str) -> Sym:
        text = f"{_r(func, 60)}({args_text})"
        fx.calls.append(text)
        return Sym(text)

    try:
        for op, arg, pos in pickletools.genops(data):
            name = op.name
            fx.ops += 1
            if name == "PROTO":
                fx.protocol = arg
            elif name in ("FRAME",):
                pass
            elif name == "STOP":
                fx.stopped = True
                fx.result = _r(stack[-1], 200) if stack else None
                break
            elif name == "MARK":
                stack.append(MARK)
            elif name in ("NONE",):
                stack.append(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name == "EMPTY_LIST":
                stack.append(Container("list"))
            elif name == "EMPTY_DICT":
                stack.append(Container("dict"))
            elif name == "EMPTY_TUPLE":
                stack.append(Container("tuple"))
            elif name == "EMPTY_SET":
                stack.append(Container("set"))
            elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
                if name == "NEXT_BUFFER":
                    stack.append(Sym("<out-of-band buffer>"))
            elif name in ("TUPLE", "LIST", "FROZENSET"):
                items = pop_mark()
                stack.append(Container(name.lower(), items))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise ValueError("stack underflow")
                items = stack[-n:]
                del stack[-n:]
                stack.append(Container("tuple", items))
            elif name == "DICT":
                items = pop_mark()
                stack.append(Container("dict", list(zip(items[::2], items[1::2]))))
            elif name == "APPEND":
                value = pop()
                _add(stack[-1] if stack else None, [value])
            elif name in ("APPENDS", "ADDITEMS"):
                items = pop_mark()
                _add(stack[-1] if stack else None, items)
            elif name == "SETITEM":
                value, key = pop(), pop()
                _add(stack[-1] if stack else None, [(key, value)])
            elif name == "SETITEMS":
                items = pop_mark()
                _add(stack[-1] if stack else None, list(zip(items[::2], items[1::2])))
            elif name == "POP":
                pop()
            elif name == "DUP":
                stack.append(stack[-1] if stack else None)
            elif name == "POP_MARK":
                pop_mark()
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1] if stack else None
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1] if stack else None
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                if arg not in memo:
                    raise ValueError(f"memo key {arg} was never stored")
                stack.append(memo[arg])
            elif name == "GLOBAL":
                module, _, attr = str(arg).partition(" ")
                stack.append(imported(module, attr))
            elif name == "STACK_GLOBAL":
                attr, module = pop(), pop()
                stack.append(imported(module, attr))
            elif name in ("EXT1", "EXT2", "EXT4"):
                qual = f"copyreg extension #{arg}"
                fx.imports.append(qual + " (whatever the copyreg registry maps it to)")
                stack.append(Sym(qual))
            elif name == "REDUCE":
                args, func = pop(), pop()
                stack.append(called(func, _args_text(args)))
            elif name == "INST":
                module, _, attr = str(arg).partition(" ")
                cls = imported(module, attr)
                stack.append(called(cls, ", ".join(_r(a, 160) for a in pop_mark())))
            elif name == "OBJ":
                items = pop_mark()
                if not items:
                    raise ValueError("OBJ without a class")
                stack.append(called(items[0], ", ".join(_r(a, 160) for a in items[1:])))
            elif name == "NEWOBJ":
                args, cls = pop(), pop()
                stack.append(called(Sym(f"{_r(cls, 60)}.__new__"), _r(cls, 60) + (
                    ", " + _args_text(args) if _args_text(args) else "")))
            elif name == "NEWOBJ_EX":
                kwargs, args, cls = pop(), pop(), pop()
                stack.append(called(Sym(f"{_r(cls, 60)}.__new__"),
                                    f"{_r(cls, 60)}, {_args_text(args)}, **{_r(kwargs, 40)}"))
            elif name == "BUILD":
                state = pop()
                target = stack[-1] if stack else None
                fx.calls.append(f"{_r(target, 60)}.__setstate__({_r(state, 60)})  (or __dict__.update)")
            elif name in ("PERSID", "BINPERSID"):
                pid = arg if name == "PERSID" else pop()
                stack.append(called(Sym("Unpickler.persistent_load"), _r(pid, 60)))
            else:  # every other opcode pushes its argument (ints, floats, strings, bytes …)
                stack.append(arg)
    except ValueError as exc:
        fx.error = str(exc)
    except Exception as exc:  # a malformed pickle can trip the walk anywhere; say where, never crash
        fx.error = f"{exc.__class__.__name__}: {exc}"
    return fx


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else _r(value, 40)


def _add(target: Any, items: list[Any]) -> None:
    if isinstance(target, Container):
        target.items.extend(items)


def disassembly(data: bytes) -> tuple[list[str], str | None]:
    """``pickletools.dis`` output, line by line, and its error for a malformed pickle."""
    out = io.StringIO()
    error = None
    try:
        pickletools.dis(data, out=out, annotate=1)
    except Exception as exc:  # dis validates as it goes; what it printed before failing is still useful
        error = str(exc) or exc.__class__.__name__
    return out.getvalue().splitlines()[:MAX_DIS_LINES], error


_DIS_LINE = re.compile(r"^(\s*\d+: )(\S+\s+)(\s*)([A-Z0-9_]+)(.*)$")


def _dis_spans(text: str) -> Line:
    m = _DIS_LINE.match(text)
    if not m or m.group(4) not in _OPS:
        return [(text, "dim")]
    op = m.group(4)
    tag = "warning" if op in _DANGEROUS else "keyword"
    return [(m.group(1), "offset"), (m.group(2), "dim"), (m.group(3), None), (op, tag), (m.group(5), None)]


_DANGEROUS = frozenset(("GLOBAL", "STACK_GLOBAL", "REDUCE", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD",
                        "EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID"))


def warning_lines(fx: Effects) -> list[Line]:
    lines: list[Line] = []
    if fx.imports or fx.calls:
        lines.append([("⚠ pickle.loads would RUN CODE from this payload. Never unpickle bytes from a socket.",
                       "warning")])
        if fx.imports:
            lines.append([("  it would import: ", "warning"), (", ".join(fx.imports), "error")])
            lines.append([("    (importing a module runs its top-level code)", "dim")])
        for call in fx.calls[:50]:
            lines.append([("  it would call:   ", "warning"), (call, "error")])
        if len(fx.calls) > 50:
            lines.append([(f"  … and {len(fx.calls) - 50} more calls", "warning")])
    elif fx.error or not fx.stopped:
        lines.append([("⚠ No imports or calls in the part that could be read. Never unpickle bytes from a "
                       "socket: a pickle can run any code.", "warning")])
    else:
        lines.append([("⚠ No imports or calls: this pickle only builds plain data. Still, never unpickle bytes "
                       "from a socket: the next one can run any code.", "warning")])
    if fx.result is not None:
        lines.append([("  result: ", "dim"), (fx.result, None)])
    if fx.error:
        lines.append([(f"  the walk stopped early: {fx.error}", "error")])
    elif not fx.stopped:
        lines.append([("  no STOP opcode: the pickle is truncated", "error")])
    lines.append([("  (netlab never loads pickles; this is a reading of the opcodes)", "dim")])
    return lines


def _ops_ok(data: bytes) -> bool:
    """All opcodes parse and the last one is STOP, at the end of the data."""
    try:
        last = None
        for op, _arg, pos in pickletools.genops(data):
            last = (op.name, pos)
        return last is not None and last[0] == "STOP" and last[1] == len(data.rstrip(b"\r\n")) - 1
    except Exception:
        return False


class PickleDecoder:
    name = "pickle"
    title = "Pickle (disassembly)"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        if len(data) < 2 or len(data) > MAX_BYTES:
            return 0.0
        if data[0] == 0x80 and 2 <= data[1] <= 5:
            return 0.9 if _ops_ok(data) else 0.5
        # protocols 0 and 1: text-ish opcodes ending in STOP ('.')
        if data[0] in _PROTO0_START and data.rstrip(b"\r\n").endswith(b".") and _ops_ok(data):
            return 0.6
        return 0.0

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        fx = simulate(data)
        if fx.ops == 0:
            raise ValueError(f"not a pickle ({fx.error or 'no opcodes'})")
        lines = warning_lines(fx)
        dis, error = disassembly(data)
        lines.append([])
        lines.append([("── pickletools disassembly ──", "header")])
        lines += [_dis_spans(line) for line in dis]
        if error:
            lines.append([(f"disassembly stopped: {error}", "error")])
        proto = f"protocol {fx.protocol}" if fx.protocol is not None else "protocol 0/1"
        danger = f", {len(fx.calls)} call{'s' if len(fx.calls) != 1 else ''}" if fx.calls else ""
        return View(self.name, f"Pickle ({proto}{danger}) — never loaded", lines)


register(PickleDecoder())
