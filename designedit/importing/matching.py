"""Finding a layer's pixels in the background: the "copy the selection to a new layer, then drag it" comp.

Coarse to fine. (1) Coarse: the background is shrunk to at most 128 pixels a side and the layer's opaque
pixels are searched in it with masked normalised cross-correlation (OpenCV's matchTemplate) at 57 scales
from 1/4 to 4 (5% apart) and three orientations (as is, mirrored left-right, mirrored top-bottom). (2) The
best candidate of each orientation and octave of scale is searched again at up to 512 pixels a side, at scales 1% apart around each, in a
window around the coarse place. (3) Each is refined at full size by ECC (OpenCV's
findTransformECC, an affine map, sub-pixel), then snapped: a scale within 0.4% of 1 becomes exactly 1 and
the offset a whole number of pixels, re-searched among its neighbours by the residual. (4) The match is
verified by its residual (`Match.residual`): the mean absolute difference, over the layer's opaque pixels
(away from their edge), between the layer and the background brought to the layer by the match, in 0..255
levels of each channel (a shrunk layer also against the background shrunk by area; the closer counts). It is found when that
is at most `FOUND_LEVELS` and at most `FOUND_SHARE` of the
layer's own variation (the mean absolute deviation of its pixels from their mean), so that a flat patch of
colour is not "found" in any flat part of the background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import numpy as np

FOUND_LEVELS = 12.0  # mean absolute difference, 0..255, at most (exact copies: 0; resampled by a tool: 1-10)
FOUND_SHARE = 0.35  # ...and at most this share of the layer's own variation
MIN_OPAQUE = 24  # fewer opaque pixels than this: nothing to match (a speck is new artwork)
MIN_VARIATION = 3.0  # a layer this flat (mean absolute deviation, levels) is never "found"
SCALES = tuple(0.25 * 1.05**k for k in range(57))  # 0.25 .. 3.96, 5% apart (then refined)
FLIPS = ("", "horizontal", "vertical")
COARSE_SIDE, MIDDLE_SIDE = 128, 512
SNAP_SCALE = 0.004


@dataclass(frozen=True)
class Match:
    """Where a layer's pixels were found: layer pixel (u, v) (its own top-left corner at 0, 0) shows the
    background at `matrix @ (u, v, 1)`. `scale` is the layer's size over its source's (2: enlarged twice),
    `flip` '' / 'horizontal' / 'vertical', `residual` the verification's mean difference (levels)."""

    matrix: "np.ndarray"  # 2x3, layer -> background
    scale: float
    flip: str
    residual: float
    variation: float

    @property
    def found(self) -> bool:
        return self.residual <= FOUND_LEVELS and self.residual <= FOUND_SHARE * self.variation


def find_in_background(layer_rgba: "np.ndarray", background: "np.ndarray") -> Optional[Match]:
    """The best match of the layer's opaque pixels in `background` (RGB uint8), found or not; None when the
    layer has too few opaque pixels or too little variation to be matched at all."""
    import numpy as np

    alpha = layer_rgba[..., 3]
    solid = alpha >= 128
    if int(solid.sum()) < MIN_OPAQUE:
        return None
    rgb = layer_rgba[..., :3].astype(np.float32)
    variation = float(np.abs(rgb[solid] - rgb[solid].mean(axis=0)).mean())
    if variation < MIN_VARIATION:
        return None
    ys, xs = np.nonzero(solid)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    grey_layer = _grey(layer_rgba[..., :3])
    grey_bg = _grey(background)
    candidates = _coarse(grey_layer, solid, box, grey_bg)
    if not candidates:
        return None
    best: Optional[Match] = None
    for flip, scale, matrix in _middle(grey_layer, solid, box, grey_bg, candidates):
        match = _refine(layer_rgba, solid, background, grey_layer, grey_bg, flip, scale, matrix, variation)
        if best is None or match.residual < best.residual:
            best = match
    return best


def _grey(rgb: "np.ndarray") -> "np.ndarray":
    import numpy as np

    return (rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))


def _flipped(image: "np.ndarray", flip: str) -> "np.ndarray":
    if flip == "horizontal":
        return image[:, ::-1]
    if flip == "vertical":
        return image[::-1]
    return image


def _layer_to_bg(flip: str, scale: float, box: tuple[int, int, int, int], at: tuple[float, float]) -> "np.ndarray":
    """The map from layer pixels to background pixels when the layer's box, un-flipped and shrunk by `scale`,
    has its top-left corner at `at` in the background."""
    import numpy as np

    x0, y0, x1, y1 = box
    sx = -1.0 if flip == "horizontal" else 1.0
    sy = -1.0 if flip == "vertical" else 1.0
    # box corner (x0, y0) (or the far one when mirrored) lands on `at`
    ux = x1 - 1 if sx < 0 else x0
    uy = y1 - 1 if sy < 0 else y0
    return np.array([[sx / scale, 0.0, at[0] - sx * ux / scale], [0.0, sy / scale, at[1] - sy * uy / scale]])


