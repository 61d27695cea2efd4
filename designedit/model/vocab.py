"""The vocabulary of both forms, read off the scene model.

Readers, writers, error messages and the schema generator all ask this module
what a field is (a length, a number, a reference...) so that none of them
keeps its own copy of the model.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel

from designedit.model import scene as m

ROOT_TAG = "dedit"
VERSION_KEY = "dedit"  # the JSON key (and XML root attribute "version") of Scene.version

# XML child element of <dedit> -> (Scene field, is a list)
TOP_ELEMENTS: dict[str, tuple[str, bool]] = {
    "canvas": ("canvas", False),
    "prompt": ("prompt", False),
    "render": ("render", False),
    "image": ("images", True),
    "mask": ("masks", True),
    "background": ("background", False),
    "layer": ("layers", True),
    "output": ("output", False),
}
FIELD_ELEMENT = {field: tag for tag, (field, _many) in TOP_ELEMENTS.items()}

# Models whose list field is written as child elements in XML: model -> (field, tag field)
CHILD_LISTS: dict[type[BaseModel], tuple[str, str]] = {
    m.Mask: ("shapes", "shape"),
    m.Background: ("edits", "op"),
    m.Layer: ("transforms", "op"),
}

# What a reference field must name.
REFERENCE_KINDS = {
    (m.Background, "image"): "image",
    (m.Layer, "image"): "image",
    (m.Layer, "mask"): "mask",
    (m.Layer, "occluder"): "mask",
    (m.Remove, "mask"): "mask",
    (m.Remove, "refine"): "mask",
    (m.Use, "mask"): "mask",
}

# How much a document may hold (spec/format.md 4.1): real scenes hold a few dozen elements, and every pass over
# a document, the compiler's included, stays well under a second within these.
MAX_DEPTH = 255  # levels of nesting, the root being the first
MAX_ELEMENTS = 4096  # XML elements (the root too), JSON objects
MAX_COMMENTS = 4096  # XML comments and processing instructions
MAX_ATTRIBUTES = 64  # on one XML element; keys of one JSON object
MAX_VALUES = 50_000  # in all: XML attributes; JSON objects, arrays, strings, numbers, booleans
MAX_POINTS = 10_000  # of all polygons together: filling one costs a row's work for each edge crossing it
MAX_EDITS = 64  # of the background: each pan and zoom-out moves every region before it
MAX_LAYERS = 256



def too_many_points(total: int) -> str:
    return f"the polygons of a document hold at most {MAX_POINTS} points in all; with this one they hold {total}"


UNITS = {"grow": "pixels", "feather": "pixels", "degrees": "degrees", "seed": "", "steps": "steps"}

# Numbers as both forms write them (JSON's grammar, plus a leading '+' or '.' in XML).
NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")  # ASCII digits only
INT_LIMIT = 2**63  # |integers| must stay below this, so every number fits a float and an int64


@dataclass(frozen=True)
class FieldKind:
    """What one model field holds, in the terms people and schemas need."""

    name: str
    kind: str  # length | number | int | bool | choice | text | id | ref | points | children | object | tag
    required: bool
    default: Any = None
    choices: tuple = ()
    low: Optional[tuple[str, float]] = None  # ("gt"|"ge", bound)
    high: Optional[tuple[str, float]] = None  # ("lt"|"le", bound)
    model: Optional[type[BaseModel]] = None  # for object fields
    members: tuple = ()  # for children: the union's models
    attr: str = ""  # the model's attribute; `name` is the document's (they differ for scale-x / scale_x)


def _strip(tp: Any) -> tuple[Any, bool]:
    """The annotation without Annotated/Optional wrappers, and whether None was allowed."""
    optional = False
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin is Union:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) < len(typing.get_args(tp)):
                optional = True
            if len(args) == 1:
                tp = args[0]
                continue
            return Union[tuple(args)], optional  # type: ignore[return-value]
        return tp, optional


def _union_bases(tp: Any) -> set:
    if typing.get_origin(tp) is Union:
        return {_strip(a)[0] for a in typing.get_args(tp)}
    return {tp}


@lru_cache(maxsize=None)
def fields(model: type[BaseModel]) -> tuple[FieldKind, ...]:
    """Every field of `model`, in declaration order (the canonical writing order)."""
    out = []
    for name, info in model.model_fields.items():
        tp, _optional = _strip(info.annotation)
        low = high = None
        pattern = None
        for meta in info.metadata:
            for attr in ("gt", "ge"):
                if getattr(meta, attr, None) is not None:
                    low = (attr, getattr(meta, attr))
            for attr in ("lt", "le"):
                if getattr(meta, attr, None) is not None:
                    high = (attr, getattr(meta, attr))
            pattern = getattr(meta, "pattern", pattern)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        kind, choices, sub, members = "text", (), None, ()
        origin = typing.get_origin(tp)
        if origin is Literal:
            choices = typing.get_args(tp)
            kind = "tag" if len(choices) == 1 else "choice"
        elif origin is list:
            item, _ = _strip(typing.get_args(tp)[0])
            if typing.get_origin(item) is tuple:
                kind = "points"
            elif typing.get_origin(item) is Union:
                kind, members = "children", tuple(_strip(a)[0] for a in typing.get_args(item))
            else:
                kind, sub = "objects", item
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            kind, sub = "object", tp
        else:
            bases = _union_bases(tp)
            if bases == {int, float, str}:
                kind = "length"
            elif bases == {int, float}:
                kind = "number"
            elif bases == {int}:
                kind = "int"
            elif bases == {bool}:
                kind = "bool"
            elif bases == {str}:
                if pattern == m.ID_RE:
                    kind = "id"
                elif (model, name) in REFERENCE_KINDS:
                    kind = "ref"
                else:
                    kind = "text"
        out.append(FieldKind(info.alias or name, kind, info.is_required(), default, choices, low, high, sub, members, name))
    return tuple(out)


def field(model: type[BaseModel], name: str) -> Optional[FieldKind]:
    return _by_name(model).get(name)


@lru_cache(maxsize=None)
def _by_name(model: type[BaseModel]) -> dict[str, FieldKind]:
    return {f.name: f for f in fields(model)}


def tagged_members(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """For a model with a child list (Mask, Background, Layer): tag value -> member model."""
    list_field, tag_field = CHILD_LISTS[model]
    out = {}
    for member in field(model, list_field).members:
        out[field(member, tag_field).choices[0]] = member
    return out


def model_at(path: tuple, data: Any) -> tuple[Optional[type[BaseModel]], Optional[str]]:
    """The model holding the field a path names (walking `data` to resolve tagged items), and the field's name.

    Paths that go below a field (into a points list) stop at that field; paths that end at a list item,
    or that cannot be followed, give (None, None).
    """
    current: Optional[type[BaseModel]] = m.Scene
    node = data
    i = 0
    while i < len(path):
        step = path[i]
        if current is None or not isinstance(step, str):
            return None, None
        if i == len(path) - 1:
            return current, step
        f = field(current, step)
        if f is None:
            return None, None
        node = node.get(step) if isinstance(node, dict) else None
        if f.kind == "object":
            current, i = f.model, i + 1
            continue
        if f.kind in ("objects", "children") and isinstance(path[i + 1], int):
            idx = path[i + 1]
            item = node[idx] if isinstance(node, list) and 0 <= idx < len(node) else None
            if f.kind == "objects":
                current = f.model
            else:
                tag = item.get(CHILD_LISTS[current][1]) if isinstance(item, dict) else None
                current = tagged_members(current).get(tag) if isinstance(tag, str) else None
            node = item
            if i + 1 == len(path) - 1:
                return None, None
            i += 2
            continue
        return current, step
    return None, None


MAX_DIGITS = 40  # a whole number this long is past every bound (INT_LIMIT has 19 digits); Python refuses > 4300


XML_SPACE = " \t\r\n"  # white space as XML defines it: a no-break space is not white space around a number
_PLAIN_INT = re.compile(r"[+-]?[0-9]{1,15}\Z")  # fast paths: too short to be out of range
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]*)?|\.[0-9]+)\Z")
_FRACTION_OR_EXPONENT = re.compile(r"[.eE]")


def number_from_text(text: str) -> Optional[Union[int, float]]:
    """The number an XML attribute spells, or None when it is not a (finite, bounded) number."""
    text = text.strip(XML_SPACE)
    if _PLAIN_INT.match(text):
        return int(text)
    if _PLAIN_DECIMAL.match(text):
        return float(text)
    if not NUMBER_RE.match(text) or too_far(text):
        return None
    return float(text) if _FRACTION_OR_EXPONENT.search(text) else int(text)


def too_far(text: str) -> Optional[str]:
    """For a number spelled past any .dedit value (too many digits, an infinite float, beyond INT_LIMIT), the
    sentence that says so, in both forms; None otherwise (including for text that is not a number)."""
    text = text.strip(XML_SPACE)
    if not NUMBER_RE.match(text):
        return None
    if _FRACTION_OR_EXPONENT.search(text):
        far = not math.isfinite(float(text))
    else:
        far = len(text.lstrip("+-")) > MAX_DIGITS or abs(int(text)) >= INT_LIMIT
    if not far:
        return None
    return f"this number is {'too far below zero' if text.startswith('-') else 'too large'} to be a .dedit value"


def format_number(value: Union[int, float]) -> str:
    """Minimal spelling: integral values without '.0', otherwise the shortest exact repr."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text_ok(text: str) -> Optional[int]:
    """Index of the first character XML 1.0 cannot hold, or None if every character is allowed."""
    found = _NOT_XML_TEXT.search(text)
    return found.start() if found else None
