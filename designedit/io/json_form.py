"""The JSON form: a strict reader (no NaN/Infinity, no duplicate keys) and a canonical writer."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Optional

from designedit.model import scene as m
from designedit.model import vocab
from designedit.model.quoting import quote
from designedit.model.source import LineIndex, SourceMap


class _Pairs(list):
    """An object's (key, value) pairs as written, so duplicates can be reported with their place."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _whole_number(digits: str) -> Any:
    """A JSON integer; one too long for any .dedit value reads as an infinity, reported at its place below
    (Python refuses to convert thousands of digits, which would lose the place)."""
    if len(digits.lstrip("-")) > vocab.MAX_DIGITS:
        return -math.inf if digits.startswith("-") else math.inf
    return int(digits)


def read(text: str, source: SourceMap) -> Optional[dict]:
    """The document in the JSON shape of the model (`dedit` renamed `version`), or None if it is not JSON."""
    try:
        raw = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_refuse_constant, parse_int=_whole_number)
    except json.JSONDecodeError as exc:
        source.report_at(f"{source.label}:{exc.lineno}:{exc.colno}", f"the JSON is not well-formed: {_PLAIN.get(exc.msg, exc.msg.lower())}")
        return None
    except RecursionError:  # past Python's own limit (about 1000 levels): found where it passes the format's
        where = _deep_place(text)
        source.report_at(f"{source.label}:{where[0]}:{where[1]}" if where else source.label, "the document nests too deeply")
        return None
    except ValueError as exc:
        where = _constant_place(text)
        source.report_at(where and f"{source.label}:{where[0]}:{where[1]}" or source.label, _plain(exc))
        return None
    if not isinstance(raw, _Pairs):
        source.report((), "the document must be a JSON object")
        return None
    too_much = _size_problem(raw)
    if too_much is not None:
        source.report(*too_much)
        return None
    data = _clean(raw, (), source)
    if "version" in data:
        source.report_at(f"{source.label}#/version", "unknown key 'version'; the version is written as \"dedit\": \"1.0\"")
        del data["version"]
    if vocab.VERSION_KEY in data:
        data["version"] = data.pop(vocab.VERSION_KEY)
        data = {"version": data.pop("version"), **data}
    return data


# Python's words for a JSON syntax error, where they trail off or assume the reader knows the grammar
_PLAIN = {
    "Invalid control character at": "a string holds a control character; write a line break as \\n, a tab as \\t",
    "Unterminated string starting at": "a string has no closing quote",
    "Extra data": "there is more after the document's object",
    "Invalid \\escape": "a string holds a '\\' JSON does not know; write a backslash as \\\\",
    "Expecting value": "a value is expected here",
    "Expecting ',' delimiter": "a ',' is expected here (between two items)",
    "Expecting ':' delimiter": "a ':' is expected here (after a key)",
    "Expecting property name enclosed in double quotes": "a key in double quotes is expected here (JSON has no trailing commas)",
    "Unexpected UTF-8 BOM (decode using utf-8-sig)": "the document starts with a second byte order mark",
}


def _size_problem(raw: _Pairs) -> Optional[tuple[tuple, str]]:
    """(model path, sentence) when a document holds more than spec/format.md 4.1 allows; every later pass then
    has a bounded amount to do. One walk over the objects and arrays, stopped at the first limit passed; each
    keeps its parent and key, and a path is made only for the problem."""
    values, objects = 1, 0
    stack: list[tuple] = [(None, None, raw, 1)]  # (parent's entry, key in it, object or array, depth)
    while stack:
        entry = stack.pop()
        _parent, _key, node, depth = entry
        values += len(node)
        problem = None
        if depth > vocab.MAX_DEPTH:
            problem = "the document nests too deeply"
        elif values > vocab.MAX_VALUES:
            problem = f"the document holds more than {vocab.MAX_VALUES} values, the limit"
        elif isinstance(node, _Pairs):
            objects += 1
            if objects > vocab.MAX_ELEMENTS:
                problem = f"the document holds more than {vocab.MAX_ELEMENTS} objects, the limit"
            elif len(node) > vocab.MAX_ATTRIBUTES:
                problem = f"this object has {len(node)} keys; an object has at most {vocab.MAX_ATTRIBUTES}"
        if problem is not None:
            path: list = []
            while entry[0] is not None:
                path.append(entry[1])
                entry = entry[0]
            return _model_path(tuple(reversed(path))), problem
        items = node if isinstance(node, _Pairs) else enumerate(node)
        stack.extend(reversed([(entry, key, value, depth + 1) for key, value in items if isinstance(value, list)]))  # document order
    return None