def _template(grey_layer, solid, box, flip: str, size: tuple[int, int]):
    import cv2
    import numpy as np

    x0, y0, x1, y1 = box
    tpl = _flipped(grey_layer[y0:y1, x0:x1], flip)
    msk = _flipped(solid[y0:y1, x0:x1].astype(np.float32), flip)
    tpl = cv2.resize(np.ascontiguousarray(tpl), size, interpolation=cv2.INTER_AREA)
    msk = cv2.resize(np.ascontiguousarray(msk), size, interpolation=cv2.INTER_AREA)
    return tpl, (msk >= 0.5).astype(np.float32)


def _scores(bg, tpl, msk):
    """Masked normalised cross-correlation of `tpl` at every place in `bg` (NaN where undefined: flat)."""
    import cv2
    import numpy as np

    if msk.sum() < 8:
        return None
    res = cv2.matchTemplate(bg, tpl, cv2.TM_CCOEFF_NORMED, mask=msk)
    return np.nan_to_num(res, nan=-1.0, posinf=-1.0, neginf=-1.0)


def _coarse(grey_layer, solid, box, grey_bg):
    """Candidates (score, flip, scale, top-left in the background): the best of each flip and octave."""
    import cv2

    h, w = grey_bg.shape
    f = min(1.0, COARSE_SIDE / max(h, w))
    small = cv2.resize(grey_bg, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    bw, bh = box[2] - box[0], box[3] - box[1]
    found = []
    for flip in FLIPS:
        for scale in SCALES:
            tw, th = round(bw / scale * f), round(bh / scale * f)
            if tw < 4 or th < 4 or tw > small.shape[1] or th > small.shape[0]:
                continue
            tpl, msk = _template(grey_layer, solid, box, flip, (tw, th))
            res = _scores(small, tpl, msk)
            if res is None:
                continue
            _, score, _, loc = cv2.minMaxLoc(res)
            found.append((score, flip, scale, (loc[0] / f, loc[1] / f)))
    # the best of each orientation in each octave of scale (1/4-1/2, 1/2-1, 1-2, 2-4): a tiny template
    # correlates well almost anywhere, so the coarse scores of different scales are not compared; the
    # full-size residual decides between them
    best: dict = {}
    for item in found:
        band = (item[1], math.floor(math.log2(item[2]) + 1e-9))
        if band not in best or item[0] > best[band][0]:
            best[band] = item
    return sorted(best.values(), key=lambda item: -item[0])


def _middle(grey_layer, solid, box, grey_bg, candidates):
    """Each candidate searched again at up to MIDDLE_SIDE a side, at scales 1% apart within 6%, in a window
    around its coarse place: (flip, scale, layer -> background matrix), best first."""
    import cv2

    h, w = grey_bg.shape
    f = min(1.0, MIDDLE_SIDE / max(h, w))
    coarse_f = min(1.0, COARSE_SIDE / max(h, w))
    mid = cv2.resize(grey_bg, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA) if f < 1 else grey_bg
    bw, bh = box[2] - box[0], box[3] - box[1]
    slack = int(math.ceil(3 * f / coarse_f)) + 2
    out = []
    for _, flip, scale, at in candidates:
        best = None
        for k in range(-6, 7):
            s = scale * 1.01**k
            tw, th = round(bw / s * f), round(bh / s * f)
            if tw < 4 or th < 4:
                continue
            ax, ay = round(at[0] * f), round(at[1] * f)
            x0, y0 = max(0, ax - slack), max(0, ay - slack)
            x1, y1 = min(mid.shape[1], ax + tw + slack), min(mid.shape[0], ay + th + slack)
            if x1 - x0 < tw or y1 - y0 < th:
                continue
            tpl, msk = _template(grey_layer, solid, box, flip, (tw, th))
            res = _scores(mid[y0:y1, x0:x1], tpl, msk)
            if res is None:
                continue
            _, score, _, loc = cv2.minMaxLoc(res)
            if best is None or score > best[0]:
                best = (score, s, ((x0 + loc[0]) / f, (y0 + loc[1]) / f))
        if best is not None:
            out.append((best[0], flip, best[1], _layer_to_bg(flip, best[1], box, best[2])))
    out.sort(key=lambda item: -item[0])
    return [(flip, s, matrix) for _, flip, s, matrix in out]


def _refine(layer_rgba, solid, background, grey_layer, grey_bg, flip, scale, matrix, variation) -> Match:
    """ECC from the candidate, projected back onto scale + flip + translation, snapped, verified."""
    import cv2
    import numpy as np

    warp = _ecc(grey_layer, solid, grey_bg, matrix)
    sx = -1.0 if flip == "horizontal" else 1.0
    sy = -1.0 if flip == "vertical" else 1.0
    inverse_scale = (abs(warp[0, 0]) + abs(warp[1, 1])) / 2  # background pixels per layer pixel
    if not 0.2 < inverse_scale < 5:
        inverse_scale = 1.0 / scale
    scale = 1.0 / inverse_scale
    # keep where the layer's centre lands, with the cleaned-up linear part
    h, w = solid.shape
    centre = np.array([(w - 1) / 2, (h - 1) / 2, 1.0])
    lands = warp @ centre
    linear = np.diag([sx / scale, sy / scale])
    offset = lands - linear @ centre[:2]
    if abs(scale - 1.0) <= SNAP_SCALE:
        return _snapped(layer_rgba, solid, background, sx, sy, offset, flip, variation)
    clean = np.hstack([linear, offset[:, None]])
    return Match(clean, scale, flip, _residual(layer_rgba, solid, background, clean), variation)


def _ecc(grey_layer, solid, grey_bg, matrix):
    """ECC, sub-pixel, from the candidate `matrix` (layer -> background). OpenCV masks ECC's input image, so
    the roles are swapped: the background (cut to the candidate's neighbourhood) is ECC's template, the
    layer with its opaque pixels as mask its input, and the map found is inverted back. Where ECC does
    not converge, the candidate stands."""
    import cv2
    import numpy as np

    h, w = solid.shape
    corners = matrix @ np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], float).T
    margin = 8 + 0.1 * max(np.ptp(corners[0]), np.ptp(corners[1]))
    x0, y0 = (max(0, int(v - margin)) for v in corners.min(axis=1))
    x1 = min(grey_bg.shape[1], int(corners[0].max() + margin) + 1)
    y1 = min(grey_bg.shape[0], int(corners[1].max() + margin) + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return matrix
    inverse = cv2.invertAffineTransform(matrix)  # background -> layer
    inverse[:, 2] += inverse[:, :2] @ np.array([x0, y0], float)  # ...from the cut's own pixels
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-6)
    try:
        _, found = cv2.findTransformECC(np.ascontiguousarray(grey_bg[y0:y1, x0:x1]), grey_layer,
                                        inverse.astype(np.float32), cv2.MOTION_AFFINE, criteria,
                                        solid.astype(np.uint8), 1)
    except cv2.error:
        return matrix
    found = found.astype(np.float64)
    found[:, 2] -= found[:, :2] @ np.array([x0, y0], float)
    try:
        return cv2.invertAffineTransform(found)
    except cv2.error:
        return matrix


