"""Grow (centred square dilation; negative erodes) and feather (a linear soft edge), on whole masks or crops."""

from __future__ import annotations

import cv2
import numpy as np

from designedit.masks.arrays import Array, binary, pad_box, square_kernel
from designedit.masks.crops import Crop


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
