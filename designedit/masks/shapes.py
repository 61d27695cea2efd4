"""Rasterising a mask's shapes (rect, ellipse, polygon) at canvas size.

Shapes are sampled at pixel centres: pixel (i, j) is inside when the point (j + 0.5, i + 0.5) is (so a rect
x=10 width=40 covers columns 10..49). Each shape is drawn only over the box of pixels it may set.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from designedit.masks.arrays import Array, Box
from designedit.model.scene import Ellipse, Polygon, Rect, resolve_length


def _centres(lo: float, hi: float, extent: int) -> tuple[int, int]:
    """Index range [a, b) of pixels whose centres may lie in [lo, hi], clipped to the extent."""
    a = max(0, int(np.floor(lo - 0.5)))
    b = min(extent, int(np.ceil(hi + 0.5)))
    return a, max(a, b)


def _target(out: Optional[Array], width: int, height: int) -> Array:
    return np.zeros((height, width), np.uint8) if out is None else out


def _in_window(out: Array, at: tuple[int, int], box: Box) -> Optional[Box]:
    """`box` clipped to the part of the canvas `out` holds (its top-left at `at`); None when nothing is left."""
    ax, ay = at
    x0, y0 = max(box[0], ax), max(box[1], ay)
    x1, y1 = min(box[2], ax + out.shape[1]), min(box[3], ay + out.shape[0])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _max_into(out: Array, at: tuple[int, int], box: Box, inside: Array) -> None:
    x0, y0, x1, y1 = box
    region = out[y0 - at[1] : y1 - at[1], x0 - at[0] : x1 - at[0]]
    np.maximum(region, np.where(inside, np.uint8(255), np.uint8(0)), out=region)


def _rect_box(x: float, y: float, w: float, h: float, width: int, height: int) -> Box:
    x0, x1 = sorted((x, x + w))
    y0, y1 = sorted((y, y + h))
    # pixel centre c = i + 0.5 is inside when x0 <= c < x1
    c0 = max(0, int(np.ceil(x0 - 0.5)))
    c1 = min(width, int(np.ceil(x1 - 0.5)))
    r0 = max(0, int(np.ceil(y0 - 0.5)))
    r1 = min(height, int(np.ceil(y1 - 0.5)))
    return c0, r0, max(c0, c1), max(r0, r1)


def _ellipse_box(cx: float, cy: float, rx: float, ry: float, width: int, height: int) -> Box:
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return 0, 0, 0, 0
    c0, c1 = _centres(cx - rx, cx + rx, width)
    r0, r1 = _centres(cy - ry, cy + ry, height)
    return c0, r0, c1, r1


def _polygon_box(points: list[tuple[float, float]], width: int, height: int) -> Box:
    pts = np.asarray(points, dtype=np.float64)
    c0, c1 = _centres(pts[:, 0].min(), pts[:, 0].max(), width)
    r0, r1 = _centres(pts[:, 1].min(), pts[:, 1].max(), height)
    return c0, r0, c1, r1


def rasterise_rect(x: float, y: float, w: float, h: float, width: int, height: int, out: Optional[Array] = None,
                   at: tuple[int, int] = (0, 0)) -> Array:
    """Pixels whose centres are inside; drawn (max) into `out` when given, which holds the part of the
    canvas whose top-left is `at` (the whole canvas by default)."""
    out = _target(out, width, height)
    box = _in_window(out, at, _rect_box(x, y, w, h, width, height))
    if box is not None:
        out[box[1] - at[1] : box[3] - at[1], box[0] - at[0] : box[2] - at[0]] = 255
    return out


def rasterise_ellipse(cx: float, cy: float, rx: float, ry: float, width: int, height: int, out: Optional[Array] = None,
                      at: tuple[int, int] = (0, 0)) -> Array:
    out = _target(out, width, height)
    box = _in_window(out, at, _ellipse_box(cx, cy, rx, ry, width, height))
    if box is None:
        return out
    c0, r0, c1, r1 = box
    with np.errstate(over="ignore"):  # a sliver-thin ellipse squares to inf far from its axis: outside, as it should
        xs = (np.arange(c0, c1) + 0.5 - cx) / abs(rx)
        ys = (np.arange(r0, r1) + 0.5 - cy) / abs(ry)
        _max_into(out, at, box, ys[:, None] ** 2 + xs[None, :] ** 2 <= 1.0)
    return out


_CROSSINGS_PER_CHUNK = 1 << 22  # edge-row crossings handled at once: bounds the temporary arrays


def rasterise_polygon(points: list[tuple[float, float]], width: int, height: int, out: Optional[Array] = None,
                      at: tuple[int, int] = (0, 0)) -> Array:
    """Even-odd fill, sampled at pixel centres.

    A pixel is inside when an odd number of edges cross its row to the right of its centre. Each crossing is
    computed once (the row's centre line against the edge, half-open in y) and toggles a parity count at the
    number of centres left of it; a running XOR from the right then fills each row. The work is the number of
    crossings plus the box, however many edges there are (a loop over edges repainted every row for each)."""
    out = _target(out, width, height)
    box = _in_window(out, at, _polygon_box(points, width, height))
    if box is None:
        return out
    c0, r0, c1, r1 = box
    pts = np.asarray(points, dtype=np.float64)
    xs_p, ys_p = pts[:, 0], pts[:, 1]
    cy = np.arange(r0, r1) + 0.5  # rows' centre lines
    cx = np.arange(c0, c1) + 0.5
    ax, ay, bx, by = xs_p, ys_p, np.roll(xs_p, -1), np.roll(ys_p, -1)
    keep = ay != by
    ax, ay, bx, by = ax[keep], ay[keep], bx[keep], by[keep]
    # half-open rule: an edge counts for the rows with min(y) <= centre < max(y)
    first = np.searchsorted(cy, np.minimum(ay, by), side="left")
    stop = np.searchsorted(cy, np.maximum(ay, by), side="left")
    spans = stop - first
    toggles = np.zeros((r1 - r0, c1 - c0 + 1), dtype=np.uint8)
    ends = np.cumsum(spans)
    edge = 0
    while edge < len(spans):
        last = max(int(np.searchsorted(ends, (ends[edge - 1] if edge else 0) + _CROSSINGS_PER_CHUNK, side="right")), edge + 1)
        e = np.repeat(np.arange(edge, last), spans[edge:last])
        if len(e):
            row = first[e] + (np.arange(len(e)) - np.repeat(ends[edge:last] - spans[edge:last], spans[edge:last]) + (ends[edge - 1] if edge else 0))
            x_cross = ax[e] + (cy[row] - ay[e]) * (bx[e] - ax[e]) / (by[e] - ay[e])
            flat = row * toggles.shape[1] + np.searchsorted(cx, x_cross, side="left")
            toggles ^= (np.bincount(flat, minlength=toggles.size) & 1).astype(np.uint8).reshape(toggles.shape)
        edge = last
    # the pixel in column j flips once for each crossing whose count of centres left of it is above j
    inside = np.bitwise_xor.accumulate(toggles[:, ::-1], axis=1)[:, ::-1][:, 1:].astype(bool)
    _max_into(out, at, box, inside)
    return out


def _resolved(shape, width: int, height: int) -> tuple[str, tuple]:
    """A shape's kind and its arguments in canvas pixels (lengths resolved against the canvas)."""
    X = lambda v: resolve_length(v, width)  # noqa: E731
    Y = lambda v: resolve_length(v, height)  # noqa: E731
    if isinstance(shape, Rect):
        return "rect", (X(shape.x), Y(shape.y), X(shape.width), Y(shape.height))
    if isinstance(shape, Ellipse):
        return "ellipse", (X(shape.cx), Y(shape.cy), X(shape.rx), Y(shape.ry))
    if isinstance(shape, Polygon):
        return "polygon", ([(X(px), Y(py)) for px, py in shape.points],)
    raise TypeError(f"not a drawable shape: {shape!r}")


_BOXES = {"rect": _rect_box, "ellipse": _ellipse_box, "polygon": _polygon_box}
_RASTERISERS = {"rect": rasterise_rect, "ellipse": rasterise_ellipse, "polygon": rasterise_polygon}


def shape_box(shape, width: int, height: int) -> Optional[Box]:
    """The box of canvas pixels a shape may set (`rasterise_shape` touches nothing outside); None when empty."""
    kind, args = _resolved(shape, width, height)
    x0, y0, x1, y1 = _BOXES[kind](*args, width, height)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def rasterise_shape(shape, width: int, height: int, out: Optional[Array] = None, at: tuple[int, int] = (0, 0)) -> Array:
    """A rect, ellipse or polygon (lengths resolved against the canvas) as a 0/255 mask,
    drawn (max) into `out` when given (holding the part of the canvas whose top-left is `at`)."""
    kind, args = _resolved(shape, width, height)
    return _RASTERISERS[kind](*args, width, height, out, at)
