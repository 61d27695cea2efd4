"""Bringing canvas masks to the latent grid, and folding a region's masks on the way (`MaskGroup`).

- `reference_latent`: the authors' preprocessing exactly (method 12): bilinear
  resize to the render size, saturating sum, OpenCV-anchored k x k dilation,
  top-left nearest downsampling, `> 0`.
- `fast_latent`: binarise, centred dilation at canvas size, then a latent cell
  is set when any canvas pixel it covers is set (area downsampling, `> 0`).
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Iterable, Optional

import cv2
import numpy as np

from designedit.masks.arrays import Array, bbox, binary, pad_box, shift, square_kernel, union
from designedit.masks.crops import Crop
from designedit.masks.morphology import grow


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

    def plus(self, masks: Iterable[Crop]) -> "MaskGroup":
        """A new group of this one's masks and `masks` (this one is left as it is; itself when `masks` is empty)."""
        more = iter(masks)
        first = next(more, None)
        if first is None:
            return self
        # `add` draws into the union in place, and replaces `resized`; the scratch canvas is zero between adds
        out = copy.copy(self)
        out._union = None if self._union is None else self._union.copy()
        for mask in itertools.chain([first], more):
            out.add(mask)
        return out

    def union(self) -> Array:
        """Every mask added, at canvas size (zero when none selects anything)."""
        return self._union if self._union is not None else np.zeros(self.shape, np.uint8)


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
