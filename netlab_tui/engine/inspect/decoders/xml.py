"""XML and HTML, indented, with tags, attributes and text told apart.

XML goes through expat (never fetching anything; entity declarations are refused so nothing expands);
an element holding only a short text stays on one line. HTML is rarely well-formed, so it gets its own
lenient outline from ``html.parser``: void elements do not indent, unclosed tags are closed where their
parent ends, and a stray end tag is pointed out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from xml.parsers import expat

from . import Line, View, register
from .json import content_type

INDENT = "  "
INLINE_TEXT = 60  # text up to this long stays on its element's line
MAX_LINES = 20_000
MAX_BYTES = 4 << 20


class _Element:
    __slots__ = ("name", "attrs", "children")

    def __init__(self, name: str, attrs: list[tuple[str, str]]) -> None:
        self.name = name
        self.attrs = attrs
        self.children: list[Any] = []  # _Element | ("text"|"comment"|"cdata"|"pi", str)


def parse_xml(data: bytes) -> tuple[list[Any], str | None]:
    """The document's top-level nodes and its XML declaration (or None). Raises ValueError."""
    if len(data) > MAX_BYTES:
        raise ValueError("too large")
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.buffer_text = True
    root: list[Any] = []
    stack: list[list[Any]] = [root]
    decl: list[str] = []
    in_cdata = [False]

    def start(name: str, attrs: list[str]) -> None:
        element = _Element(name, list(zip(attrs[::2], attrs[1::2])))
        stack[-1].append(element)
        stack.append(element.children)

    def end(name: str) -> None:
        stack.pop()

    def text(value: str) -> None:
        kind = "cdata" if in_cdata[0] else "text"
        stack[-1].append((kind, value))

    def refuse_entities(*_args: Any) -> None:
        raise ValueError("the document declares entities; netlab does not expand them")

    def xml_decl(version: str, encoding: str | None, standalone: int) -> None:
        parts = [f'version="{version}"']
        if encoding:
            parts.append(f'encoding="{encoding}"')
        if standalone != -1:
            parts.append(f'standalone="{"yes" if standalone else "no"}"')
        decl.append("<?xml " + " ".join(parts) + "?>")

    def start_cdata() -> None:
        in_cdata[0] = True

    def end_cdata() -> None:
        in_cdata[0] = False

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.CommentHandler = lambda value: stack[-1].append(("comment", value))
    parser.ProcessingInstructionHandler = lambda target, value: stack[-1].append(("pi", f"{target} {value}"))
    parser.StartCdataSectionHandler = start_cdata
    parser.EndCdataSectionHandler = end_cdata
    parser.EntityDeclHandler = refuse_entities
    parser.XmlDeclHandler = xml_decl
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    return root, (decl[0] if decl else None)


def _start_tag(element: _Element, close: str) -> Line:
    line: Line = [("<", "dim"), (element.name, "keyword")]
    for key, value in element.attrs:
        line += [(" ", None), (key, "key"), ("=", "dim"), (_quote(value), "string")]
    line.append((close, "dim"))
    return line


def _quote(value: str) -> str:
    return '"' + value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;") + '"'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_lines(nodes: list[Any], depth: int = 0) -> list[Line]:
    lines: list[Line] = []
    pad = INDENT * depth
    for node in nodes:
        if isinstance(node, _Element):
            children = [c for c in node.children if not (isinstance(c, tuple) and c[0] == "text" and not c[1].strip())]
            if not children:
                lines.append([(pad, None), *_start_tag(node, "/>")])
            elif (len(children) == 1 and isinstance(children[0], tuple) and children[0][0] == "text"
                  and "\n" not in children[0][1].strip() and len(children[0][1].strip()) <= INLINE_TEXT):
                lines.append([(pad, None), *_start_tag(node, ">"), (_escape(children[0][1].strip()), None),
                              ("</", "dim"), (node.name, "keyword"), (">", "dim")])
            else:
                lines.append([(pad, None), *_start_tag(node, ">")])
                lines += xml_lines(children, depth + 1)
                lines.append([(pad + "</", "dim"), (node.name, "keyword"), (">", "dim")])
        else:
            kind, value = node
            if kind == "text":
                for part in value.strip().splitlines():
                    if part.strip():
                        lines.append([(pad + _escape(part.strip()), None)])
            elif kind == "cdata":
                lines.append([(pad + "<![CDATA[", "dim"), (value, "string"), ("]]>", "dim")])
            elif kind == "comment":
                lines.append([(pad + "<!--" + value + "-->", "dim")])
            else:
                lines.append([(pad + "<?" + value + "?>", "dim")])
        if len(lines) > MAX_LINES:
            break
    return lines


