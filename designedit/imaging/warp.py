"""Bilinear affine warps of masks, in our own arithmetic.

Masks are warped here rather than with `cv2.warpAffine`: OpenCV's warp works in
fixed point (coordinates quantised to 1/32 pixel) and its rounding changed
between releases (4.10 to 4.14 to 5.0 to 5.1), so the same scene gave other mask
digests, areas and even "shrinks to nothing" verdicts on another OpenCV. The
method does not need OpenCV here (the authors' arithmetic the reference
schedule reproduces is the mask resize to 1024 and the dilation, which stay
OpenCV's). This one is plain float64: the same bytes with any NumPy or OpenCV.

Semantics, as `cv2.warpAffine(..., INTER_LINEAR, BORDER_CONSTANT, 0)` defines
them: destination pixel (x, y) (pixel-index coordinates) reads the source at
`inverse(M) @ (x, y, 1)`, bilinearly from its four neighbours, zero outside;
the value is rounded half up.
"""

from __future__ import annotations

import numpy as np

# rows per chunk: bounds the float64 temporaries to a few tens of MB whatever the crop size
_CHUNK_PIXELS = 1 << 20


def inverse(matrix: np.ndarray) -> np.ndarray:
    """The 2x3 inverse of a 2x3 affine matrix."""
    a = np.asarray(matrix, dtype=np.float64).reshape(2, 3)
    inv = np.linalg.inv(a[:, :2])
    return np.hstack([inv, (-inv @ a[:, 2])[:, None]])


def _columns(inv: np.ndarray, ys: np.ndarray, box: tuple[int, int, int, int], width: int) -> tuple[int, int]:
    """The destination columns [lo, hi) where rows `ys` may read a set source pixel (one in `box`, x0 y0 x1 y1):
    elsewhere every sample is a pixel or more off the box and reads zeros. A superset (a pixel of margin)."""
    lo, hi = np.full(ys.shape, -np.inf), np.full(ys.shape, np.inf)
    x0, y0, x1, y1 = box
    for a, b, start, end in ((inv[0, 0], inv[0, 1] * ys + inv[0, 2], x0, x1), (inv[1, 0], inv[1, 1] * ys + inv[1, 2], y0, y1)):
        if a == 0:  # this source coordinate does not change along the row: all or nothing
            inside = (b > start - 1.0) & (b < end)
            lo = np.where(inside, lo, np.inf)
            continue
        e1, e2 = (start - 1.0 - b) / a, (end - b) / a
        lo, hi = np.maximum(lo, np.minimum(e1, e2)), np.minimum(hi, np.maximum(e1, e2))
    rows = lo < hi
    if not rows.any():
        return 0, 0
    return max(0, int(np.floor(lo[rows].min())) - 1), min(width, int(np.ceil(hi[rows].max())) + 2)


def warp_mask(src: np.ndarray, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """`src` (uint8, 2-D) warped by `matrix` (source -> destination) into a width x height frame."""
    inv = inverse(matrix)
    out = np.zeros((height, width), dtype=np.uint8)
    rows_set, cols_set = np.flatnonzero(src.any(axis=1)), np.flatnonzero(src.any(axis=0))
    if width <= 0 or height <= 0 or not len(rows_set):
        return out
    # only the source's non-zero box is read (its outside is zero anyway); coordinates stay the canvas's, so
    # the arithmetic is that of the whole picture, and indices are shifted once they are whole numbers
    bx, by = int(cols_set[0]), int(rows_set[0])
    src = src[by : int(rows_set[-1]) + 1, bx : int(cols_set[-1]) + 1]
    h, w = src.shape
    box = (bx, by, bx + w, by + h)
    # a zero border of one pixel makes every neighbour index valid after clipping
    padded = np.zeros((h + 2, w + 2), dtype=np.uint8)
    padded[1:-1, 1:-1] = src
    rows = max(1, _CHUNK_PIXELS // width)
    for top in range(0, height, rows):
        ys = np.arange(top, min(height, top + rows), dtype=np.float64)
        lo, hi = _columns(inv, ys, box, width)
        if hi <= lo:
            continue
        xs = np.arange(lo, hi, dtype=np.float64)
        ys = ys[:, None]
        sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
        sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
        # points a pixel or more off the box read only zeros: clip them there (also keeps indices finite)
        sx = np.clip(sx, bx - 1.0, float(bx + w))
        sy = np.clip(sy, by - 1.0, float(by + h))
        x0 = np.floor(sx)
        y0 = np.floor(sy)
        fx = sx - x0
        fy = sy - y0
        xi = x0.astype(np.int64) - (bx - 1)  # into the padded box
        yi = y0.astype(np.int64) - (by - 1)
        xj = np.minimum(xi + 1, w + 1)
        yj = np.minimum(yi + 1, h + 1)
        top_row = padded[yi, xi] * (1.0 - fx) + padded[yi, xj] * fx
        bottom_row = padded[yj, xi] * (1.0 - fx) + padded[yj, xj] * fx
        value = top_row * (1.0 - fy) + bottom_row * fy
        out[top : top + value.shape[0], lo:hi] = np.floor(value + 0.5).astype(np.uint8)
    return out


# OpenCV's warp crashes (SIGSEGV) when the inverse map sends destination pixels billions of pixels away, as a
# nearly singular matrix does; the compiler refuses folded scales below limits.MIN_SCALE (1e-4), and warps of
# 16384-pixel frames were seen safe down to 1e-5, so this guard only catches plans made by hand.
MIN_SINGULAR = 1e-5


def check_bounded(matrix: np.ndarray) -> None:
    """Raise ValueError for a 2x3 matrix that OpenCV cannot warp safely (not finite, or nearly singular)."""
    a = np.asarray(matrix, dtype=np.float64).reshape(2, 3)
    if not np.isfinite(a).all() or np.abs(a).max() > 1e6:
        raise ValueError("the affine matrix is not finite or too large to warp")
    if np.linalg.svd(a[:, :2], compute_uv=False).min() < MIN_SINGULAR:
        raise ValueError("the affine matrix shrinks a picture too far to warp")
