"""Masks: rasterising scene masks at canvas size, and the method's mask preprocessing.

Every mask is a (height, width) uint8 array, 0..255. Binary decisions
(centroid, cut, latent masks) use >= 128.

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
from typing import Callable, Iterable, Optional

import cv2
import numpy as np

from .errors import Problem, SceneError
from .images import shifted_paste
from .model import Ellipse, Mask, Polygon, Rect, Scene, Use, resolve_length
from .paths import resolve_reference
from .pictures import PictureError, load_mask_picture, load_mask_values

Array = np.ndarray


# ---------------------------------------------------------------- shapes


def _centres(lo: float, hi: float, extent: int) -> tuple[int, int]:
    """Index range [a, b) of pixels whose centres may lie in [lo, hi], clipped to the extent."""
    a = max(0, int(np.floor(lo - 0.5)))
    b = min(extent, int(np.ceil(hi + 0.5)))
    return a, max(a, b)


def _target(out: Optional[Array], width: int, height: int) -> Array:
    return np.zeros((height, width), np.uint8) if out is None else out


def _max_into(out: Array, r0: int, r1: int, c0: int, c1: int, inside: Array) -> None:
    region = out[r0:r1, c0:c1]
    np.maximum(region, np.where(inside, np.uint8(255), np.uint8(0)), out=region)


def rasterise_rect(x: float, y: float, w: float, h: float, width: int, height: int, out: Optional[Array] = None) -> Array:
    """Pixels whose centres are inside; drawn (max) into `out` when given."""
    out = _target(out, width, height)
    x0, x1 = sorted((x, x + w))
    y0, y1 = sorted((y, y + h))
    # pixel centre c = i + 0.5 is inside when x0 <= c < x1
    c0 = max(0, int(np.ceil(x0 - 0.5)))
    c1 = min(width, int(np.ceil(x1 - 0.5)))
    r0 = max(0, int(np.ceil(y0 - 0.5)))
    r1 = min(height, int(np.ceil(y1 - 0.5)))
    if c1 > c0 and r1 > r0:
        out[r0:r1, c0:c1] = 255
    return out


def rasterise_ellipse(cx: float, cy: float, rx: float, ry: float, width: int, height: int, out: Optional[Array] = None) -> Array:
    out = _target(out, width, height)
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return out
    c0, c1 = _centres(cx - rx, cx + rx, width)
    r0, r1 = _centres(cy - ry, cy + ry, height)
    if c1 <= c0 or r1 <= r0:
        return out
    with np.errstate(over="ignore"):  # a sliver-thin ellipse squares to inf far from its axis: outside, as it should
        xs = (np.arange(c0, c1) + 0.5 - cx) / rx
        ys = (np.arange(r0, r1) + 0.5 - cy) / ry
        _max_into(out, r0, r1, c0, c1, ys[:, None] ** 2 + xs[None, :] ** 2 <= 1.0)
    return out


_CROSSINGS_PER_CHUNK = 1 << 22  # edge-row crossings handled at once: bounds the temporary arrays


def rasterise_polygon(points: list[tuple[float, float]], width: int, height: int, out: Optional[Array] = None) -> Array:
    """Even-odd fill, sampled at pixel centres.

    A pixel is inside when an odd number of edges cross its row to the right of its centre. Each crossing is
    computed once (the row's centre line against the edge, half-open in y) and toggles a parity count at the
    number of centres left of it; a running XOR from the right then fills each row. The work is the number of
    crossings plus the box, however many edges there are (a loop over edges repainted every row for each)."""
    out = _target(out, width, height)
    pts = np.asarray(points, dtype=np.float64)
    xs_p, ys_p = pts[:, 0], pts[:, 1]
    r0, r1 = _centres(ys_p.min(), ys_p.max(), height)
    c0, c1 = _centres(xs_p.min(), xs_p.max(), width)
    if r1 <= r0 or c1 <= c0:
        return out
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
    _max_into(out, r0, r1, c0, c1, inside)
    return out


def rasterise_shape(shape, width: int, height: int, out: Optional[Array] = None) -> Array:
    """A rect, ellipse or polygon (lengths resolved against the canvas) as a 0/255 mask,
    drawn (max) into `out` when given."""
    X = lambda v: resolve_length(v, width)  # noqa: E731
    Y = lambda v: resolve_length(v, height)  # noqa: E731
    if isinstance(shape, Rect):
        return rasterise_rect(X(shape.x), Y(shape.y), X(shape.width), Y(shape.height), width, height, out)
    if isinstance(shape, Ellipse):
        return rasterise_ellipse(X(shape.cx), Y(shape.cy), X(shape.rx), Y(shape.ry), width, height, out)
    if isinstance(shape, Polygon):
        return rasterise_polygon([(X(px), Y(py)) for px, py in shape.points], width, height, out)
    raise TypeError(f"not a drawable shape: {shape!r}")


# ---------------------------------------------------------------- grow, feather, placing


def square_kernel(k: int) -> Array:
    return np.ones((k, k), np.uint8)


SMALL_RADIUS = 32  # up to here OpenCV's square kernel is fastest
LINE_RADIUS = 1536  # up to here two 1-D OpenCV passes are; beyond, the running extrema (cost independent of r)


def grow(mask: Array, px: float) -> Array:
    """Centred square dilation by `px` pixels each way (negative erodes).

    A radius past the canvas's long side changes nothing more, so it is clamped there. The square is
    separable: mid-size radii run as a row pass then a column pass of OpenCV, large ones as two
    one-dimensional running extrema (`_running_extreme`), whose cost does not depend on the radius
    (measured on a 4096x4096 mask: the switch-over points above)."""
    r = min(int(round(min(abs(px), 1e9))), max(mask.shape))
    if r == 0:
        return mask
    if px > 0:  # only the neighbourhood of the set pixels can change
        return in_box(mask, r, lambda a: _square(a, r, cv2.dilate, np.maximum, 0))
    # erosion treats outside the canvas as set, so masks touching the border stay there
    return _square(mask, r, cv2.erode, np.minimum, 255)


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
    """A linear soft edge 2*px wide centred on the edge of the >= 128 shape.

    The value follows the signed distance to the edge, so `>= 128` gives back
    exactly the shape (corners included), unlike a blur.
    """
    if px <= 0:
        return mask
    if mask.min() == 0:  # the ramp reaches px outside the shape: work in that neighbourhood only
        return in_box(binary(mask), int(np.ceil(px)) + 2, lambda a: _feather_all(a, px))
    return _feather_all(mask, px)


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


def shift(mask: Array, dx: int, dy: int) -> Array:
    """Translate an (h, w) or (h, w, c) array by whole pixels; what comes in from outside is zero."""
    out = np.zeros_like(mask)
    shifted_paste(out, mask, dx, dy)
    return out


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
    return cv2.threshold(mask, 127, 255, cv2.THRESH_BINARY)[1]


def bbox(mask: Array, pad: int = 0) -> Optional[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of the non-zero pixels grown by `pad`, clipped; None when empty."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return None
    H, W = mask.shape
    return max(0, x - pad), max(0, y - pad), min(W, x + w + pad), min(H, y + h + pad)


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


def in_box(mask: Array, pad: int, fn: Callable[[Array], Array]) -> Array:
    """Apply a local operation (reaching at most `pad` pixels) only around the non-zero pixels."""
    box = bbox(mask, pad)
    out = np.zeros_like(mask)
    if box is None:
        return out
    x0, y0, x1, y1 = box
    out[y0:y1, x0:x1] = fn(mask[y0:y1, x0:x1])
    return out


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


class MaskResolver:
    """Computes scene masks at canvas size, each once (`use` chains share the work).

    `grey_pictures` (the reference schedule): a mask picture that is not inverted keeps its grey values
    instead of being thresholded at one half, as the authors' preprocessing reads mask pictures
    (method 12: resized, dilated, then `> 0`, so a grey edge or JPEG ringing selects its cells). An
    inverted mask is computed from thresholded pictures, as `plain` (the drawn masks' resolver) computes
    it: inverted, faint noise would select nearly everything."""

    def __init__(self, scene: Scene, width: int, height: int, load_picture: Optional[Callable[[str, str], Array]] = None,
                 grey_pictures: bool = False, plain: Optional["MaskResolver"] = None):
        self.scene = scene
        self.width = width
        self.height = height
        self._cache: dict[str, Array] = {}
        # by id, once: thousands of masks are looked up in constant time (the first of an id wins, as the
        # reader refused duplicates already)
        self._masks: dict[str, tuple[int, Mask]] = {}
        for index, mask in enumerate(scene.masks):
            self._masks.setdefault(mask.id, (index, mask))
        self._load_picture = load_picture or self._default_loader
        self._grey_pictures = grey_pictures and load_picture is None
        # the thresholded resolver an inverted mask is computed with (grey_pictures only)
        self._plain = (plain or MaskResolver(scene, width, height)) if self._grey_pictures else None

    def _place(self, path: tuple) -> str:
        from .io.source import scene_place

        return scene_place(self.scene, path)

    def _mask_path(self, mask_id: str) -> tuple:
        found = self._masks.get(mask_id)
        return ("masks", found[0]) if found is not None else ("masks",)

    def _mask(self, mask_id: str) -> Mask:
        found = self._masks.get(mask_id)
        if found is None:
            raise SceneError(Problem(self._place(("masks",)), f"there is no mask {mask_id!r}"))
        return found[1]

    def _default_loader(self, src: str, location: str, grey: bool = False) -> Array:
        origin = self.scene.origin
        if origin is None:
            raise SceneError(Problem(location, "the scene has no origin, so mask pictures cannot be found"))
        path: Path = resolve_reference(origin, src, location)
        try:
            return load_mask_values(path) if grey else load_mask_picture(path)
        except PictureError as exc:
            raise SceneError(Problem(location, str(exc))) from None

    def __call__(self, mask_id: str) -> Array:
        if mask_id not in self._cache:
            # the masks it uses first, deepest first, with an explicit stack: a `use` chain of thousands of
            # masks then costs no Python recursion (each value below finds what it uses already made)
            for needed in self._uses_first(mask_id):
                value = self._value(self._mask(needed))
                value.setflags(write=False)
                self._cache[needed] = value
        return self._cache[mask_id]

    def _uses_first(self, mask_id: str) -> list[str]:
        """`mask_id` and every mask it reaches through `use` not made yet, each after the masks it uses."""
        order: list[str] = []
        ordered: set[str] = set()
        on_path: set[str] = set()
        stack = [(mask_id, None)]
        while stack:
            current, pending = stack[-1]
            if pending is None:
                mask = self._mask(current)
                on_path.add(current)
                pending = [s.mask for s in mask.shapes if isinstance(s, Use)]
                stack[-1] = (current, pending)
            if pending:
                used = pending.pop(0)
                if used in on_path:
                    raise SceneError(Problem(self._place(self._mask_path(used)), f"mask {used!r} uses itself (a `use` cycle)"))
                if used not in self._cache and used not in ordered:
                    stack.append((used, None))
                continue
            stack.pop()
            on_path.discard(current)
            order.append(current)
            ordered.add(current)
        return order

    def _value(self, mask: Mask) -> Array:
        if self._plain is not None and mask.invert:
            # an inverted mask, and every mask that uses it, as if its pictures were thresholded
            return self._plain(mask.id)
        w, h = self.width, self.height
        acc = np.zeros((h, w), np.uint8)
        if mask.src is not None:
            where = self._place(self._mask_path(mask.id) + ("src",))
            if self._grey_pictures:
                picture = self._default_loader(mask.src, where, grey=True)
            else:
                picture = self._load_picture(mask.src, where)
            acc = place(picture, w, h)
        for shape in mask.shapes:
            if isinstance(shape, Use):
                np.maximum(acc, self(shape.mask), out=acc)
            else:
                rasterise_shape(shape, w, h, out=acc)
        if mask.invert:
            acc = 255 - acc
        acc = grow(acc, mask.grow)
        return feather(acc, mask.feather)


def union(masks: Iterable[Array], shape: tuple[int, int]) -> Array:
    out = np.zeros(shape, np.uint8)
    for m in masks:
        np.maximum(out, m, out=out)
    return out


# ---------------------------------------------------------------- to the latent grid


def scaled_kernel(k_at_1024: float, long_side: int) -> int:
    """A reference dilation size (given for 1024 px) at another resolution, at least 1."""
    return max(1, int(round(k_at_1024 * long_side / 1024.0)))


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
