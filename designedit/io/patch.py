"""Editing a scene's text in place: the smallest textual change for one gesture.

The studio (a drag) and `dedit import --onto` (a nudge made in a design program) change a scene whose file
is the source of truth, under version control, written by a person. So they do not rewrite it canonically
(`dump` would drop its layout); they change only the characters that must change:

    move_layer(text, form, layer_id, dx, dy)   # the layer lands (dx, dy) canvas pixels further
    set_move(text, form, layer_id, dx, dy)     # the layer's last move becomes (dx, dy)
    add_transform(text, form, layer_id, op, attrs)   # one transform appended, e.g. "flip", {"axis": "vertical"}

When the layer's last transform is a `move`, its `dx`/`dy` values are rewritten where they stand (only those
characters change); otherwise one `move` is appended, laid out like its neighbours (a self-closing
`<layer/>` opens to hold it; a JSON layer gains `"transforms"`). A move whose changed value is a percentage
(`dx="25%"`) is left alone and a move in pixels appended after it: pixels cannot be added to a
percentage without the canvas size. Numbers are written shortest-exact (`25`, `12.5`). Comments, quotes,
attribute order, spacing, CRLF line ends and a byte order mark stay as they were.

Every function reads `text` with the project's reader first (a problem of the document is its located
SceneError), and reads its result again: a result that does not read, or reads as anything but the scene
with that one change, is never returned (SceneError for a change the format refuses, such as a move past
the limits; DeditError for a fault here). Writing the result back over the file is `scene_file`'s job.
"""

from __future__ import annotations

import math
from decimal import Decimal
import re
import warnings
from typing import Optional, Union

from designedit.errors import ArgumentError, DeditError, Problem, SceneError
from designedit.io import json_form, read
from designedit.io import text_layout as lay
from designedit.io.patch_json import JsonText
from designedit.io.patch_xml import XmlText
from designedit.model import scene as m
from designedit.model import vocab
from designedit.model.quoting import quote

__all__ = ["move_layer", "set_move", "add_transform", "read_scene"]

Value = Union[str, int, float]
_UTF16_DECLARED = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']utf-?16""", re.I)


def read_scene(text: str, form: Optional[str], source: str = "<scene>") -> m.Scene:
    """The scene `text` holds (pictures are not opened), or its located SceneError; `form` ("xml" or "json")
    must be the form the reader tells from the text, or None for that one."""
    form = _form(text, form, source)
    raw: Union[str, bytes] = text
    if form == "xml" and _UTF16_DECLARED.match(text.lstrip("\ufeff")):
        raw = text.lstrip("\ufeff").encode("utf-16")  # what the file holds: the reader checks the declaration against it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a newer minor version's note is for whoever loads the scene
        return read(raw, source, None, check_files=False).scene


def move_layer(text: str, form: Optional[str], layer_id: str, dx: float, dy: float, *, source: str = "<scene>") -> str:
    """The scene text with layer `layer_id` landing (dx, dy) canvas pixels further: its last `move` changed
    in place, or one `move` appended. dx = dy = 0 returns `text` itself (byte-identical)."""
    _finite(dx, dy)
    form = _form(text, form, source)
    scene = read_scene(text, form, source)
    index = _layer_index(scene, layer_id, source)
    if dx == 0 and dy == 0:
        return text
    transforms = scene.layers[index].transforms
    last = transforms[-1] if transforms else None
    if isinstance(last, m.Move):
        changed = {name: (getattr(last, name), delta) for name, delta in (("dx", dx), ("dy", dy)) if delta != 0}
        if not any(isinstance(old, str) for old, _delta in changed.values()):  # no percentage to add pixels to
            return _set(text, form, scene, index, {name: _add(old, delta) for name, (old, delta) in changed.items()}, source)
    return _append(text, form, scene, index, m.Move(dx=_number(dx), dy=_number(dy)), source)


def set_move(text: str, form: Optional[str], layer_id: str, dx: Value, dy: Value, *, source: str = "<scene>") -> str:
    """The scene text with the layer's last transform the move (dx, dy): a last `move` is changed in place
    (a value equal to the one written is left as written), else one is appended (none when both are 0)."""
    form = _form(text, form, source)
    scene = read_scene(text, form, source)
    index = _layer_index(scene, layer_id, source)
    wanted = {"dx": _number(dx) if not isinstance(dx, str) else dx, "dy": _number(dy) if not isinstance(dy, str) else dy}
    transforms = scene.layers[index].transforms
    last = transforms[-1] if transforms else None
    if isinstance(last, m.Move):
        changed = {name: value for name, value in wanted.items() if getattr(last, name) != value}
        return _set(text, form, scene, index, changed, source) if changed else text
    if wanted["dx"] == 0 and wanted["dy"] == 0:
        return text
    return _append(text, form, scene, index, _transform({"op": "move", **wanted}, form, source, layer_id), source)


