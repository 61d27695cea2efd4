"""Numeric limits: every number a document gives stays in a range the compiler and renderers can use.

The model checks types and signs; these bounds keep values away from what
would overflow an integer conversion or allocate without bound (a 1e9-pixel
grow, a 1e308 move). They are far beyond anything a real picture needs (its
sides are at most `pictures.MAX_SIDE`), so no sensible document meets them.
Like the reference checks, they read the document in its JSON shape, so they
also run on documents that failed other checks; values of the wrong type are
left to the model's messages. spec/format.md section 4.1 lists them.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

from designedit.model import scene as m
from designedit.model.vocab import MAX_EDITS, MAX_LAYERS, MAX_POINTS, too_many_points
from designedit.errors import PictureError
from designedit.imaging.size_limits import MAX_SIDE, check_size
from designedit.model.quoting import quote

Report = Callable[[tuple, str], None]

MAX_LENGTH_PX = 4 * MAX_SIDE  # a layer may sit, or move, well off the canvas
MAX_MOVE_PX = 16 * MAX_LENGTH_PX  # all the moves of one layer together
MAX_PERCENT = 400  # 400% of the largest canvas side is MAX_LENGTH_PX
MAX_SCALE = 10_000  # resize
MIN_SCALE = 0.0001
MAX_GUIDANCE = 1000
MAX_GROW = MAX_SIDE  # grow and feather, pixels
MAX_ZOOM = MAX_SIDE


def _num(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # a JSON integer with hundreds of digits is a Python int past any float
        return math.inf if value > 0 else -math.inf


def _show(value: float) -> str:
    value = _num(value)
    if not math.isfinite(value):
        return "infinite" if value == value else "not a number"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def length_problem(value: Any) -> Optional[str]:
    """Why a length is out of range, or None (values of the wrong type are not this check's concern)."""
    if isinstance(value, str) and m.PERCENT_RE.match(value):
        pct = float(value[:-1])
        if not math.isfinite(pct) or abs(pct) > MAX_PERCENT:
            return f"between -{MAX_PERCENT}% and {MAX_PERCENT}% of the canvas"
        return None
    px = _num(value)
    if px is not None and (not math.isfinite(px) or abs(px) > MAX_LENGTH_PX):
        return f"between -{MAX_LENGTH_PX} and {MAX_LENGTH_PX} pixels"
    return None


def _plain_length(value: Any) -> bool:
    """A number of pixels within range (the common case, checked without a call per coordinate's sentence)."""
    return type(value) in (int, float) and -MAX_LENGTH_PX <= value <= MAX_LENGTH_PX


def _range(value: Any, low: float, high: float, what: str) -> Optional[str]:
    v = _num(value)
    if v is not None and (not math.isfinite(v) or v < low or v > high):
        return f"between {_show(low)} and {_show(high)}{what}"
    return None


def _finite(value: Any) -> Optional[str]:
    v = _num(value)
    return "a finite number" if v is not None and not math.isfinite(v) else None


# (model, field) -> (check, the field's unit for the sentence)
_NUMBERS = {
    (m.Mask, "grow"): lambda v: _range(v, -MAX_GROW, MAX_GROW, " pixels"),
    (m.Mask, "feather"): lambda v: _range(v, 0, MAX_GROW, " pixels"),
    (m.ZoomOut, "factor"): lambda v: _range(v, 1, MAX_ZOOM, ""),
    (m.Resize, "scale"): lambda v: _range(v, MIN_SCALE, MAX_SCALE, ""),
    (m.Resize, "scale-x"): lambda v: _range(v, MIN_SCALE, MAX_SCALE, ""),
    (m.Resize, "scale-y"): lambda v: _range(v, MIN_SCALE, MAX_SCALE, ""),
    (m.Rotate, "degrees"): lambda v: _finite(v),  # any turn is a real rotation (format-v1): only infinities are not
    (m.Render, "guidance"): lambda v: _range(v, 0, MAX_GUIDANCE, ""),
}
_LENGTHS = {
    m.Rect: ("x", "y", "width", "height"),
    m.Ellipse: ("cx", "cy", "rx", "ry"),
    m.Pan: ("dx", "dy"),
    m.Move: ("dx", "dy"),
    m.Layer: ("x", "y"),
}
_SHAPES = {"rect": m.Rect, "ellipse": m.Ellipse, "polygon": m.Polygon}
_EDITS = {"pan": m.Pan, "zoom-out": m.ZoomOut}
_TRANSFORMS = {"move": m.Move, "resize": m.Resize, "rotate": m.Rotate}


def _items(node: Any, key: str) -> list[tuple[int, dict]]:
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _check_node(node: dict, model: type, path: tuple, report: Report, skip: Callable[[tuple], bool]) -> None:
    for name in _LENGTHS.get(model, ()):
        why = length_problem(node.get(name))
        if why is not None and not skip(path + (name,)):
            report(path + (name,), f"{name} must be {why}, not {_value(node.get(name))}")
    for (owner, name), check in _NUMBERS.items():
        if owner is model and name in node:
            why = check(node[name])
            if why is not None and not skip(path + (name,)):
                report(path + (name,), f"{name} must be {why}, not {_value(node[name])}")
    if model is m.Polygon and isinstance(node.get("points"), list):
        for point in node["points"]:
            if isinstance(point, (list, tuple)) and any(not _plain_length(c) and length_problem(c) for c in point):
                where = path + ("points",)
                if not skip(where):
                    report(where, f"each point coordinate must be {length_problem(next(c for c in point if length_problem(c)))}")
                break


def _tag(value: Any) -> Optional[str]:
    """A discriminator (`op`, `shape`) as a lookup key: a wrong type is the reader's to report, not ours to crash on."""
    return value if isinstance(value, str) else None


def _value(value: Any) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int) and math.isinf(_num(value)):
        return f"a number of {len(str(abs(value)))} digits"
    return _show(value)


