"""Classical hole filling for the preview.

Small holes (up to HOLE_BUDGET pixels) are filled with OpenCV's Telea method,
which keeps detail at their edges. Large holes get a push-pull (pyramid)
membrane fill instead: Telea's cost grows with the hole and it draws
cone-shaped streaks into large holes on gradients, the usual poster
background. Each level halves the picture, averaging only known pixels (weights carry how
much of a coarse pixel is known); going back up, every pixel keeps what is
known at its level and takes the rest from the smoother level below. Holes get
a smooth continuation of their surroundings (gradients stay gradients, with
none of the cone-shaped streaks that Telea draws into large holes), in linear
time. The mask's soft edge (values
between 0 and 255) blends the fill with the original pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

_EPS = 1e-6
HOLE_BUDGET = 16384  # hole pixels filled with Telea; larger holes get the membrane fill
TELEA_RADIUS = 3


def inpaint(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`image` (h, w, 3) uint8 with the pixels where `mask` > 0 filled in."""
    hole = mask > 0
    if not hole.any() or hole.all():  # nothing to fill, or nothing to fill from
        return image.copy()
    if np.count_nonzero(hole) <= HOLE_BUDGET:
        filled = cv2.inpaint(image, hole.astype(np.uint8), TELEA_RADIUS, cv2.INPAINT_TELEA).astype(np.float32)
    else:
        filled = push_pull(image, hole)
    m = mask.astype(np.float32)[..., None] * (1.0 / 255.0)
    out = filled * m + image.astype(np.float32) * (1.0 - m)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def push_pull(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Float32 (h, w, 3): `image` where known, a smooth fill in `hole`."""
    weight = (~hole).astype(np.float32)
    colour = image.astype(np.float32) * weight[..., None]
    levels = [(colour, weight)]
    # push: halve until every coarse pixel has some known content
    while weight.min() <= _EPS and min(weight.shape) > 1:
        size = (max(1, weight.shape[1] // 2), max(1, weight.shape[0] // 2))
        colour = cv2.resize(colour, size, interpolation=cv2.INTER_AREA)
        weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        levels.append((colour, weight))
    colour, weight = levels[-1]
    fill = colour / np.maximum(weight, _EPS)[..., None]
    # pull: each finer level keeps its known share and takes the rest from below
    for colour, weight in reversed(levels[:-1]):
        up = cv2.resize(fill, (weight.shape[1], weight.shape[0]), interpolation=cv2.INTER_LINEAR)
        known = np.clip(weight, 0.0, 1.0)[..., None]
        fill = colour / np.maximum(weight, _EPS)[..., None] * known + up * (1.0 - known)
    return fill
