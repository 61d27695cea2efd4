"""The XML form's reader: a safe lxml reader that records where everything is (`xml_write` writes).

Reading refuses any DOCTYPE before lxml sees the text (no DTD, no entity
declarations, so no entity bombs and no external entities); lxml then runs
with entity resolution, DTD loading, network access and huge trees off.
lxml knows element lines but not columns, so a small scanner over the
(well-formed by then) text finds the column of every start tag and
attribute name.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Iterator, Optional

from lxml import etree
from pydantic import BaseModel

from designedit.model import scene as m
from designedit.model.quoting import quote
from designedit.io import messages, xml_comments, xml_syntax
from designedit.io.xml_names import attr_key, short_tag, show_attr, show_tag
from designedit.model import vocab
from designedit.model.source import LineIndex, SourceMap

_NAME_RE = re.compile(r"[^\s/>=]+")
_ATTR_RE = re.compile(r"\s*([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_DECL_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")


def _parser() -> etree.XMLParser:
    # lxml is handed the decoded text as UTF-8 and told so: what it parses is what the checks above saw,
    # whatever the declaration says
    return etree.XMLParser(
        encoding="utf-8", resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False, dtd_validation=False,
        remove_pis=False,
    )


def _scan(text: str) -> Iterator[tuple]:
    """Markup in document order: ("decl", offset, word) for `<!WORD`, ("start", offset, tag, {attr: offset})."""
    i = text.find("<")
    while i != -1:
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            nxt = end + 3
        elif text.startswith("<![CDATA[", i):
            end = text.find("]]>", i + 9)
            nxt = end + 3
        elif text.startswith("<?", i):
            end = text.find("?>", i + 2)
            nxt = end + 2
        elif text.startswith("<!", i):
            word = re.match(r"[A-Za-z]*", text[i + 2 : i + 40]).group(0)
            yield ("decl", i, word)
            return
        elif text.startswith("</", i):
            end = text.find(">", i)
            nxt = end + 1
        else:
            name = _NAME_RE.match(text, i + 1)
            pos = name.end() if name else i + 1
            attrs: dict[str, int] = {}
            while True:
                a = _ATTR_RE.match(text, pos)
                if not a:
                    break
                attrs.setdefault(a.group(1), a.start(1))
                pos = a.end()
            if name:
                yield ("start", i, name.group(0), attrs)
            end = text.find(">", pos)
            nxt = end + 1
        if end == -1:
            return
        i = text.find("<", nxt)


# ------------------------------------------------------------------ reading


def read(text: str, text_encoding: str, source: SourceMap) -> tuple[Optional[dict], Optional[xml_comments.Comments]]:
    """The document (`text`, decoded from `text_encoding`, encoding.UTF8 or UTF16) in the JSON shape of the
    model (None when it cannot be parsed; problems are reported), and its comments (None when it has none)."""
    lines = LineIndex(text)
    found = _markup_problem(text)
    if found is not None:
        source.report_at("{}:{}:{}".format(source.label, *lines.position(found[0])), found[1])
        return None, None
    why = _declaration_problem(text, text_encoding)
    if why is not None:
        source.report_at(f"{source.label}:1:1", why)
        return None, None
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (1, 1)
        msg = re.sub(r", line \d+, column \d+$", "", exc.msg or "syntax error")
        where = f"{source.label}:{line}:{max(col, 1)}"
        if "excessive depth" in msg.lower():  # lxml's limit without huge_tree (256 levels); no scene nests past 4
            source.report_at(where, "the document nests too deeply")
        else:
            source.report_at(where, f"the XML is not well-formed: {xml_syntax.plain(msg)}")
        return None, None

    too_much = _size_problem(root, text)
    if too_much is not None:
        offset, message = too_much
        source.report_at("{}:{}:{}".format(source.label, *lines.position(offset)), message)
        return None, None

    starts = [t for t in _scan(text) if t[0] == "start"]
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    places: dict[Any, tuple[int, dict[str, int]]] = {}
    if len(starts) == len(elements) and all(_local(el.tag) == t[2].split(":")[-1] for el, t in zip(elements, starts)):
        for el, t in zip(elements, starts):
            places[el] = (t[1], t[3])
    return _Reader(source, lines, places, _text_places(text, root)).root(root), xml_comments.collect(root)


_SPECIAL = re.compile(r"<!--|<!\[CDATA\[|<!|<\?")
_CLOSERS = {"<!--": "-->", "<![CDATA[": "]]>", "<?": "?>"}


def _markup_problem(text: str) -> Optional[tuple[int, str]]:
    """(offset, sentence) for a declaration (`<!DOCTYPE`, `<!ENTITY`...), refused before lxml sees the text, or
    for more comments, processing instructions and CDATA sections than the limit. Only those are visited (their
    bodies skipped, so a `<!` in a comment is no declaration), and at most the limit of them: linear, bounded."""
    pos, others = 0, 0
    while True:
        found = _SPECIAL.search(text, pos)
        if found is None:
            return None
        opener = found.group(0)
        if opener == "<!":
            word = re.match(r"[A-Za-z]*", text[found.end() : found.end() + 40]).group(0)
            what = "DOCTYPE declarations" if word.upper() == "DOCTYPE" else f"<!{quote(word)[1:-1]}> declarations"
            return found.start(), f"{what} are not allowed: .dedit documents take no DTD and no entities (they are refused for safety)"
        if not (opener == "<?" and found.start() == 0 and re.match(r"<\?xml[\s?]", text)):  # the XML declaration
            others += 1
            if others > vocab.MAX_COMMENTS:
                return found.start(), (f"the document holds more than {vocab.MAX_COMMENTS} comments, processing instructions "
                                       "and CDATA sections, the limit")
        end = text.find(_CLOSERS[opener], found.end())
        if end == -1:
            return None  # unterminated: lxml says where
        pos = end + len(_CLOSERS[opener])


def _nth_start_tag(text: str, n: int) -> int:
    """The offset of the `n`-th (0-based) start tag of a well-formed text."""
    token = next(itertools.islice((t for t in _scan(text) if t[0] == "start"), n, None), None)
    return token[1] if token is not None else 0


def _size_problem(root, text: str) -> Optional[tuple[int, str]]:
    """(offset, sentence) when a parsed document holds more than spec/format.md 4.1 allows, so that every later
    pass (and the compiler) has a bounded amount to do; comments were counted before parsing. Each count stops
    at its limit."""
    elements = attributes = 0
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        elements += 1
        if elements > vocab.MAX_ELEMENTS:
            return _nth_start_tag(text, elements - 1), f"the document holds more than {vocab.MAX_ELEMENTS} elements, the limit"
        count = len(node.keys())  # lxml's keys() is linear; its items() and attrib.items() are quadratic
        attributes += count
        if count > vocab.MAX_ATTRIBUTES:
            return (_nth_start_tag(text, elements - 1),
                    f"<{short_tag(node.tag)}> has {count} attributes; an element has at most {vocab.MAX_ATTRIBUTES}")
        if attributes > vocab.MAX_VALUES:
            return _nth_start_tag(text, elements - 1), f"the document holds more than {vocab.MAX_VALUES} attributes, the limit"
    depth = seen = 0
    for event, node in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        if event == "end":
            depth -= 1
            continue
        depth, seen = depth + 1, seen + 1
        if depth > vocab.MAX_DEPTH:  # lxml itself stops at 257 levels
            return _nth_start_tag(text, seen - 1), "the document nests too deeply"
    return None


_SAME_ENCODING = {"UTF-8": ("utf-8", "utf8"), "UTF-16": ("utf-16", "utf16", "utf-16le", "utf-16be")}


def _declaration_problem(text: str, text_encoding: str) -> Optional[str]:
    """Why the XML declaration's encoding does not name the encoding the bytes are in, or None."""
    enc = _DECL_ENCODING.match(text)
    if enc is None or enc.group(1).lower().replace("_", "-") in _SAME_ENCODING[text_encoding]:
        return None
    if text_encoding == "UTF-8":
        return f"the document declares encoding {quote(enc.group(1))}; .dedit documents are UTF-8 (or UTF-16 with a byte order mark)"
    return f"the document is {text_encoding} (it starts with that byte order mark) but declares encoding {quote(enc.group(1))}"