def _snapped(layer_rgba, solid, background, sx, sy, offset, flip, variation) -> Match:
    """Scale 1: the offset is whole pixels (a copy that was only dragged, or mirrored, is exact); the
    neighbours of the rounded offset are tried, the best residual wins."""
    import numpy as np

    best = None
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            m = np.array([[sx, 0.0, round(offset[0]) + dx], [0.0, sy, round(offset[1]) + dy]])
            r = _residual(layer_rgba, solid, background, m)
            if best is None or r < best[0]:
                best = (r, m)
    return Match(best[1], 1.0, flip, best[0], variation)


def _residual(layer_rgba, solid, background, matrix) -> float:
    """Mean absolute difference (levels) between the layer's opaque pixels, one pixel in from their edge,
    and the background brought to the layer by `matrix`; infinite when that falls outside the background."""
    import cv2
    import numpy as np

    h, w = solid.shape
    core = cv2.erode(solid.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if core.sum() < MIN_OPAQUE // 2:
        core = solid
    inside = cv2.warpAffine(np.ones(background.shape[:2], np.uint8), matrix, (w, h),
                            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0).astype(bool)
    if not inside[core].all():
        return math.inf
    pixels = layer_rgba[..., :3][core].astype(np.float32)
    samplings = [(background, matrix)]  # point-sampled (bilinear): how GIMP's cubic scaling compares best
    shrink = 1.0 / max(abs(matrix[0, 0]), abs(matrix[1, 1]))  # layer pixels per background pixel
    if shrink < 0.9:  # ...and shrunk by area first, as programs that prefilter shrink: the closer one counts
        H, W = background.shape[:2]
        small = cv2.resize(background, (max(1, round(W * shrink)), max(1, round(H * shrink))), interpolation=cv2.INTER_AREA)
        fx, fy = small.shape[1] / W, small.shape[0] / H
        scaled = matrix * np.array([[fx], [fy]])
        scaled[:, 2] += np.array([0.5 * fx - 0.5, 0.5 * fy - 0.5])  # pixel centres of the area resize
        samplings.append((small, scaled))
    best = math.inf
    for source, sampling in samplings:
        brought = cv2.warpAffine(source, sampling, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        best = min(best, float(np.abs(brought[core].astype(np.float32) - pixels).mean()))
    return best
