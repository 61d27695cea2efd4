"""A layer's alpha without the surroundings its mask carries along.

A mask is usually drawn (or grown, `grow`) a little past its object, so the
layer carries a rim of the picture's own background with it; pasted
elsewhere, that rim shows as a ring of the old background (a light ring round
a sun moved up into a darker sky). A diffusion render harmonises it away; the
preview has no model, so it takes the rim out: within BAND px (at 1024 px) of
the mask's edge, a pixel that looks like the picture's background continued
under the mask (the mask's region inpainted from what is around it) is made
transparent, one that differs by more than HI levels is kept, with a linear
ramp between, which keeps anti-aliased edges soft; only pixels reached from
outside the mask through such pixels count. Deeper inside the mask nothing
changes.

Pictures with transparency are left as they are: their alpha already parts
the object from its surroundings, and what lies under it is no background.
"""

from __future__ import annotations

import cv2
import numpy as np

from designedit.imaging.geometry import bbox, scaled_kernel

from .inpaint import RING, push_pull

BAND = 16  # px at 1024 px: how far inside the mask's edge a rim may reach (a grow, a loose outline)
LO, HI = 10, 40  # levels: a pixel this close to the continued background is background; this far, object
GAP = 2  # px between the mask and the ring of surroundings read
PAD = 16  # px of the picture around the mask in which the background is continued


def matted_alpha(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`mask` (uint8, canvas size) times how much each pixel of `image` (the layer's picture in the same
    frame) differs from its surroundings continued under the mask, near the mask's edge."""
    box = bbox(mask, pad=PAD)
    if box is None:
        return mask
    x0, y0, x1, y1 = box
    crop, m = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    inside = m > 0
    if inside.all():  # no surroundings to continue
        return mask
    band = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3) <= scaled_kernel(BAND, max(mask.shape))
    band &= inside
    if not band.any():
        return mask
    # the picture's surroundings continued under the mask, read from a ring GAP px away from it: an object's
    # anti-aliased edge often spills a pixel past a tight mask, and would pass for surroundings
    near = cv2.dilate(inside.astype(np.uint8), _square(GAP)) > 0
    ring = (cv2.dilate(near.astype(np.uint8), _square(RING)) > 0) & ~near
    if not ring.any():
        return mask
    under = np.clip(push_pull(crop, near, ring) + 0.5, 0, 255)
    differs = np.abs(crop.astype(np.float32) - under.astype(np.float32)).max(axis=-1)
    keep = np.clip((differs - LO) / (HI - LO), 0.0, 1.0)
    # only a rim reached from outside the mask through background-like pixels: an object's inner part that
    # happens to match the background (white inside a dark outline) is no rim
    count, labels = cv2.connectedComponents(((keep < 1) & band | ~inside).astype(np.uint8), connectivity=8)
    reached = np.zeros(count, bool)
    reached[labels[~inside]] = True
    reached[0] = False  # the object pixels that differ
    band &= reached[labels]
    out = mask.copy()
    rim = out[y0:y1, x0:x1]
    rim[band] = (rim[band].astype(np.float32) * keep[band] + 0.5).astype(np.uint8)
    return out


def _square(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (2 * radius + 1,) * 2)