_COMMENT_OR_PI = re.compile(r"<!--.*?-->|<\?.*?\?>", re.S)
_START_TAG = re.compile(r"""<[^\s<>!?/][^"'<>]*(?:(?:"[^"]*"|'[^']*')[^"'<>]*)*>""")
_QUOTED = re.compile(r""""[^"]*"|'[^']*'""")


def _blank_markup_insides(text: str) -> str:
    """`text` with comment and processing-instruction bodies and attribute values blanked (same length, so
    offsets hold): a `>` or `<` in them must not look like the end of markup."""
    blank = lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1]  # noqa: E731
    text = _COMMENT_OR_PI.sub(blank, text)
    return _START_TAG.sub(lambda tag: _QUOTED.sub(blank, tag.group(0)), text)


def _text_places(text: str, root) -> dict:
    """(node, "text" | "tail") -> offset of the first non-blank character of that text, for every text that is
    not white space. lxml gives no offsets, so the text between markup in the source is matched, in document
    order, with lxml's texts; when they cannot be matched one to one (CDATA, character references of blanks)
    nothing is returned and problems fall back to the element's place."""
    gaps = []
    for match in re.finditer(r">([^<]*)", _blank_markup_insides(text)):
        gap = match.group(1)
        if gap.strip(vocab.XML_SPACE):
            gaps.append(match.start(1) + len(gap) - len(gap.lstrip(vocab.XML_SPACE)))
    keys = []

    def walk(node) -> None:
        if node.text and node.text.strip(vocab.XML_SPACE) and isinstance(node.tag, str):
            keys.append((node, "text"))
        for child in node:
            walk(child)
            if child.tail and child.tail.strip(vocab.XML_SPACE):
                keys.append((child, "tail"))

    walk(root)
    if len(keys) != len(gaps) or "<![CDATA[" in text:
        return {}
    return dict(zip(keys, gaps))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Reader:
    def __init__(self, source: SourceMap, lines: LineIndex, places: dict, text_places: Optional[dict] = None):
        self.source = source
        self.lines = lines
        self.places = places
        self.text_places = text_places or {}
        self.points = 0  # of the polygons read so far

    # -- places

    def _where(self, el, attr: Optional[str] = None) -> tuple[int, int]:
        found = self.places.get(el)
        if found is None:
            return (el.sourceline or 1, 1)
        offset, attrs = found
        if attr is not None and attr not in attrs:  # a prefixed name (x:foo, xml:lang) is scanned as written
            attr = next((name for name in attrs if name.rsplit(":", 1)[-1] == attr), attr)
        if attr is not None and attr in attrs:
            offset = attrs[attr]
        return self.lines.position(offset)

    def _place(self, path: tuple, el, attr: Optional[str] = None) -> None:
        self.source.place_xml(path, *self._where(el, attr))

    def _problem(self, el, message: str, attr: Optional[str] = None) -> None:
        line, col = self._where(el, attr)
        self.source.report_at(f"{self.source.label}:{line}:{col}", message, order=line * 2**32 + col)

    def _unknown_attribute(self, el, name: str, known: list[str]) -> None:
        written = show_attr(name, el)[1:-1]  # as the document wrote it, prefix and all
        self._problem(el, messages.unknown("attribute", written, known, f" on <{show_tag(el.tag)}>"), attr_key(name))

    # -- elements

    def root(self, root) -> Optional[dict]:
        if root.tag != vocab.ROOT_TAG:
            self._problem(root, f"the root element must be <{vocab.ROOT_TAG}>, not <{short_tag(root.tag)}>")
            return None
        data: dict[str, Any] = {}
        self._place((), root)
        for name, value in root.attrib.items():
            if name == "version":
                self._place(("version",), root, name)
                data["version"] = value
            else:
                self._unknown_attribute(root, name, ["version"])
        self._no_text(root)
        counts: dict[str, int] = {}
        for child in root:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag
            if tag not in vocab.TOP_ELEMENTS:
                self._problem(child, messages.unknown("element", show_tag(tag), list(vocab.TOP_ELEMENTS), f" in <{vocab.ROOT_TAG}>",
                                                      "<{}>", "<{}>"))
                continue
            field_name, many = vocab.TOP_ELEMENTS[tag]
            if many:
                index = counts.get(tag, 0)
                counts[tag] = index + 1
                f = vocab.field(m.Scene, field_name)
                data.setdefault(field_name, []).append(self.element(child, f.model, (field_name, index)))
                continue
            if field_name in data:
                self._problem(child, f"only one <{tag}> element is allowed")
                continue
            if tag == "prompt":
                self._place(("prompt",), child)
                data["prompt"] = self.text_only(child)
            else:
                data[field_name] = self.element(child, vocab.field(m.Scene, field_name).model, (field_name,))
        return data

    def text_only(self, el) -> str:
        for name in el.attrib:
            self._unknown_attribute(el, name, [])
        parts = [el.text or ""]
        for child in el:
            if isinstance(child.tag, str):
                self._problem(child, f"<{el.tag}> holds text only, not <{short_tag(child.tag)}>")
            parts.append(child.tail or "")
        return "".join(parts)

    def element(self, el, model: type[BaseModel], path: tuple) -> dict:
        self._place(path, el)
        data: dict[str, Any] = {}
        for name, value in el.attrib.items():
            f = vocab.field(model, name) if "}" not in name else None
            if f is None or f.kind not in _ATTRIBUTE_KINDS:
                self._unknown_attribute(el, name, [f.name for f in vocab.fields(model) if f.kind in _ATTRIBUTE_KINDS])
                continue
            self._place(path + (name,), el, name)
            data[name] = self.convert(value, f, path + (name,))
        self._no_text(el)
        if model in vocab.CHILD_LISTS:
            list_field, tag_field = vocab.CHILD_LISTS[model]
            members = vocab.tagged_members(model)
            items = []
            for child in el:
                if not isinstance(child.tag, str):
                    continue
                member = members.get(child.tag)
                if member is None:
                    self._problem(child, messages.unknown("element", show_tag(child.tag), list(members), f" in <{el.tag}>", "<{}>", "<{}>"))
                    continue
                item = {tag_field: child.tag}
                item.update(self.element(child, member, path + (list_field, len(items))))
                items.append(item)
            if items:
                data[list_field] = items
        else:
            for child in el:
                if isinstance(child.tag, str):
                    self._problem(child, f"<{show_tag(el.tag)}> takes no child elements, not <{short_tag(child.tag)}>")
        return data

    def _no_text(self, el) -> None:
        texts = [(el, el.text, "text")] + [(child, child.tail, "tail") for child in el]
        for holder, text, kind in texts:
            if text and text.strip(vocab.XML_SPACE):
                message = f"unexpected text {quote(text.strip(vocab.XML_SPACE))} in <{show_tag(el.tag)}>"
                offset = self.text_places.get((holder, kind))
                if offset is None:
                    self._problem(holder, message)
                else:
                    line, col = self.lines.position(offset)
                    self.source.report_at(f"{self.source.label}:{line}:{col}", message, order=line * 2**32 + col)
                return

    def convert(self, value: str, f: vocab.FieldKind, path: tuple) -> Any:
        if f.kind in ("length", "number", "int"):
            number = vocab.number_from_text(value)
            if number is not None:
                return number
            if f.kind == "length" and m.PERCENT_RE.match(value.strip(vocab.XML_SPACE)):
                return value.strip(vocab.XML_SPACE)
            far = vocab.too_far(value)
            if far is not None:
                self.source.report(path, far)  # the model's "must be a number" would hide why
            return value
        if f.kind == "bool":
            return {"true": True, "false": False}.get(value.strip(vocab.XML_SPACE), value)
        if f.kind == "points":
            self.points += len(_SPACES.split(value.strip(vocab.XML_SPACE)))
            if self.points > vocab.MAX_POINTS:  # refused before they are read
                self.source.report(path, vocab.too_many_points(self.points))
                return value
            points = parse_points(value)
            if points is None:
                self.source.report(
                    path,
                    "points must be at least three points written 'x,y x,y x,y', each coordinate a number or a "
                    f"percentage, not {quote(value)}",
                )
                return value
            return points
        return value


_SPACES = re.compile(f"[{vocab.XML_SPACE}]+")


def parse_points(text: str) -> Optional[list]:
    points = []
    for pair in _SPACES.split(text.strip(vocab.XML_SPACE)):
        parts = pair.split(",")
        if len(parts) != 2:
            return None
        coords = []
        for part in parts:
            number = vocab.number_from_text(part)
            if number is None:
                if not m.PERCENT_RE.match(part):
                    return None
                number = part
            coords.append(number)
        points.append(coords)
    return points if len(points) >= 3 else None


_ATTRIBUTE_KINDS = ("length", "number", "int", "bool", "choice", "text", "id", "ref", "points")