def add_transform(text: str, form: Optional[str], layer_id: str, op: str, attrs: dict[str, Value], *, source: str = "<scene>") -> str:
    """The scene text with one transform appended to the layer, written with the format's names: op "move"
    ({"dx", "dy"}), "resize" ({"scale"} or {"scale-x", "scale-y"}), "flip" ({"axis": "horizontal"}),
    "rotate" ({"degrees"})."""
    form = _form(text, form, source)
    scene = read_scene(text, form, source)
    index = _layer_index(scene, layer_id, source)
    values = {name: _number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for name, v in attrs.items()}
    return _append(text, form, scene, index, _transform({"op": op, **values}, form, source, layer_id), source)


# ------------------------------------------------------------------ the edits


def _set(text: str, form: str, scene: m.Scene, index: int, values: dict[str, Value], source: str) -> str:
    """Rewrite the named values of the layer's last transform."""
    layer = scene.layers[index]
    position = len(layer.transforms) - 1
    edits = _editor(text, form).set_values(index, position, {name: _literal(v, form) for name, v in values.items()})
    result = lay.apply(text, edits)
    changed = layer.transforms[-1].model_copy(update=values)
    _verify(result, form, scene, index, list(layer.transforms[:-1]) + [changed], source)
    return result


def _append(text: str, form: str, scene: m.Scene, index: int, transform: m._Node, source: str) -> str:
    plain = json_form.to_plain(transform)  # the op first, then the format's names, defaults left out
    op = plain.pop("op")
    editor = _editor(text, form)
    if form == "xml":
        edits = editor.append(index, op, [(name, _text(value)) for name, value in plain.items()])
    else:
        members = [("op", op)] + list(plain.items())
        edits = editor.append(index, [(_literal(name, "json"), _literal(value, "json")) for name, value in members])
    result = lay.apply(text, edits)
    _verify(result, form, scene, index, list(scene.layers[index].transforms) + [transform], source)
    return result


def _editor(text: str, form: str) -> Union[XmlText, JsonText]:
    try:
        return XmlText(text) if form == "xml" else JsonText(text)
    except (ValueError, IndexError) as exc:  # the reader accepted the text: this scanner is at fault
        raise DeditError(f"the scene text could not be edited ({exc}); it was left unchanged") from exc


def _verify(result: str, form: str, before: m.Scene, index: int, transforms: list, source: str) -> None:
    """Read `result` back: it must be `before` with layer `index`'s transforms now `transforms`."""
    layer_id = before.layers[index].id
    try:
        after = read_scene(result, form, source)
    except SceneError as exc:
        first = exc.problems[0].message if exc.problems else str(exc)
        raise SceneError(Problem(source, f"the change to layer {quote(layer_id)} would make the scene invalid: {first}")) from None
    layers = list(before.layers)
    layers[index] = layers[index].model_copy(update={"transforms": transforms})
    expected = before.model_copy(update={"layers": layers})
    if json_form.to_plain(after) != json_form.to_plain(expected):
        raise DeditError(f"{source}: the edit of layer {quote(layer_id)} did not read back as intended; the text was left unchanged")


# ------------------------------------------------------------------ values


def _form(text: str, form: Optional[str], source: str) -> str:
    """`form`, checked against the text's (told as the reader tells it); None: the text's."""
    stripped = text.lstrip(" \t\r\n\ufeff")
    found = "xml" if stripped.startswith("<") else "json" if stripped.startswith("{") else None
    if form is not None and form not in ("xml", "json"):
        raise ArgumentError(f"unknown form {form!r}; expected 'xml' or 'json'")
    if form is not None and found is not None and found != form:
        raise ArgumentError(f"{source} holds the {found.upper()} form, not {form.upper()}")
    return form or found or "xml"  # neither: the reader says what is wrong with the text


def _layer_index(scene: m.Scene, layer_id: str, source: str) -> int:
    for index, layer in enumerate(scene.layers):
        if layer.id == layer_id:
            return index
    names = ", ".join(quote(layer.id) for layer in scene.layers[:10]) or "none"
    raise SceneError(Problem(source, f"no layer {quote(layer_id)} (its layers: {names})"))


def _finite(*values: float) -> None:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ArgumentError(f"a move is given in finite numbers of pixels, not {value!r}")


def _add(old: Union[int, float], delta: Union[int, float]) -> Union[int, float]:
    """`old + delta` as decimals add (0.1 + 0.2 is 0.3, as a person reading the file expects): each number is
    taken as its shortest spelling, which reads back as the same float."""
    if isinstance(old, int) and isinstance(_number(delta), int):
        return old + int(delta)
    return _number(float(Decimal(repr(float(old))) + Decimal(repr(float(delta)))))


def _number(value: float) -> Union[int, float]:
    """A whole float as an int, so that 25.0 is written 25 and reads back equal."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return vocab.format_number(value) if isinstance(value, (int, float)) else value


def _literal(value: Value, form: str) -> str:
    """A value as the form writes it: XML attribute text (escaped by the editor), or a JSON literal."""
    if form == "xml":
        return _text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return vocab.format_number(_number(value))
    return json_form._scalar(value)


def _transform(data: dict, form: str, source: str, layer_id: str) -> m._Node:
    """The model of one transform given as the format's names, or ArgumentError in one sentence."""
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(m.Transform).validate_python(data, context={"form": form})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ArgumentError(f"{source}: cannot add {quote(str(data.get('op')))} to layer {quote(layer_id)}: "
                            f"{where}: {error['msg'].lower()}") from None

