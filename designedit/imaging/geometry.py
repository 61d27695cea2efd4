"""Whole-pixel geometry the compiler and the renderers share: rounding, zoom rectangles, shifted pastes,
bounding boxes, and reference sizes scaled to a resolution."""

from __future__ import annotations

import math
from typing import Optional

import cv2
import numpy as np


def nearest(value: float) -> int:
    """The nearest whole number, halves away from zero (a move of -4 px goes as far as one of +4)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def whole_pixels(value: float, truncate: bool = False) -> int:
    """Rounded to the nearest pixel (`nearest`), or truncated toward zero as the authors' code does
    (`int(scale * W)`, the reference schedule's pan and zoom-out)."""
    return int(value) if truncate else nearest(value)


def zoom_rect(width: int, height: int, factor: float, truncate: bool = False) -> tuple[int, int, int, int]:
    """(x0, y0, w, h) of the frame shrunk by 1/factor about the centre (sizes by `whole_pixels`)."""
    w = max(1, whole_pixels(width / factor, truncate))
    h = max(1, whole_pixels(height / factor, truncate))
    return (width - w) // 2, (height - h) // 2, w, h


def shifted_paste(dst: np.ndarray, src: np.ndarray, dx: int, dy: int) -> None:
    """dst[y + dy, x + dx] = src[y, x] wherever both are inside."""
    h, w = src.shape[:2]
    if abs(dx) >= w or abs(dy) >= h:
        return
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    dst[yd, xd] = src[ys, xs]


def shift(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Translate an (h, w) or (h, w, c) array by whole pixels; what comes in from outside is zero."""
    out = np.zeros(mask.shape, mask.dtype)  # not zeros_like, which writes every page: untouched ones cost nothing
    shifted_paste(out, mask, dx, dy)
    return out


def bbox(mask: np.ndarray, pad: int = 0) -> Optional[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of the non-zero pixels grown by `pad`, clipped; None when empty."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return None
    H, W = mask.shape
    return max(0, x - pad), max(0, y - pad), min(W, x + w + pad), min(H, y + h + pad)


def scaled_kernel(k_at_1024: float, long_side: int) -> int:
    """A reference dilation size (given for 1024 px) at another resolution, at least 1."""
    return max(1, int(round(k_at_1024 * long_side / 1024.0)))
