"""Plain mask arrays: (height, width) uint8, 0..255, with >= 128 as the binary threshold; boxes around
their pixels, thresholding, placing, shifting and pasting."""

from __future__ import annotations

from typing import Iterable, Optional

import cv2
import numpy as np

from designedit.imaging.geometry import shifted_paste

Array = np.ndarray
Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) in canvas pixels, end exclusive


def square_kernel(k: int) -> Array:
    return np.ones((k, k), np.uint8)


def shift(mask: Array, dx: int, dy: int) -> Array:
    """Translate an (h, w) or (h, w, c) array by whole pixels; what comes in from outside is zero."""
    out = np.zeros(mask.shape, mask.dtype)  # not zeros_like, which writes every page: untouched ones cost nothing
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
    if mask.size == 0:  # an empty crop: OpenCV 4 answers None for it (5 an empty array)
        return mask.copy()
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


def union_box(boxes: Iterable[Optional[Box]]) -> Optional[Box]:
    """The smallest box holding every given box (None ones are empty); None when all are."""
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    return min(b[0] for b in present), min(b[1] for b in present), max(b[2] for b in present), max(b[3] for b in present)


def union(masks: Iterable[Array], shape: tuple[int, int]) -> Array:
    out = np.zeros(shape, np.uint8)
    for m in masks:
        np.maximum(out, m, out=out)
    return out
