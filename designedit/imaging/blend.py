"""Pixel compositing shared by every renderer: layers over a picture, and paste-back.

Paste-back is part of the plan's contract (spec/plan.md): outside the edit
region the output is the source, exactly, whichever renderer made it.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np


def _bbox(mask: np.ndarray) -> Optional[tuple[slice, slice]]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def composite_over(picture: np.ndarray, image: np.ndarray, mask: np.ndarray) -> None:
    """picture := picture * (1 - a) + image * a, a = mask / 255, in place, only where the mask is set."""
    box = _bbox(mask)
    if box is None:
        return
    ys, xs = box
    a = mask[ys, xs].astype(np.float32) * (1.0 / 255.0)
    # OpenCV's weighted blend: the float formula, rounded, several times faster
    picture[ys, xs] = cv2.blendLinear(np.ascontiguousarray(image[ys, xs]), np.ascontiguousarray(picture[ys, xs]), a, 1.0 - a)


def paste_back(picture: np.ndarray, source: np.ndarray, edit: np.ndarray) -> np.ndarray:
    """picture * e + source * (1 - e), e = edit / 255: exact source pixels where e is 0."""
    out = np.ascontiguousarray(source, dtype=np.uint8).copy()
    composite_over(out, np.ascontiguousarray(picture, dtype=np.uint8), edit)
    return out
