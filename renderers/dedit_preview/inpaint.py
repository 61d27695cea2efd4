"""Classical hole filling for the preview.

Thin holes (strokes, text, scratches: no pixel farther than THIN_HOLE px from
the hole's edge) are filled with OpenCV's Telea method, which keeps detail at
their edges. Thick holes (an object's blob) get a membrane fill instead: Telea
draws cone-shaped streaks into them on gradients, the usual poster background
(a 130 px disc on a poster's gradient: errors up to 25 levels with Telea, 2
with the membrane), and its cost grows with the hole, so past HOLE_BUDGET
thin-hole pixels the membrane fills those too.

The membrane is a push-pull pyramid with relaxation: each level halves the
picture, averaging only known pixels; going back up, a pixel that knows
anything keeps that, the rest start from the coarser level and are relaxed by
Jacobi sweeps of Laplace's equation (a multigrid solve), so a gradient is
continued as a gradient, in linear time. Holes are filled region by region
(holes closer than 2 MARGIN px form one region), each in its bounding box plus
MARGIN px of surroundings. The mask's soft edge (values between 0 and 255)
blends the fill with the original pixels.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

_EPS = 1e-6
HOLE_BUDGET = 16384  # thin-hole pixels filled with Telea; past this every hole gets the membrane fill
THIN_HOLE = 8  # px: a hole part whose pixels are all this close to its edge is thin
TELEA_RADIUS = 3
COARSE_SWEEPS, FINE_SWEEPS = 8, 1  # relaxation sweeps per pyramid level in the membrane fill
MARGIN = 16  # px of surroundings around a region's holes that its fills read
RING = 3  # px of known pixels around the holes that the membrane keeps (its boundary values)


def inpaint(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`image` (h, w, 3) uint8 with the pixels where `mask` > 0 filled in."""
    hole = mask > 0
    if not hole.any() or hole.all():  # nothing to fill, or nothing to fill from
        return image.copy()
    out = image.copy()
    # both fills read only a hole's surroundings: holes within 2 MARGIN px of each other form one region,
    # filled in its bounding box (which reaches MARGIN px past its holes); far-apart holes never make
    # one box of the whole picture
    near = cv2.dilate(hole.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (2 * MARGIN + 1,) * 2))
    count, labels, boxes, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
    for region in range(1, count):
        x, y, w, h = boxes[region, :4]
        box = (slice(y, y + h), slice(x, x + w))
        # other regions' holes inside this box count as holes too (never read), but are written by their own
        filled = _fill(image[box], mask[box], hole[box])
        np.copyto(out[box], filled, where=(labels[box] == region)[..., None])
    return out


def _fill(image: np.ndarray, mask: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """One region's picture with its holes filled (thick parts by the membrane, thin ones by Telea)."""
    thick = _thick_parts(hole)
    thin = hole & ~thick
    if np.count_nonzero(thin) > HOLE_BUDGET:
        thick, thin = hole, np.zeros_like(hole)
    if thick.any():
        # the membrane reads only a thin ring of known pixels around the holes: that ring is the boundary its
        # solution depends on, and what lies beyond it (the sky above a title on sand) would only leak into
        # the coarse levels' first guess and tint the fill where the sweeps do not carry the ring's values
        ring = cv2.dilate(hole.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (2 * RING + 1,) * 2)) > 0
        filled = push_pull(image, hole, ring & ~hole)
        np.copyto(filled, image, where=~hole[..., None], casting="unsafe")  # Telea reads the real surroundings
    else:
        filled = image.astype(np.float32)
    if thin.any():
        # Telea reads the pixels around its holes: the thick ones are filled by now
        base = np.clip(filled + 0.5, 0, 255).astype(np.uint8)
        telea = cv2.inpaint(base, thin.astype(np.uint8), TELEA_RADIUS, cv2.INPAINT_TELEA)
        np.copyto(filled, telea, where=thin[..., None], casting="unsafe")
    # the mask's soft edge blends the fill with the original: out = image + (fill - image) * m
    out = image.astype(np.float32)
    filled -= out
    filled *= mask.astype(np.float32)[..., None] * (1.0 / 255.0)
    out += filled + 0.5
    return np.clip(out, 0, 255).astype(np.uint8)


def _thick_parts(hole: np.ndarray) -> np.ndarray:
    """The connected parts of `hole` with a pixel farther than THIN_HOLE from every known pixel."""
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    core = depth > THIN_HOLE
    if not core.any():
        return np.zeros_like(hole)
    count, labels = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)
    thick = np.zeros(count, bool)
    thick[labels[core]] = True
    thick[0] = False  # known pixels
    return thick[labels]


def push_pull(image: np.ndarray, hole: np.ndarray, known: Optional[np.ndarray] = None) -> np.ndarray:
    """Float32 (h, w, 3): `image` where `known` (default: outside `hole`), a smooth fill elsewhere."""
    weight = (~hole if known is None else known).astype(np.float32)
    colour = image.astype(np.float32)
    colour *= weight[..., None]
    levels = [(colour, weight)]
    # push: halve (each side down to one pixel) until every coarse pixel has some known content
    while weight.min() <= _EPS and max(weight.shape) > 1:
        size = (max(1, weight.shape[1] // 2), max(1, weight.shape[0] // 2))
        colour = cv2.resize(colour, size, interpolation=cv2.INTER_AREA)
        weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        levels.append((colour, weight))
    colour, weight = levels[-1]
    fill = colour / np.maximum(weight, _EPS)[..., None]
    # pull: each finer level starts from the coarser one, keeps the mean of what it knows wherever it
    # knows anything (held loosely instead, a band of partly known pixels would drift towards the hole's
    # mean), and relaxes the rest towards the mean of its 3x3 neighbourhood: Jacobi sweeps of Laplace's
    # equation, which with the pyramid make a multigrid membrane, so a gradient is continued as a
    # gradient. Coarse levels are small, so they get many sweeps; the two finest, where a sweep costs
    # most, one.
    for level in range(len(levels) - 2, -1, -1):
        colour, weight = levels[level]
        fill = cv2.resize(fill, (weight.shape[1], weight.shape[0]), interpolation=cv2.INTER_LINEAR)
        pinned = (weight > _EPS)[..., None]
        known = colour if level == 0 else colour / np.maximum(weight, _EPS)[..., None]  # level 0: 0 or 1
        np.copyto(fill, known, where=pinned)
        for _ in range(FINE_SWEEPS if level < 2 else COARSE_SWEEPS):
            fill = cv2.blur(fill, (3, 3), borderType=cv2.BORDER_REPLICATE)
            np.copyto(fill, known, where=pinned)
    return fill
