"""``{{ echo.port }}``: values only known when a lab runs (ports, workspace), used in its text and blocks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*\}\}")

# Variables every running lab defines, besides those of its servers and ports.
# rundir: a folder of this run only, outside the watched workspace (server databases, scratch files).
BUILTIN_VARIABLES = ("host", "workspace", "rundir", "python", "lab.id")
# What a server named NAME defines: {{ NAME.host }} …
SERVER_ATTRIBUTES = ("host", "port", "address", "url", "source")


class UndefinedVariable(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"undefined variable {{{{ {self.name} }}}}"


def variables_in(text: str) -> Iterator[tuple[str, int]]:
    """Each variable name used in ``text`` with its offset."""
    for match in VARIABLE.finditer(text):
        yield match.group(1), match.start()


def variables_in_value(value: Any) -> Iterator[str]:
    """Variable names used anywhere in a parsed TOML value (strings, lists, tables)."""
    if isinstance(value, str):
        for name, _ in variables_in(value):
            yield name
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from variables_in_value(key)
            yield from variables_in_value(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from variables_in_value(item)


class Variables(Mapping[str, str]):
    """A flat mapping ``"echo.port" -> "40123"`` that renders templates."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, str] = {k: str(v) for k, v in (values or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def set(self, name: str, value: Any) -> None:
        self._values[name] = str(value)

    def update(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            self.set(key, value)

    def render(self, text: str, *, missing: str | None = None) -> str:
        """Substitute every ``{{ name }}``; an unknown name raises UndefinedVariable unless ``missing`` is
        given (then it is formatted with ``name=``, e.g. ``"<{name}>"`` for previews)."""

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in self._values:
                return self._values[name]
            if missing is not None:
                return missing.format(name=name)
            raise UndefinedVariable(name)

        return VARIABLE.sub(substitute, text)

    def render_value(self, value: Any, *, missing: str | None = None) -> Any:
        """``render`` applied to every string inside a TOML value."""
        if isinstance(value, str):
            return self.render(value, missing=missing)
        if isinstance(value, Mapping):
            return {k: self.render_value(v, missing=missing) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.render_value(v, missing=missing) for v in value]
        return value


def server_variable_names(server: str) -> Iterable[str]:
    return (f"{server}.{attr}" for attr in SERVER_ATTRIBUTES)
