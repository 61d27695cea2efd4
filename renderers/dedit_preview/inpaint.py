"""Classical hole filling for the preview.

Thin holes (strokes, text, scratches: no pixel farther than THIN_HOLE px from
the hole's edge) are filled with OpenCV's Telea method, which keeps detail at
their edges. Thick holes (an object's blob) get a push-pull (pyramid)
membrane fill instead: Telea draws cone-shaped streaks into them on
gradients, the usual poster background (a 130 px disc on a poster's gradient:
errors up to 25 levels with Telea, 5 with the membrane), and its cost grows
with the hole, so past HOLE_BUDGET thin-hole pixels the membrane fills those
too. Each level halves the picture, averaging only known pixels (weights carry how
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
HOLE_BUDGET = 16384  # thin-hole pixels filled with Telea; past this every hole gets the membrane fill
THIN_HOLE = 8  # px: a hole part whose pixels are all this close to its edge is thin
TELEA_RADIUS = 3
COARSE_SWEEPS, FINE_SWEEPS = 8, 1  # relaxation sweeps per pyramid level in the membrane fill
MARGIN = 16  # px of known surroundings around the hole's bounding box that the fills read


def inpaint(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`image` (h, w, 3) uint8 with the pixels where `mask` > 0 filled in."""
    hole = mask > 0
    if not hole.any() or hole.all():  # nothing to fill, or nothing to fill from
        return image.copy()
    # both fills read only the hole's surroundings: work in its bounding box and a margin
    x, y, w, h = cv2.boundingRect(hole.astype(np.uint8))
    y0, x0 = max(0, y - MARGIN), max(0, x - MARGIN)
    y1, x1 = min(hole.shape[0], y + h + MARGIN), min(hole.shape[1], x + w + MARGIN)
    out = image.copy()
    out[y0:y1, x0:x1] = _fill(image[y0:y1, x0:x1], mask[y0:y1, x0:x1], hole[y0:y1, x0:x1])
    return out


def _fill(image: np.ndarray, mask: np.ndarray, hole: np.ndarray) -> np.ndarray:
    if hole.all():  # the margin is the picture's edge all round: nothing known nearby either
        return image
    thick = _thick_parts(hole)
    thin = hole & ~thick
    if np.count_nonzero(thin) > HOLE_BUDGET:
        thick, thin = hole, np.zeros_like(hole)
    filled = image.astype(np.float32)
    if thick.any():
        # the membrane reads no pixel of any hole, thin ones included
        filled[thick] = push_pull(image, hole)[thick]
    if thin.any():
        # Telea reads the pixels around its holes: the thick ones are filled by now
        base = np.clip(filled + 0.5, 0, 255).astype(np.uint8)
        filled[thin] = cv2.inpaint(base, thin.astype(np.uint8), TELEA_RADIUS, cv2.INPAINT_TELEA)[thin]
    m = mask.astype(np.float32)[..., None] * (1.0 / 255.0)
    out = filled * m + image.astype(np.float32) * (1.0 - m)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _thick_parts(hole: np.ndarray) -> np.ndarray:
    """The connected parts of `hole` with a pixel farther than THIN_HOLE from every known pixel."""
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    core = depth > THIN_HOLE
    if not core.any():
        return np.zeros_like(hole)
    _, labels = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)
    return np.isin(labels, np.unique(labels[core]))


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
    # pull: each finer level keeps its known share and takes the rest from below, then relaxes that
    # rest towards the mean of its 3x3 neighbourhood (Jacobi sweeps of Laplace's equation: with the
    # pyramid, a multigrid membrane, so a gradient is continued as a gradient). Coarse levels are small,
    # so they get many sweeps; the two finest, where each sweep costs most, one.
    for level in range(len(levels) - 2, -1, -1):
        colour, weight = levels[level]
        up = cv2.resize(fill, (weight.shape[1], weight.shape[0]), interpolation=cv2.INTER_LINEAR)
        known = np.clip(weight, 0.0, 1.0)[..., None]
        data = colour / np.maximum(weight, _EPS)[..., None] * known
        fill = data + up * (1.0 - known)
        for _ in range(FINE_SWEEPS if level < 2 else COARSE_SWEEPS):
            fill = data + cv2.blur(fill, (3, 3), borderType=cv2.BORDER_REPLICATE) * (1.0 - known)
    return fill
