"""Pydantic's validation errors, rewritten as one plain sentence per field.

Pydantic reports a bad length three times (not an int, not a float, not a
percent string) and names union members in its locations; people want one
sentence saying what the field must be and what it was. Messages are built
from the field's kind (`vocab.fields`), not from pydantic's wording.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from functools import lru_cache
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from designedit.model import scene as m
from designedit.model.quoting import escape, quote, shorten
from designedit.model import vocab
from designedit.model.source import SourceMap

_ARTICLE = {"image": "an image", "mask": "a mask"}


def show(value: Any) -> str:
    """A value as it would appear in a document, shortened and with what does not print escaped."""
    if isinstance(value, str):
        return quote(value)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    if isinstance(value, (dict, list)):
        text = "an object" if isinstance(value, dict) else "a list"
    return text if len(text) <= 40 else text[:37] + "..."


def unknown(what: str, name: str, known: list[str], where: str = "", wrap: str = "'{}'", list_wrap: str = "{}") -> str:
    """`unknown attribute 'imgae' on <layer> (did you mean 'image'?); expected one of id, image, ...`: the name
    as written (shortened, escaped), the closest known name when one is close, and every known name. `wrap`
    writes a name ("'{}'", "<{}>"), `list_wrap` one of the list."""
    shown = wrap.format(escape(shorten(name)))
    close = _closest(shorten(name, 80), tuple(known))
    hint = f" (did you mean {wrap.format(close)}?)" if close else ""
    listed = f"; expected one of {', '.join(list_wrap.format(k) for k in known)}" if known else "; it takes none"
    return f"unknown {what} {shown}{where}{hint}{listed}"


@lru_cache(maxsize=4096)  # a document repeats its misspellings
def _closest(name: str, known: tuple[str, ...]) -> Optional[str]:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return close[0] if close else None


def element_name(model: type[BaseModel]) -> str:
    if model is m.Scene:
        return vocab.ROOT_TAG
    for owner, (list_field, tag_field) in vocab.CHILD_LISTS.items():
        for tag, member in vocab.tagged_members(owner).items():
            if member is model:
                return tag
    for tag, (field_name, _many) in vocab.TOP_ELEMENTS.items():
        f = vocab.field(m.Scene, field_name)
        if f is not None and f.model is model:
            return tag
    return model.__name__.lower()


def _bound_text(f: vocab.FieldKind) -> str:
    if f.low is not None and f.high is not None and f.low[0] == "ge" and f.high[0] == "le":
        return f"between {vocab.format_number(f.low[1])} and {vocab.format_number(f.high[1])}"
    parts = []
    if f.low is not None:
        op, bound = f.low
        parts.append(f"above {vocab.format_number(bound)}" if op == "gt" else f"{vocab.format_number(bound)} or more")
    if f.high is not None:
        op, bound = f.high
        parts.append(f"below {vocab.format_number(bound)}" if op == "lt" else f"at most {vocab.format_number(bound)}")
    return " and ".join(parts)


def expectation(model: type[BaseModel], f: vocab.FieldKind, form: str) -> str:
    """What a field must be, as the end of 'NAME must be ...'."""
    bounds = _bound_text(f)
    if f.kind == "length":
        return "a number of pixels or a percentage like '25%'"
    if f.kind in ("number", "int"):
        what = "a number" if f.kind == "number" else "a whole number"
        unit = vocab.UNITS.get(f.name, "")
        if unit:
            what += f" of {unit}"
        return f"{what} {bounds}".strip()
    if f.kind == "bool":
        return "true or false"
    if f.kind == "choice":
        names = [str(c) for c in f.choices]
        return ", ".join(names[:-1]) + " or " + names[-1]
    if f.kind == "id":
        return "a letter or '_' followed by letters, digits, '_', '.' or '-' (at most 128 characters)"
    if f.kind == "ref":
        target = vocab.REFERENCE_KINDS.get((model, f.name), "thing")
        return f"the id of {_ARTICLE.get(target, 'a ' + target)}"
    if f.kind == "points":
        if form == "xml":
            return "at least three points written 'x,y x,y x,y', each coordinate a number or a percentage"
        return "a list of at least three [x, y] pairs, each coordinate a number or a percentage"
    if f.kind == "text":
        if model is m.Scene and f.name == "version":
            return "a version like '1.0'" if form == "xml" else 'a string like "1.0"'
        return "a non-empty text" if model is not m.Scene else "text"
    if f.kind in ("objects", "children"):
        return "a list"
    if f.kind == "object":
        return "an object"
    return "valid"


def display_name(model: Optional[type[BaseModel]], name: str, form: str) -> str:
    if model is m.Scene and name == "version":
        return "version" if form == "xml" else vocab.VERSION_KEY
    if form == "xml" and model is m.Scene and name in vocab.FIELD_ELEMENT:
        return f"<{vocab.FIELD_ELEMENT[name]}>"
    return name


def _clean_path(loc: tuple, data: Any) -> tuple:
    """Drop pydantic's union-member and tag names from a location, keeping the document's keys."""
    node = data
    out: list = []
    for i, step in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and isinstance(step, str):
            if step in node:
                node = node[step]
                out.append(step)
            elif last and step not in _tags(node):  # a tagged item's own errors name its tag last: not a key
                out.append(step)
            continue
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            out.append(step)
            continue
        if not isinstance(node, (dict, list)):
            break
    return tuple(out)


def _tags(node: dict) -> set:
    return {node.get(tag) for _list, tag in vocab.CHILD_LISTS.values() if isinstance(node.get(tag), str)}


def _value_at(path: tuple, data: Any) -> tuple[bool, Any]:
    node = data
    for step in path:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return False, None
    return True, node


def _truncate_at_points(path: tuple, data: Any) -> tuple:
    if "points" not in path:
        return path
    for cut in range(1, len(path) + 1):
        model, name = vocab.model_at(path[:cut], data)
        if model is not None and name is not None:
            f = vocab.field(model, name)
            if f is not None and f.kind == "points":
                return path[:cut]
    return path


def explain(error: ValidationError, data: Any, source: SourceMap) -> None:
    """Report every error of `error` on `source`, one sentence per field."""
    groups: dict[tuple, list[dict]] = {}
    for err in error.errors():
        path = _truncate_at_points(_clean_path(tuple(err["loc"]), data), data)
        groups.setdefault(path, []).append(err)
    for path, errs in groups.items():
        tag_errors = [e for e in errs if e["type"] in ("union_tag_invalid", "union_tag_not_found")]
        if tag_errors:  # point at the tag key itself ("op", "shape")
            path = path + (tag_errors[0].get("ctx", {}).get("discriminator", "'op'").strip("'"),)
        if source.is_reported(path):
            continue
        message = _sentence(path, errs, data, source.form)
        source.report(path, message)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else "value"


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _quoted_number(value: Any, whole: bool) -> bool:
    """A string that, unquoted, is a JSON number the field could take (a whole one for whole-number fields)."""
    if not isinstance(value, str) or not _JSON_NUMBER.fullmatch(value.strip()):
        return False
    number = float(value)
    return math.isfinite(number) and (not whole or number.is_integer())


def _sentence(path: tuple, errs: list[dict], data: Any, form: str) -> str:
    types = {e["type"] for e in errs}
    if types & {"union_tag_invalid", "union_tag_not_found"}:
        model, name = None, path[-1]
    else:
        model, name = vocab.model_at(path, data) if path else (m.Scene, None)
    present, value = _value_at(path, data)
    f = vocab.field(model, name) if model is not None and name is not None else None
    label = display_name(model, name, form) if name is not None else "this item"

    if "union_tag_invalid" in types:
        ctx = next(e for e in errs if e["type"] == "union_tag_invalid").get("ctx", {})
        key = ctx.get("discriminator", "").strip("'") or "op"
        known = [tag.strip().strip("'") for tag in str(ctx.get("expected_tags", "")).split(",") if tag.strip()]
        return unknown(key, str(ctx.get("tag")), known, list_wrap="'{}'")
    if "union_tag_not_found" in types:
        ctx = next(e for e in errs if e["type"] == "union_tag_not_found").get("ctx", {})
        key = ctx.get("discriminator", "").strip("'") or "op"
        article = "an" if key[:1] in "aeiou" else "a"
        return f"this item needs {article} {show(key)} key naming what it is"
    if "missing" in types:
        if form == "xml" and model is not None:
            if f is not None and f.kind in ("object",) or (model is m.Scene and name in vocab.FIELD_ELEMENT):
                return f"<{element_name(model)}> needs {_a(label)} {label} element"
            return f"<{element_name(model)}> needs {_a(label)} {label} attribute"
        return f"{show(label)} is required"
    if "extra_forbidden" in types:
        where = f" in <{element_name(model)}>" if form == "xml" and model is not None else ""
        known = [f.name for f in vocab.fields(model) if f.kind != "tag"] if model is not None else []
        if model is m.Scene:
            known = [vocab.VERSION_KEY if k == "version" else k for k in known]
        return unknown("key" if form == "json" else "attribute", str(label), known, where)
    value_errors = [e for e in errs if e["type"] in ("value_error", "assertion_error")]
    if value_errors:
        msg = value_errors[0]["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        return msg
    if types & {"model_type", "model_attributes_type", "dict_type"}:
        return f"{label} must be an object, not {show(value)}"
    if f is not None and f.kind == "points" and isinstance(value, list):
        return f"{label} must be {expectation(model, f, form)}"
    if f is not None and model is m.Scene and name == "version" and form == "json" and isinstance(value, str):
        return f'{label} must be a version like "1.0" (MAJOR.MINOR), not {json.dumps(shorten(value), ensure_ascii=False)}'
    if f is not None and model is m.Scene and name == "version" and form == "json" and present:
        kind = _json_kind(value)
        return f'{label} must be a string like "1.0", not ' + (f"the {kind} {show(value)}" if kind in ("number", "boolean") else f"{show(value)}")
    if f is not None and form == "json" and f.kind in ("number", "int", "length") and _quoted_number(value, f.kind == "int"):
        # a quoted number is the usual slip (language models write them): say that, not that the value is wrong
        return f"{label} must be a JSON number, not the string {show(value)}: write {escape(shorten(value.strip()))} without quotes"
    if f is not None:
        return f"{label} must be {expectation(model, f, form)}, not {show(value)}" if present else f"{label} is not valid"
    return f"{label} is not valid here, not {show(value)}" if present else f"{label} is not valid here"  # never pydantic's words


def _a(word: str) -> str:
    """The article before a name: an image, an id, an axis; a mask, a src. Names of one or two letters (x,
    rx, dy) are said letter by letter: an x, an rx, a dy."""
    first = word[:1].lower()
    if len(word) <= 2:
        return "an" if first in "aefhilmnorsx" else "a"
    return "an" if first in "aeiou" else "a"