_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _deep_place(text: str) -> Optional[tuple[int, int]]:
    """Line and column of the first bracket past the format's depth limit, skipping strings."""
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        ch = token.group(0)
        if ch in "[{":
            depth += 1
            if depth > vocab.MAX_DEPTH:
                return LineIndex(text).position(token.start())
        elif ch in "]}":
            depth -= 1
    return None


def _plain(exc: Exception) -> str:
    text = str(exc)
    if "digits" in text:
        return "a number in the document has too many digits"
    return text


def _constant_place(text: str) -> Optional[tuple[int, int]]:
    for word in ("NaN", "-Infinity", "Infinity"):
        offset = text.find(word)
        if offset != -1:
            return LineIndex(text).position(offset)
    return None


def _clean(node: Any, path: tuple, source: SourceMap) -> Any:
    """Plain dicts and lists, with places recorded and JSON-only problems reported."""
    source.place_json(_model_path(path))
    if isinstance(node, _Pairs):
        out: dict = {}
        for key, value in node:
            if key in out:
                source.report(_model_path(path + (key,)), f"the key {quote(key)} appears more than once")
                continue
            out[key] = _clean(value, path + (key,), source)
        return out
    if isinstance(node, list):
        return [_clean(v, path + (i,), source) for i, v in enumerate(node)]
    if node is None:  # spec/format.md 1.3: an optional key is left out, never null
        source.report(_model_path(path), "null is not a value in .dedit documents; give one, or leave an optional key out")
    elif isinstance(node, float) and not math.isfinite(node) or isinstance(node, int) and not isinstance(node, bool) and abs(node) >= vocab.INT_LIMIT:
        source.report(_model_path(path), vocab.too_far("-1e999" if node < 0 else "1e999"))
    elif isinstance(node, str):
        bad = vocab.xml_text_ok(node)
        if bad is not None:
            source.report(_model_path(path), f"the text holds the character U+{ord(node[bad]):04X}, which .dedit documents do not allow")
    return node


def _model_path(path: tuple) -> tuple:
    return ("version",) + path[1:] if path[:1] == (vocab.VERSION_KEY,) else path


# ------------------------------------------------------------------ writing


def to_plain(scene: m.Scene) -> dict:
    """The scene as canonical JSON data: fields in model order, defaults left out, `version` as `dedit`."""
    return _plain_node(scene)


def _plain_node(node: Any) -> Any:
    if isinstance(node, m._Node):
        out: dict = {}
        for f in vocab.fields(type(node)):
            value = getattr(node, f.attr)
            key = vocab.VERSION_KEY if isinstance(node, m.Scene) and f.name == "version" else f.name
            if f.kind == "tag":
                out[key] = value
                continue
            if value is None or (not f.required and value == f.default):
                continue
            out[key] = _plain_node(value)
        return out
    if isinstance(node, (list, tuple)):
        return [_plain_node(v) for v in node]
    return node


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return vocab.format_number(value)
    return json.dumps(value, ensure_ascii=False)


def _inline(value: Any) -> bool:
    """Lists of scalars, and lists of such lists (polygon points), stay on one line."""
    return isinstance(value, list) and all(
        not isinstance(v, (dict, list)) or (isinstance(v, list) and all(not isinstance(w, (dict, list)) for w in v))
        for v in value
    )


LINE_WIDTH = 100


def _emit(value: Any, indent: str, out: list[str]) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        if all(not isinstance(v, (dict, list)) or (isinstance(v, list) and _inline(v)) for v in value.values()):
            flat = "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_emit(v, indent, out)}" for k, v in value.items()) + "}"
            if len(indent) + len(flat) <= LINE_WIDTH - 12:  # leaves room for a key in front of it
                return flat
        inner = indent + "  "
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_emit(v, inner, out)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list):
        if _inline(value):
            return "[" + ", ".join(_emit(v, indent, out) for v in value) + "]"
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + _emit(v, inner, out) for v in value) + "\n" + indent + "]"
    return _scalar(value)


def write(scene: m.Scene) -> str:
    return _emit(to_plain(scene), "", []) + "\n"
