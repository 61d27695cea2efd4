"""Masks: rasterising scene masks at canvas size, and the method's mask preprocessing.

Every mask is a (height, width) uint8 array, 0..255. Binary decisions
(centroid, cut, latent masks) use >= 128. Scene masks are computed and kept as
`Crop`s, the box around their pixels, so that thousands of masks on a 40 MP
canvas take what their pixels take; `MaskGroup` folds a region's masks.

A scene mask's value is union(picture, shapes, `use`d masks), then invert,
then grow (square dilation, negative erodes), then feather (a linear soft
edge that keeps the >= 128 shape). Shapes are sampled at pixel centres: pixel (i, j) is inside when the
point (j + 0.5, i + 0.5) is (so a rect x=10 width=40 covers columns 10..49).

Two families of helpers bring canvas masks to the latent grid:
- `reference_latent`: the authors' preprocessing exactly (method 12): bilinear
  resize to the render size, saturating sum, OpenCV-anchored k x k dilation,
  top-left nearest downsampling, `> 0`.
- `fast_latent`: binarise, centred dilation at canvas size, then a latent cell
  is set when any canvas pixel it covers is set (area downsampling, `> 0`).
"""

from __future__ import annotations

import math

from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Optional

import cv2
import numpy as np

from designedit.errors import Problem, SceneError
# bbox, shift and scaled_kernel live in imaging (the renderers use them too); the compiler still calls them as masks.*
from designedit.imaging.geometry import bbox, scaled_kernel, shift  # noqa: F401
from designedit.model.scene import Ellipse, Mask, Polygon, Rect, Scene, Use, resolve_length
from designedit.checks.paths import resolve_reference
from designedit.imaging.pictures import PictureError, load_mask_values

Array = np.ndarray


# ---------------------------------------------------------------- shapes

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) in canvas pixels, end exclusive


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


# ---------------------------------------------------------------- masks kept to their extent


