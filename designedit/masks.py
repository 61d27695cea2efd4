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

from pathlib import Path
from typing import Callable, Iterable, Optional

import cv2
import numpy as np

from .errors import Problem, SceneError
from .model import Ellipse, Mask, Polygon, Rect, Scene, Use, resolve_length
from .paths import resolve_reference
from .pictures import PictureError, load_mask_picture

Array = np.ndarray


# ---------------------------------------------------------------- shapes


def _centres(lo: float, hi: float, extent: int) -> tuple[int, int]:
    """Index range [a, b) of pixels whose centres may lie in [lo, hi], clipped to the extent."""
    a = max(0, int(np.floor(lo - 0.5)))
    b = min(extent, int(np.ceil(hi + 0.5)))
    return a, max(a, b)


def rasterise_rect(x: float, y: float, w: float, h: float, width: int, height: int) -> Array:
    out = np.zeros((height, width), np.uint8)
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


def rasterise_ellipse(cx: float, cy: float, rx: float, ry: float, width: int, height: int) -> Array:
    out = np.zeros((height, width), np.uint8)
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return out
    c0, c1 = _centres(cx - rx, cx + rx, width)
    r0, r1 = _centres(cy - ry, cy + ry, height)
    if c1 <= c0 or r1 <= r0:
        return out
    xs = (np.arange(c0, c1) + 0.5 - cx) / rx
    ys = (np.arange(r0, r1) + 0.5 - cy) / ry
    inside = ys[:, None] ** 2 + xs[None, :] ** 2 <= 1.0
    out[r0:r1, c0:c1] = np.where(inside, 255, 0)
    return out


def rasterise_polygon(points: list[tuple[float, float]], width: int, height: int) -> Array:
    """Even-odd fill, sampled at pixel centres."""
    out = np.zeros((height, width), np.uint8)
    pts = np.asarray(points, dtype=np.float64)
    xs_p, ys_p = pts[:, 0], pts[:, 1]
    r0, r1 = _centres(ys_p.min(), ys_p.max(), height)
    c0, c1 = _centres(xs_p.min(), xs_p.max(), width)
    if r1 <= r0 or c1 <= c0:
        return out
    cy = np.arange(r0, r1) + 0.5  # rows' centre lines
    cx = np.arange(c0, c1) + 0.5
    ax, ay = xs_p, ys_p
    bx, by = np.roll(xs_p, -1), np.roll(ys_p, -1)
    inside = np.zeros((r1 - r0, c1 - c0), dtype=bool)
    for x_a, y_a, x_b, y_b in zip(ax, ay, bx, by):
        if y_a == y_b:
            continue
        # half-open rule: the edge counts for rows with min(y) <= c < max(y)
        lo, hi = min(y_a, y_b), max(y_a, y_b)
        rows = (cy >= lo) & (cy < hi)
        if not rows.any():
            continue
        x_cross = x_a + (cy[rows] - y_a) * (x_b - x_a) / (y_b - y_a)
        inside[rows] ^= cx[None, :] < x_cross[:, None]
    out[r0:r1, c0:c1] = np.where(inside, 255, 0)
    return out


def rasterise_shape(shape, width: int, height: int) -> Array:
    """A rect, ellipse or polygon (lengths resolved against the canvas) as a 0/255 mask."""
    X = lambda v: resolve_length(v, width)  # noqa: E731
    Y = lambda v: resolve_length(v, height)  # noqa: E731
    if isinstance(shape, Rect):
        return rasterise_rect(X(shape.x), Y(shape.y), X(shape.width), Y(shape.height), width, height)
    if isinstance(shape, Ellipse):
        return rasterise_ellipse(X(shape.cx), Y(shape.cy), X(shape.rx), Y(shape.ry), width, height)
    if isinstance(shape, Polygon):
        return rasterise_polygon([(X(px), Y(py)) for px, py in shape.points], width, height)
    raise TypeError(f"not a drawable shape: {shape!r}")


# ---------------------------------------------------------------- grow, feather, placing


def square_kernel(k: int) -> Array:
    return np.ones((k, k), np.uint8)


def grow(mask: Array, px: float) -> Array:
    """Centred square dilation by `px` pixels each way (negative erodes)."""
    r = int(round(abs(px)))
    if r == 0:
        return mask
    kernel = square_kernel(2 * r + 1)
    if px > 0:
        return cv2.dilate(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    # erosion treats outside the canvas as set, so masks touching the border stay there
    return cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=255)