def _counts(data: dict, report: Report, skip: Callable[[tuple], bool]) -> None:
    """Counts the compiler's work grows with faster than the document (spec/format.md 4.1): each pan and zoom-out
    maps every region made before it, each polygon edge is crossed by every row it spans."""
    background = data.get("background")
    edits = background.get("edits") if isinstance(background, dict) else None
    if isinstance(edits, list) and len(edits) > MAX_EDITS:
        report(("background", "edits", MAX_EDITS), f"a background has at most {MAX_EDITS} edits, not {len(edits)}")
    layers = data.get("layers")
    if isinstance(layers, list) and len(layers) > MAX_LAYERS:
        report(("layers", MAX_LAYERS), f"a document has at most {MAX_LAYERS} layers, not {len(layers)}")
    points = 0
    for i, mask in _items(data, "masks"):
        for j, shape in _items(mask, "shapes"):
            if shape.get("shape") == "polygon" and isinstance(shape.get("points"), list):
                points += len(shape["points"])
                where = ("masks", i, "shapes", j, "points")
                if points > MAX_POINTS and not skip(where):
                    report(where, too_many_points(points))
                    return


def problems(data: Any, report: Report, skip: Callable[[tuple], bool] = lambda path: False) -> None:
    """Report every number of a document (in its JSON shape) that is out of range; `skip(path)` says a path
    was explained already."""
    if not isinstance(data, dict):
        return
    canvas = data.get("canvas")
    if isinstance(canvas, dict):
        w, h = _num(canvas.get("width")), _num(canvas.get("height"))
        if w is not None and h is not None and w > 0 and h > 0 and w.is_integer() and h.is_integer() and not skip(("canvas",)):
            try:
                check_size(int(w), int(h), "the canvas")
            except PictureError as exc:
                report(("canvas",), str(exc))
    render = data.get("render")
    if isinstance(render, dict):
        _check_node(render, m.Render, ("render",), report, skip)
    def tagged(node: Any, key: str, tag_key: str, models: dict, path: tuple) -> None:
        """Each item of node[key] by the model its tag names (unknown tags are the reader's to report)."""
        for j, item in _items(node, key):
            model = models.get(_tag(item.get(tag_key)))
            if model is not None:
                _check_node(item, model, path + (key, j), report, skip)

    _counts(data, report, skip)
    for i, mask in _items(data, "masks"):
        _check_node(mask, m.Mask, ("masks", i), report, skip)
        tagged(mask, "shapes", "shape", _SHAPES, ("masks", i))
    tagged(data.get("background"), "edits", "op", _EDITS, ("background",))
    for i, layer in _items(data, "layers"):
        _check_node(layer, m.Layer, ("layers", i), report, skip)
        tagged(layer, "transforms", "op", _TRANSFORMS, ("layers", i))


def check(scene: m.Scene, where: Callable[[tuple], str]) -> None:
    """Raise SceneError if a scene (built in code, say) has a number out of range; `where(path)` locates."""
    from designedit.errors import Problem, SceneError

    found: list[Problem] = []
    problems(scene.model_dump(by_alias=True), lambda path, msg: found.append(Problem(where(path), msg)))  # document keys
    if found:
        raise SceneError(found)