class Crop:
    """A canvas-size mask kept as the box around its pixels that may be non-zero: `data` has its top-left at
    (x0, y0) on a canvas of `shape` (height, width), and the canvas is zero outside it. A mask of a few
    pixels on a 40 MP canvas then takes a few bytes, not 40 MB; `full()` gives the canvas-size array."""

    __slots__ = ("shape", "x0", "y0", "data")

    def __init__(self, shape: tuple[int, int], x0: int, y0: int, data: Array):
        self.shape = (int(shape[0]), int(shape[1]))
        self.x0, self.y0 = int(x0), int(y0)
        self.data = data

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> "Crop":
        return cls(shape, 0, 0, np.zeros((0, 0), np.uint8))

    @classmethod
    def of(cls, mask: Array, x0: int = 0, y0: int = 0, shape: Optional[tuple[int, int]] = None) -> "Crop":
        """`mask` (top-left at (x0, y0) on a canvas of `shape`, by default its own), cut to its non-zero box."""
        return cls(mask.shape if shape is None else shape, x0, y0, mask).trimmed()

    @property
    def box(self) -> Optional[Box]:
        h, w = self.data.shape
        return (self.x0, self.y0, self.x0 + w, self.y0 + h) if h and w else None

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    def trimmed(self) -> "Crop":
        """The same mask cut to its non-zero pixels (a copy when smaller, so the larger array can go)."""
        if self.box is None:
            return self
        inner = bbox(self.data)
        if inner is None:
            return Crop.empty(self.shape)
        x0, y0, x1, y1 = inner
        if (x1 - x0, y1 - y0) == self.data.shape[::-1]:
            return self
        return Crop(self.shape, self.x0 + x0, self.y0 + y0, self.data[y0:y1, x0:x1].copy())

    def max_into(self, out: Array, at: tuple[int, int] = (0, 0)) -> None:
        """out := max(out, this mask) where `out` holds the part of the canvas whose top-left is `at`."""
        if self.box is not None:
            paste_max(out, self.data, self.x0 - at[0], self.y0 - at[1])

    def window(self, box: Box) -> Array:
        """The mask's values over the canvas box `box` (a new array)."""
        x0, y0, x1, y1 = box
        out = np.zeros((y1 - y0, x1 - x0), np.uint8)
        self.max_into(out, (x0, y0))
        return out

    def full(self) -> Array:
        return self.window((0, 0, self.shape[1], self.shape[0]))

    def moved(self, dx: int, dy: int) -> "Crop":
        """Translated by whole pixels (`shift`): what leaves the canvas is gone."""
        box = self.box
        if box is None:
            return self
        H, W = self.shape
        x0, y0, x1, y1 = box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
        if cx1 <= cx0 or cy1 <= cy0:
            return Crop.empty(self.shape)
        data = self.data[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        return Crop(self.shape, cx0, cy0, data if data.shape == self.data.shape else data.copy())


def union_box(boxes: Iterable[Optional[Box]]) -> Optional[Box]:
    """The smallest box holding every given box (None ones are empty); None when all are."""
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    return min(b[0] for b in present), min(b[1] for b in present), max(b[2] for b in present), max(b[3] for b in present)


# ---------------------------------------------------------------- grow, feather, placing


def square_kernel(k: int) -> Array:
    return np.ones((k, k), np.uint8)


SMALL_RADIUS = 32  # up to here OpenCV's square kernel is fastest
LINE_RADIUS = 1536  # up to here two 1-D OpenCV passes are; beyond, the running extrema (cost independent of r)


def grow(mask: Array, px: float) -> Array:
    """Centred square dilation by `px` pixels each way (negative erodes); see `grow_crop`."""
    if _radius(px, mask.shape) == 0:
        return mask
    return grow_crop(Crop.of(mask), px).full()


def _radius(px: float, shape: tuple[int, int]) -> int:
    """A radius past the canvas's long side changes nothing more, so it is clamped there."""
    return min(int(round(min(abs(px), 1e9))), max(shape))


def grow_crop(mask: "Crop", px: float) -> "Crop":
    """Centred square dilation by `px` pixels each way (negative erodes), computed around the crop only.

    The square is separable: mid-size radii run as a row pass then a column pass of OpenCV, large ones as
    two one-dimensional running extrema (`_running_extreme`), whose cost does not depend on the radius
    (measured on a 4096x4096 mask: the switch-over points above). Dilation works on the crop grown by the
    radius (nothing farther can change); erosion on the crop and one pixel of the zeros around it, which
    every window reaching outside the crop then sees, while outside the canvas counts as set (so masks
    touching the border stay there): exactly the result on the whole canvas."""
    r = _radius(px, mask.shape)
    box = mask.box
    if r == 0 or box is None:
        return mask
    if px > 0:
        region = pad_box(box, r, mask.shape)
        return Crop(mask.shape, region[0], region[1], _square(mask.window(region), r, cv2.dilate, np.maximum, 0))
    region = pad_box(box, 1, mask.shape)
    return Crop(mask.shape, region[0], region[1], _square(mask.window(region), r, cv2.erode, np.minimum, 255)).trimmed()


def _square(a: Array, r: int, morph, op, outside: int) -> Array:
    def cv(kernel: Array, image: Array) -> Array:
        return morph(image, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=outside)

    if r <= SMALL_RADIUS:
        return cv(square_kernel(2 * r + 1), a)
    if r <= LINE_RADIUS:
        return cv(np.ones((2 * r + 1, 1), np.uint8), cv(np.ones((1, 2 * r + 1), np.uint8), a))
    return _square_extreme(a, r, op, outside)


def _square_extreme(mask: Array, r: int, op, outside: int) -> Array:
    """Max (or min) over the (2r+1)-square around each pixel; pixels outside the array count as `outside`."""
    return _running_extreme(_running_extreme(mask, r, op, outside, axis=1), r, op, outside, axis=0)


def _running_extreme(a: Array, r: int, op, outside: int, axis: int, rows_per_chunk: int = 256) -> Array:
    """op over the window [j - r, j + r] along `axis` (van Herk / Gil-Werman: block prefix and suffix
    extrema, two passes whatever r), in chunks of lines to bound the memory it takes."""
    if axis == 0:
        return np.ascontiguousarray(_running_extreme(a.T, r, op, outside, 1, rows_per_chunk).T)
    h, w = a.shape
    out = np.empty_like(a)
    if r >= w - 1:  # every window holds the whole line
        line = op.reduce(a, axis=1, keepdims=True)
        out[:] = op(line, np.uint8(outside))
        return out
    k = 2 * r + 1
    n = -(-(w + 2 * r) // k) * k
    for y0 in range(0, h, rows_per_chunk):
        part = a[y0 : y0 + rows_per_chunk]
        padded = np.full((part.shape[0], n), outside, a.dtype)
        padded[:, r : r + w] = part
        blocks = padded.reshape(part.shape[0], n // k, k)
        prefix = op.accumulate(blocks, axis=2).reshape(part.shape[0], n)
        suffix = op.accumulate(blocks[:, :, ::-1], axis=2)[:, :, ::-1].reshape(part.shape[0], n)
        out[y0 : y0 + part.shape[0]] = op(suffix[:, :w], prefix[:, k - 1 : k - 1 + w])
    return out


def feather(mask: Array, px: float) -> Array:
    """A linear soft edge 2*px wide centred on the edge of the >= 128 shape; see `feather_crop`."""
    if px <= 0:
        return mask
    return feather_crop(Crop.of(mask), px).full()


def feather_crop(mask: "Crop", px: float) -> "Crop":
    """A linear soft edge 2*px wide centred on the edge of the >= 128 shape.

    The value follows the signed distance to the edge, so `>= 128` gives back
    exactly the shape (corners included), unlike a blur. The ramp reaches px
    outside the shape: where the canvas has unselected pixels, only that
    neighbourhood of the shape is computed.
    """
    if px <= 0:
        return mask
    box = mask.box
    if box == (0, 0, mask.shape[1], mask.shape[0]) and mask.data.min() > 0:  # nothing unselected anywhere
        return Crop(mask.shape, 0, 0, _feather_all(mask.data, px))
    inside = Crop(mask.shape, mask.x0, mask.y0, binary(mask.data)).trimmed()
    if inside.box is None:
        return inside
    region = pad_box(inside.box, int(np.ceil(px)) + 2, mask.shape)
    return Crop(mask.shape, region[0], region[1], _feather_all(inside.window(region), px))


def _feather_all(mask: Array, px: float) -> Array:
    inside = (mask >= 128).astype(np.uint8)
    if inside.all() or not inside.any():
        return inside * np.uint8(255)
    d_in = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_5)  # 0 outside
    d_out = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_5)  # 0 inside
    # signed distance from the edge: d_in - 0.5 inside, 0.5 - d_out outside
    signed = d_in - d_out + (0.5 - inside.astype(np.float32))
    # a ramp narrower than a pixel is a hard edge: the slope is capped so a tiny feather cannot overflow
    slope = np.float32(min(1.0 / (2.0 * px), 1e6))
    value = np.clip(signed * slope + np.float32(0.5), 0.0, 1.0)
    return (value * np.float32(255.0) + np.float32(0.5)).astype(np.uint8)


def place(picture_mask: Array, width: int, height: int, x: int = 0, y: int = 0) -> Array:
    """A picture-size mask on a canvas-size one, top-left at (x, y), cropped and zero-padded."""
    out = np.zeros((height, width), np.uint8)
    ph, pw = picture_mask.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + pw), min(height, y + ph)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = picture_mask[y0 - y : y1 - y, x0 - x : x1 - x]
    return out