def feather(mask: Array, px: float) -> Array:
    """A linear soft edge 2*px wide centred on the edge of the >= 128 shape.

    The value follows the signed distance to the edge, so `>= 128` gives back
    exactly the shape (corners included), unlike a blur.
    """
    if px <= 0:
        return mask
    inside = (mask >= 128).astype(np.uint8)
    if inside.all() or not inside.any():
        return inside * np.uint8(255)
    d_in = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_out = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    signed = np.where(inside > 0, d_in - 0.5, 0.5 - d_out)
    value = np.clip(0.5 + signed / (2.0 * px), 0.0, 1.0)
    return np.floor(value * 255.0 + 0.5).astype(np.uint8)


def shift(mask: Array, dx: int, dy: int) -> Array:
    """Translate by whole pixels; what comes in from outside is zero."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
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
    return np.where(mask >= 128, 255, 0).astype(np.uint8)


def centroid(mask: Array) -> Optional[tuple[float, float]]:
    """(x, y) in pixel-index coordinates (image moments of the values), or None when empty."""
    m = cv2.moments(mask, binaryImage=False)
    if m["m00"] == 0:
        return None
    return m["m10"] / m["m00"], m["m01"] / m["m00"]


# ---------------------------------------------------------------- scene masks


class MaskResolver:
    """Computes scene masks at canvas size, each once (`use` chains share the work)."""

    def __init__(self, scene: Scene, width: int, height: int, load_picture: Optional[Callable[[str, str], Array]] = None):
        self.scene = scene
        self.width = width
        self.height = height
        self._cache: dict[str, Array] = {}
        self._busy: set[str] = set()
        self._load_picture = load_picture or self._default_loader

    def _default_loader(self, src: str, location: str) -> Array:
        origin = self.scene.origin
        if origin is None:
            raise SceneError(Problem(location, "the scene has no origin, so mask pictures cannot be found"))
        path: Path = resolve_reference(origin, src, location)
        try:
            return load_mask_picture(path)
        except PictureError as exc:
            raise SceneError(Problem(location, str(exc))) from None

    def __call__(self, mask_id: str) -> Array:
        if mask_id in self._cache:
            return self._cache[mask_id]
        if mask_id in self._busy:
            raise SceneError(Problem(f"masks/{mask_id}", f"mask {mask_id!r} uses itself (a `use` cycle)"))
        try:
            mask = self.scene.mask(mask_id)
        except StopIteration:
            raise SceneError(Problem(f"masks/{mask_id}", f"there is no mask {mask_id!r}")) from None
        self._busy.add(mask_id)
        try:
            value = self._value(mask)
        finally:
            self._busy.discard(mask_id)
        value.setflags(write=False)
        self._cache[mask_id] = value
        return value

    def _value(self, mask: Mask) -> Array:
        w, h = self.width, self.height
        acc = np.zeros((h, w), np.uint8)
        if mask.src is not None:
            acc = place(self._load_picture(mask.src, f"masks/{mask.id}/src"), w, h)
        for shape in mask.shapes:
            part = self(shape.mask) if isinstance(shape, Use) else rasterise_shape(shape, w, h)
            np.maximum(acc, part, out=acc)
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


def dilate_anchored(mask: Array, k: int) -> Array:
    """k x k dilation with OpenCV's default anchor: p is set when any pixel in p-k//2 .. p+k-1-k//2 is."""
    if k <= 1:
        return mask.copy()
    return cv2.dilate(mask, square_kernel(k), anchor=(-1, -1), borderType=cv2.BORDER_CONSTANT, borderValue=0)


def dilate_centred(mask: Array, k: int) -> Array:
    """Dilation by a centred (2*(k//2)+1)-square: symmetric, unlike the reference anchor."""
    return grow(mask, k // 2)


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


def any_coverage(mask: Array, width: int, height: int) -> Array:
    """0/1 at (height, width): a cell is set when any set pixel of `mask` falls in it."""
    if mask.shape == (height, width):
        return (mask > 0).astype(np.uint8)
    h, w = mask.shape
    if h % height == 0 and w % width == 0:
        fy, fx = h // height, w // width
        return (mask.reshape(height, fy, width, fx).max(axis=(1, 3)) > 0).astype(np.uint8)
    # fractional cells: INTER_AREA averages every pixel a cell overlaps
    return (cv2.resize((mask > 0).astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)


def fast_latent(masks: list[Array], k_at_1024: float, latent: tuple[int, int]) -> Array:
    """The fast schedule's preprocessing: binarise the canvas masks (>= 128), dilate by a centred
    square scaled to the canvas, then mark every latent cell that any set pixel touches. 0/1."""
    first = masks[0]
    acc = union((binary(m) for m in masks), first.shape)
    if k_at_1024 > 0:
        acc = dilate_centred(acc, scaled_kernel(k_at_1024, max(first.shape)))
    return any_coverage(acc, *latent)


def shift_latent(mask: Array, dx: int, dy: int) -> Array:
    """Move(M) of method 6: shift by whole cells, zero-filled."""
    return shift(mask, dx, dy)