class XmlDecoder:
    name = "xml"
    title = "XML"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        head = data[:256].lstrip()
        ctype = content_type(meta)
        if not head.startswith(b"<"):
            return 0.0
        try:
            parse_xml(data)
        except (ValueError, RecursionError):
            return 0.0
        if ctype.endswith("xml") or head.startswith(b"<?xml"):
            return 0.85
        return 0.7

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        nodes, decl = parse_xml(data)
        lines: list[Line] = [[(decl, "dim")]] if decl else []
        lines += xml_lines(nodes)
        note = None
        if len(lines) > MAX_LINES:
            lines, note = lines[:MAX_LINES], f"showing the first {MAX_LINES:,} lines"
        roots = [n.name for n in nodes if isinstance(n, _Element)]
        return View(self.name, f"XML <{roots[0]}>" if roots else "XML", lines, note)


VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
RAW_TEXT = frozenset(("script", "style"))
_BLOCKS = frozenset("address article aside blockquote details div dl fieldset figcaption figure footer form h1 h2 h3 "
                    "h4 h5 h6 header hr main menu nav ol p pre section table ul".split())
# Start tags that end an open element HTML lets you leave unclosed (the spec's "optional end tags").
IMPLIED_END = {tag: frozenset(("p",)) for tag in _BLOCKS} | {
    "li": frozenset(("li", "p")),
    "dt": frozenset(("dt", "dd", "p")),
    "dd": frozenset(("dt", "dd", "p")),
    "tr": frozenset(("tr", "td", "th")),
    "td": frozenset(("td", "th")),
    "th": frozenset(("td", "th")),
    "option": frozenset(("option",)),
}
_HTML_HEAD = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                        re.IGNORECASE | re.DOTALL)


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self.stack: list[str] = []
        self.warnings: list[str] = []  # real mistakes
        self.implied: list[str] = []  # end tags HTML lets you omit

    def _pad(self) -> str:
        return INDENT * len(self.stack)

    def _tag_line(self, tag: str, attrs: list[tuple[str, str | None]], close: str) -> Line:
        line: Line = [(self._pad() + "<", "dim"), (tag, "keyword")]
        for key, value in attrs:
            line += [(" ", None), (key, "key")]
            if value is not None:
                line += [("=", "dim"), (_quote(value), "string")]
        line.append((close, "dim"))
        return line

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        closes = IMPLIED_END.get(tag)
        while closes and self.stack and self.stack[-1] in closes:
            self.implied.append(f"<{self.stack.pop()}> closed implicitly by <{tag}>")
        if tag in VOID:
            self.lines.append(self._tag_line(tag, attrs, ">"))
            return
        self.lines.append(self._tag_line(tag, attrs, ">"))
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.lines.append(self._tag_line(tag, attrs, "/>"))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag not in self.stack:
            self.warnings.append(f"</{tag}> closes nothing that is open")
            self.lines.append([(self._pad() + f"</{tag}>", "warning")])
            return
        while self.stack:
            open_tag = self.stack.pop()
            if open_tag == tag:
                break
            self.implied.append(f"<{open_tag}> closed implicitly by </{tag}>")
        self.lines.append([(self._pad() + "</", "dim"), (tag, "keyword"), (">", "dim")])

    def handle_data(self, data: str) -> None:
        raw = bool(self.stack) and self.stack[-1] in RAW_TEXT
        for part in data.splitlines():
            text = part.strip() if not raw else part.rstrip()
            if text:
                if not raw:
                    text = " ".join(text.split())
                self.lines.append([(self._pad() + text, "string" if raw else None)])

    def handle_comment(self, data: str) -> None:
        self.lines.append([(self._pad() + "<!--" + data + "-->", "dim")])

    def handle_decl(self, decl: str) -> None:
        self.lines.append([(self._pad() + "<!" + decl + ">", "dim")])

    def handle_pi(self, data: str) -> None:
        self.lines.append([(self._pad() + "<?" + data + ">", "dim")])


class HtmlDecoder:
    name = "html"
    title = "HTML"

    def fit(self, data: bytes, meta: dict[str, Any] | None) -> float:
        if content_type(meta) in ("text/html", "application/xhtml+xml"):
            return 0.88
        if _HTML_HEAD.match(data[:1024]):
            return 0.86
        return 0.0

    def render(self, data: bytes, meta: dict[str, Any] | None) -> View:
        if len(data) > MAX_BYTES:
            raise ValueError("too large")
        outline = _Outline()
        outline.feed(data.decode("utf-8", errors="replace"))
        outline.close()
        lines = outline.lines
        lines += [[("⚠ " + w, "warning")] for w in outline.warnings[:20]]
        lines += [[("· " + w, "dim")] for w in outline.implied[:20]]
        if outline.stack:
            lines.append([(f"· never closed: {', '.join('<' + t + '>' for t in outline.stack)}", "dim")])
        note = None
        if len(lines) > MAX_LINES:
            lines, note = lines[:MAX_LINES], f"showing the first {MAX_LINES:,} lines"
        return View(self.name, "HTML", lines, note)


register(XmlDecoder())
register(HtmlDecoder())