def binary(mask: Array) -> Array:
    """0/255 at the >= 128 threshold."""
    if mask.size == 0:  # an empty crop: OpenCV 4 answers None for it (5 an empty array)
        return mask.copy()
    return cv2.threshold(mask, 127, 255, cv2.THRESH_BINARY)[1]


def paste_max(dst: Array, crop: Array, x: int, y: int) -> None:
    """dst[y:, x:] = max(dst, crop) where they overlap (crop may hang over any edge)."""
    H, W = dst.shape
    h, w = crop.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 > x0 and y1 > y0:
        region = dst[y0:y1, x0:x1]
        np.maximum(region, crop[y0 - y : y1 - y, x0 - x : x1 - x], out=region)


def pad_box(box: tuple[int, int, int, int], pad: int, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return max(0, x0 - pad), max(0, y0 - pad), min(shape[1], x1 + pad), min(shape[0], y1 + pad)


def centroid(mask: Array, box: Optional[tuple[int, int, int, int]] = None) -> Optional[tuple[float, float]]:
    """(x, y) in pixel-index coordinates (image moments of the values), or None when empty.
    `box`: the non-zero pixels' box when already known."""
    box = box or bbox(mask)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    m = cv2.moments(mask[y0:y1, x0:x1], binaryImage=False)
    if m["m00"] == 0:
        return None
    return x0 + m["m10"] / m["m00"], y0 + m["m01"] / m["m00"]


# ---------------------------------------------------------------- scene masks

# Bytes of masks one compile holds at once (masks made and still to be used, and the one being made): a
# few whole 40 MP canvases, so that a document's masks stay well inside a gigabyte whatever it chains.
MASK_BUDGET = 256 * 2**20
# Bytes of the canvas-size masks a compile keeps for its layers (each layer's mask where its picture sits
# and after its transforms: the plan carries one per layer), counted by the rows they touch.
LAYER_BUDGET = 384 * 2**20


class Target(NamedTuple):
    """The picture a mask selects from: its image id (for messages) and upright size (width, height). A
    mask picture of another size but the same proportions is scaled to it."""

    image: str
    size: tuple[int, int]


Key = tuple[str, Optional[tuple[int, int]]]  # a mask id and the size its pictures are scaled to (None: as they are)


class _OverBudget(Exception):
    """Making a mask would hold more than the budget; reported at the mask asked for."""


def amount(n: int) -> str:
    """A number of bytes in words: "256 MB", "30 KB"."""
    return f"{n // 2**20} MB" if n >= 2**20 else f"{n // 1024} KB"


class Budget:
    """Bytes of masks held against a limit: the resolvers of one compile share one, its layers have one."""

    def __init__(self, limit: int):
        self.limit = limit
        self.bytes = 0

    def charge_rows(self, mask: Optional[Array], box: Optional[Box] = None) -> bool:
        """Count a canvas-size mask by the rows its non-zero `box` spans (the memory pages it touches: the
        rest of a fresh array costs nothing); whether the total is still within the limit."""
        if mask is not None:
            box = box or bbox(mask)
            self.bytes += 0 if box is None else (box[3] - box[1]) * mask.shape[1]
        return self.bytes <= self.limit


def same_proportions(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether pictures of sizes `a` and `b` (width, height) have the same proportions, within the rounding
    of one pixel of the smaller picture (a 1000x333 photo saved at a tenth is 100x33)."""
    (sw, sh), (bw, bh) = sorted((a, b), key=lambda size: size[0] * size[1])
    if sw >= sh:  # the smaller picture's rounded short side, predicted from its long side
        return abs(bh * sw / bw - sh) <= 1 + 1e-9
    return abs(bw * sh / bh - sw) <= 1 + 1e-9


def scale_mask_picture(values: Array, size: tuple[int, int]) -> Array:
    """Mask values resized to `size` (width, height), bilinear (antialiased when shrinking), before any
    threshold, so a scaled mask keeps a clean edge."""
    from PIL import Image as PILImage

    return np.asarray(PILImage.fromarray(values, "L").resize(size, PILImage.BILINEAR), dtype=np.uint8)


class MaskResolver:
    """Computes scene masks at canvas size, kept as `Crop`s (`use` chains share the work).

    A mask picture is scaled to the image the mask selects from (`Target`) when their sizes differ but not
    their proportions, and refused when their proportions differ; without a target it is placed as it is.

    Memory: once `expect` has been told every request the caller will make, a mask is dropped as soon as
    its last user has it, so a chain of thousands of masks holds two at a time; what is held at once
    (`MASK_BUDGET`) is bounded, and a document that needs more is refused at the mask that passes it.
    Without `expect`, every mask is kept (a caller asking for masks freely).

    `grey_pictures` (the reference schedule): a mask picture that is not inverted keeps its grey values
    instead of being thresholded at one half, as the authors' preprocessing reads mask pictures
    (method 12: resized, dilated, then `> 0`, so a grey edge or JPEG ringing selects its cells). An
    inverted mask is computed from thresholded pictures, as `plain` (the drawn masks' resolver) computes
    it: inverted, faint noise would select nearly everything."""

    def __init__(self, scene: Scene, width: int, height: int, load_picture: Optional[Callable[[str, str], Array]] = None,
                 grey_pictures: bool = False, plain: Optional["MaskResolver"] = None, budget: Optional[int] = None):
        self.scene = scene
        self.width = width
        self.height = height
        self._cache: dict[Key, Crop] = {}
        # by id, once: thousands of masks are looked up in constant time (the first of an id wins, as the
        # reader refused duplicates already)
        self._masks: dict[str, tuple[int, Mask]] = {}
        for index, mask in enumerate(scene.masks):
            self._masks.setdefault(mask.id, (index, mask))
        self._load_picture = load_picture
        self._grey_pictures = grey_pictures and load_picture is None
        # the thresholded resolver an inverted mask is computed with (grey_pictures only)
        self._plain = (plain or MaskResolver(scene, width, height, budget=budget)) if self._grey_pictures else None
        self._held = self._plain._held if self._plain is not None else Budget(MASK_BUDGET if budget is None else budget)
        self._demand: Optional[dict[Key, int]] = None  # uses still to come, once `expect` was called
        self._reached: set[Key] = set()
        self._sizes: dict[str, tuple[int, int]] = {}
        self._pictured: dict[str, bool] = {}

    # ------------------------------------------------------------ requests

    def __call__(self, mask_id: str, image: Optional[str] = None) -> Array:
        """The mask at canvas size (a new array); `image`: the id of the image it selects from."""
        return self.crop(mask_id, image).full()

    def crop(self, mask_id: str, image: Optional[str] = None) -> Crop:
        key, target = self._key(mask_id, self._target(image))
        return self._get(key, target)

    def expect(self, mask_id: str, image: Optional[str] = None) -> None:
        """Announce one request to come (`crop` or a call): masks are then dropped after their last use."""
        self._expect(*self._key(mask_id, self._target(image)))

    def _expect(self, key: Key, target: Optional[Target]) -> None:
        """One more use of `key`; the first time, each use its mask makes (each mask is made once)."""
        if self._demand is None:
            self._demand = {}
        self._demand[key] = self._demand.get(key, 0) + 1
        stack = [(key, target)]
        while stack:
            key, target = stack.pop()
            if key in self._reached:
                continue
            self._reached.add(key)
            found = self._masks.get(key[0])
            if found is None:
                continue
            mask = found[1]
            if self._plain is not None and mask.invert:  # made by the plain resolver, once
                self._plain._expect(*self._plain._key(mask.id, target))
                continue
            for shape in mask.shapes:
                if isinstance(shape, Use):
                    used = self._key(shape.mask, target)
                    self._demand[used[0]] = self._demand.get(used[0], 0) + 1
                    stack.append(used)

    # ------------------------------------------------------------ keys and targets

    def _target(self, image: Optional[str]) -> Optional[Target]:
        if image is None:
            return None
        if image not in self._sizes:
            from designedit.imaging.pictures import picture_size

            index, found = next(((i, im) for i, im in enumerate(self.scene.images) if im.id == image), (None, None))
            if found is None:
                raise SceneError(Problem(self._place(("images",)), f"there is no image {image!r}"))
            where = self._place(("images", index, "src"))
            path = self._resolve(found.src, where)
            try:
                self._sizes[image] = picture_size(path)
            except PictureError as exc:
                raise SceneError(Problem(where, str(exc))) from None
        return Target(image, self._sizes[image])

    def _key(self, mask_id: str, target: Optional[Target]) -> tuple[Key, Optional[Target]]:
        """A mask that reaches no picture is the same whatever it selects from: one key for all targets."""
        if target is None or not self._reaches_picture(mask_id):
            return (mask_id, None), None
        return (mask_id, target.size), target

    def _reaches_picture(self, mask_id: str) -> bool:
        """Whether the mask or one it reaches through `use` has a picture (without recursion: chains of
        thousands are fine; a cycle is reported when the mask is made)."""
        stack, open_ = [mask_id], set()
        while stack:
            current = stack[-1]
            found = self._masks.get(current)
            if current in self._pictured or found is None:
                self._pictured.setdefault(current, False)
                stack.pop()
                continue
            used = [s.mask for s in found[1].shapes if isinstance(s, Use)]
            waiting = [u for u in used if u not in self._pictured and u not in open_]
            if current not in open_ and waiting:
                open_.add(current)
                stack.extend(waiting)
                continue
            self._pictured[current] = found[1].src is not None or any(self._pictured.get(u, False) for u in used)
            open_.discard(current)
            stack.pop()
        return self._pictured[mask_id]

    # ------------------------------------------------------------ making and holding

    def _get(self, key: Key, target: Optional[Target]) -> Crop:
        if key not in self._cache:
            # the masks it uses first, deepest first, with an explicit stack: a `use` chain of thousands of
            # masks then costs no Python recursion (each value below finds what it uses already made)
            try:
                for needed, needed_target in self._uses_first(key, target):
                    value = self._value(self._mask(needed[0]), needed_target)
                    value.data.setflags(write=False)
                    self._cache[needed] = value
                    self._held.bytes += value.nbytes
            except _OverBudget:  # the mask asked for is what makes the masks below it wait together
                raise SceneError(Problem(
                    self._place(self._mask_path(key[0])),
                    f"mask {key[0]!r} needs more than {amount(self._held.limit)} of masks at once on the "
                    f"{self.width}x{self.height} canvas (each mask it uses is kept until it is made): "
                    "use fewer large masks together, or a smaller canvas",
                )) from None
        return self._take(key)

    def _take(self, key: Key) -> Crop:
        """A made mask, for one of its uses: dropped after the last one `expect` announced."""
        value = self._cache[key]
        if self._demand is not None:
            left = self._demand.get(key, 0) - 1
            self._demand[key] = left
            if left <= 0:
                del self._cache[key]
                self._held.bytes -= value.nbytes
        return value

    def _uses_first(self, key: Key, target: Optional[Target]) -> list[tuple[Key, Optional[Target]]]:
        """`key` and every mask it reaches through `use` not made yet, each after the masks it uses."""
        order: list[tuple[Key, Optional[Target]]] = []
        ordered: set[Key] = set()
        on_path: set[Key] = set()
        stack: list[tuple[Key, Optional[Target], Optional[list]]] = [(key, target, None)]
        while stack:
            current, current_target, pending = stack[-1]
            if pending is None:
                mask = self._mask(current[0])
                on_path.add(current)
                made_elsewhere = self._plain is not None and mask.invert
                pending = [] if made_elsewhere else [self._key(s.mask, current_target) for s in mask.shapes if isinstance(s, Use)]
                stack[-1] = (current, current_target, pending)
            if pending:
                used, used_target = pending.pop(0)
                if used in on_path:
                    raise SceneError(Problem(self._place(self._mask_path(used[0])), f"mask {used[0]!r} uses itself (a `use` cycle)"))
                if used not in self._cache and used not in ordered:
                    stack.append((used, used_target, None))
                continue
            stack.pop()
            on_path.discard(current)
            order.append((current, current_target))
            ordered.add(current)
        return order

    def _value(self, mask: Mask, target: Optional[Target]) -> Crop:
        if self._plain is not None and mask.invert:
            # an inverted mask, and every mask that uses it, as if its pictures were thresholded
            return self._plain._get(*self._plain._key(mask.id, target))
        shape = (self.height, self.width)
        parts: list[Crop] = []
        if mask.src is not None:
            where = self._place(self._mask_path(mask.id) + ("src",))
            parts.append(Crop.of(self._picture(mask, where, target)[: self.height, : self.width], shape=shape))
        drawn = []
        for s in mask.shapes:
            if isinstance(s, Use):  # made already (`_uses_first`); made again only if a request nobody
                parts.append(self._get(*self._key(s.mask, target)))  # announced took it away meanwhile
            else:
                drawn.append(s)
        box = (0, 0, self.width, self.height) if mask.invert else union_box(
            [c.box for c in parts] + [shape_box(s, self.width, self.height) for s in drawn])
        if box is None:
            return Crop.empty(shape)
        x0, y0, x1, y1 = box
        self._check_budget((x1 - x0) * (y1 - y0))
        acc = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for c in parts:
            c.max_into(acc, (x0, y0))
        for s in drawn:
            rasterise_shape(s, self.width, self.height, out=acc, at=(x0, y0))
        if mask.invert:
            np.subtract(np.uint8(255), acc, out=acc)
        value = grow_crop(Crop(shape, x0, y0, acc), mask.grow)
        return feather_crop(value, mask.feather).trimmed()

    def _check_budget(self, more: int) -> None:
        if self._held.bytes + more > self._held.limit:
            raise _OverBudget()

    # ------------------------------------------------------------ pictures

    def _picture(self, mask: Mask, where: str, target: Optional[Target]) -> Array:
        """The mask's picture at the size of its target: grey values (`grey_pictures`) or thresholded."""
        assert mask.src is not None
        if self._load_picture is not None:
            values = self._load_picture(mask.src, where)
        else:
            path = self._resolve(mask.src, where)
            try:
                values = load_mask_values(path)
            except PictureError as exc:
                raise SceneError(Problem(where, str(exc))) from None
        height, width = values.shape
        if target is not None and (width, height) != target.size:
            if not same_proportions((width, height), target.size):
                tw, th = target.size
                raise SceneError(Problem(
                    where,
                    f"mask {mask.id!r} is a {width}x{height} picture and the image {target.image!r} it selects from "
                    f"is {tw}x{th}: a mask picture needs its image's size, or its proportions to be scaled to it",
                ))
            values = scale_mask_picture(values, target.size)
        return values if self._grey_pictures else binary(values)

    def _resolve(self, src: str, location: str) -> Path:
        origin = self.scene.origin
        if origin is None:
            raise SceneError(Problem(location, "the scene has no origin, so its pictures cannot be found"))
        return resolve_reference(origin, src, location)

    # ------------------------------------------------------------ locations

    def _place(self, path: tuple) -> str:
        from designedit.model.source import scene_place

        return scene_place(self.scene, path)

    def _mask_path(self, mask_id: str) -> tuple:
        found = self._masks.get(mask_id)
        return ("masks", found[0]) if found is not None else ("masks",)

    def _mask(self, mask_id: str) -> Mask:
        found = self._masks.get(mask_id)
        if found is None:
            raise SceneError(Problem(self._place(("masks",)), f"there is no mask {mask_id!r}"))
        return found[1]


class MaskGroup:
    """The masks of one region (the removals, the refines, the holes), folded as they come, so that none
    needs to be kept: their union at canvas size and, for the reference schedule (`render` given as
    (width, height)), the saturating sum of their bilinear resizes to the render size that
    `reference_latent` starts from (method 12). The union's pages are only touched where masks are."""

    def __init__(self, shape: tuple[int, int], render: Optional[tuple[int, int]] = None):
        self.shape = shape
        self.count = 0
        self._union: Optional[Array] = None
        self.resized = np.zeros((render[1], render[0]), np.uint8) if render is not None else None
        self._canvas: Optional[Array] = None  # one zero canvas each mask is resized from (then cleared)

    def add(self, mask: Crop) -> None:
        self.count += 1
        box = mask.box
        if box is None:
            return
        if self._union is None:
            self._union = np.zeros(self.shape, np.uint8)
        mask.max_into(self._union)
        if self.resized is not None:
            if self._canvas is None:
                self._canvas = np.zeros(self.shape, np.uint8)
            mask.max_into(self._canvas)
            rh, rw = self.resized.shape
            self.resized = cv2.add(self.resized, resize_linear(self._canvas, rw, rh))
            self._canvas[box[1] : box[3], box[0] : box[2]] = 0

    def union(self) -> Array:
        """Every mask added, at canvas size (zero when none selects anything)."""
        return self._union if self._union is not None else np.zeros(self.shape, np.uint8)


def union(masks: Iterable[Array], shape: tuple[int, int]) -> Array:
    out = np.zeros(shape, np.uint8)
    for m in masks:
        np.maximum(out, m, out=out)
    return out


# ---------------------------------------------------------------- to the latent grid


def scaled_radius(k_at_1024: float, long_side: int) -> int:
    """The radius of a centred dilation standing for a reference k-square (given for 1024 px) at another
    resolution: k/2 scaled, rounded up, so a small canvas keeps at least the reference's reach (a 64 px
    canvas would otherwise round a 20 px dilation away); 0 for no dilation."""
    if k_at_1024 <= 0:
        return 0
    return max(1, math.ceil(k_at_1024 / 2.0 * long_side / 1024.0 - 1e-9))


def dilate_anchored(mask: Array, k: int) -> Array:
    """k x k dilation with OpenCV's default anchor: p is set when any pixel in p-k//2 .. p+k-1-k//2 is."""
    if k <= 1:
        return mask.copy()
    return cv2.dilate(mask, square_kernel(k), anchor=(-1, -1), borderType=cv2.BORDER_CONSTANT, borderValue=0)


def downsample_topleft(mask: Array, scale: int) -> Array:
    """Latent cell (i, j) reads pixel (scale*i, scale*j) (OpenCV INTER_NEAREST / torch nearest)."""
    h, w = mask.shape[0] // scale, mask.shape[1] // scale
    return mask[: h * scale : scale, : w * scale : scale]


def resize_linear(mask: Array, width: int, height: int) -> Array:
    """OpenCV INTER_LINEAR (pixel centres at +0.5), a no-op at the same size."""
    if mask.shape == (height, width):
        return mask
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)


def reference_latent(masks: list[Array], k: int, render: tuple[int, int], scale: int) -> Array:
    """The authors' preprocessing (method 12): resize each to the render size bilinearly, add
    (saturating), dilate k x k with the OpenCV anchor, read the top-left pixel per cell, `> 0`.
    `render` is (width, height). Returns 0/1."""
    rw, rh = render
    acc = np.zeros((rh, rw), np.uint8)
    for m in masks:
        acc = cv2.add(acc, resize_linear(m, rw, rh))
    return reference_latent_of_sum(acc, k, scale)


def reference_latent_of_sum(acc: Array, k: int, scale: int) -> Array:
    """`reference_latent` from the sum of the resized masks (`MaskGroup.resized`). Returns 0/1."""
    if k > 1:
        acc = dilate_anchored(acc, k)
    return (downsample_topleft(acc, scale) > 0).astype(np.uint8)


def _cell_spans(start: int, stop: int, n_px: int, n_cells: int) -> tuple[Array, Array]:
    """For pixels start..stop-1 of n_px, the first and last of the n_cells cells each overlaps."""
    p = np.arange(start, stop, dtype=np.int64)
    lo = (p * n_cells) // n_px
    hi = -((-(p + 1) * n_cells) // n_px) - 1
    return lo, hi


def _or_into_cells(a: Array, idx: Array, n_cells: int, axis: int) -> Array:
    """OR the slices of `a` along `axis` that share a cell index (idx is non-decreasing)."""
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    reduced = np.maximum.reduceat(a, starts, axis=axis)
    shape = list(a.shape)
    shape[axis] = n_cells
    out = np.zeros(shape, a.dtype)
    if axis == 0:
        out[idx[starts]] = reduced
    else:
        out[:, idx[starts]] = reduced
    return out


def any_coverage(mask: Array, width: int, height: int, box: Optional[tuple[int, int, int, int]] = None) -> Array:
    """0/1 at (height, width): a cell is set when any set pixel of `mask` overlaps it (exact,
    computed around the set pixels only; `box` bounds them when already known)."""
    H, W = mask.shape
    if (H, W) == (height, width):
        return (mask > 0).astype(np.uint8)
    if height > H or width > W:  # cells smaller than pixels: area interpolation marks every overlap
        return (cv2.resize((mask > 0).astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    box = box or bbox(mask)
    if box is None:
        return np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = box
    return coverage_of_crop((mask[y0:y1, x0:x1] > 0).astype(np.uint8), x0, y0, (H, W), width, height)


def coverage_of_crop(crop: Array, x0: int, y0: int, shape: tuple[int, int], width: int, height: int) -> Array:
    """any_coverage of a canvas of `shape` that is zero outside `crop` (0/1, top-left at (x0, y0))."""
    H, W = shape
    out = np.zeros((height, width), np.uint8)
    ylo, yhi = _cell_spans(y0, y0 + crop.shape[0], H, height)
    xlo, xhi = _cell_spans(x0, x0 + crop.shape[1], W, width)
    rows = np.zeros((height, crop.shape[1]), np.uint8)
    for idx in (ylo, yhi):  # a pixel (smaller than a cell) overlaps at most its first and last cell
        np.maximum(rows, _or_into_cells(crop, idx, height, 0), out=rows)
    for idx in (xlo, xhi):
        np.maximum(out, _or_into_cells(rows, idx, width, 1), out=out)
    return out


def dilated_crop(mask: Array, box: tuple[int, int, int, int], r: int) -> tuple[Array, int, int]:
    """(crop, x0, y0): the >= 128 part of `mask` around its non-zero `box`, dilated by a centred (2r+1)-square."""
    x0, y0, x1, y1 = pad_box(box, r, mask.shape)
    crop = binary(mask[y0:y1, x0:x1])
    if r:
        crop = cv2.dilate(crop, square_kernel(2 * r + 1), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return crop, x0, y0


def fast_latent(masks: list[Array], k_at_1024: float, latent: tuple[int, int], box: Optional[tuple[int, int, int, int]] = None) -> Array:
    """The fast schedule's preprocessing: binarise the canvas masks (>= 128), dilate by a centred
    square scaled to the canvas (`scaled_radius`), then mark every latent cell that any set pixel touches. 0/1.
    With one mask and its non-zero `box`, only that neighbourhood is touched."""
    first = masks[0]
    r = scaled_radius(k_at_1024, max(first.shape))
    if len(masks) == 1 and first.shape[0] >= latent[1] and first.shape[1] >= latent[0]:
        box = box or bbox(first)
        if box is None:
            return np.zeros((latent[1], latent[0]), np.uint8)
        crop, x0, y0 = dilated_crop(first, box, r)
        return coverage_of_crop((crop > 0).astype(np.uint8), x0, y0, first.shape, *latent)
    acc = binary(union(masks, first.shape)) if len(masks) > 1 else binary(first)
    if r:
        acc = grow(acc, r)
    return any_coverage(acc, *latent)


def shift_latent(mask: Array, dx: int, dy: int) -> Array:
    """Move(M) of method 6: shift by whole cells, zero-filled."""
    return shift(mask, dx, dy)
