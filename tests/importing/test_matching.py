"""Matching over the whole promised range, on the field photo of the fixtures: an object cut out of the
background, scaled 0.25x to 4x by OpenCV (cubic up, area down, as design programs resample), mirrored either
way, is found at the scale within 2% and the mirror; a drag is found to the pixel; a picture from elsewhere
is not found. (The comps made by real programs are in test_import_fixtures.py; these are made here so the
extremes of the range are covered.)"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from designedit.importing import read_comp
from designedit.importing.matching import find_in_background

from comps import DESIGN

BOY = (69, 11, 139, 167)  # x, y, width, height of his box in the field
BALL = (156, 148, 42, 30)


@pytest.fixture(scope="module")
def field():
    comp = read_comp(DESIGN / "move.psd")
    return comp.layers[0].rgba[..., :3].copy(), comp


def cut(background, box, alpha_from):
    """The background's pixels in `box`, with an elliptic alpha (the ball) or the boy's, taken from `alpha_from`."""
    x, y, w, h = box
    rgba = np.dstack([background[y : y + h, x : x + w], alpha_from(w, h)])
    return np.ascontiguousarray(rgba)


def ellipse(w, h):
    alpha = np.zeros((h, w), np.uint8)
    cv2.ellipse(alpha, (w // 2, h // 2), (w // 2 - 1, h // 2 - 1), 0, 0, 360, 255, -1)
    return alpha


def transformed(rgba, scale, flip):
    h, w = rgba.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = cv2.resize(rgba, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    if flip == "horizontal":
        out = out[:, ::-1]
    elif flip == "vertical":
        out = out[::-1]
    return np.ascontiguousarray(out), size[0] / w


CASES = [  # (which object, scale, flip)
    ("boy", 0.25, ""), ("boy", 0.4, "vertical"), ("boy", 0.7, "horizontal"), ("ball", 1.0, "vertical"),
    ("ball", 2.0, ""), ("ball", 3.0, "horizontal"), ("ball", 4.0, ""),
]


@pytest.mark.parametrize("which,scale,flip", CASES)
def test_scaled_and_mirrored_objects_are_found(field, which, scale, flip):
    background, comp = field
    if which == "boy":
        boy_alpha = _boy_alpha()
        rgba = cut(background, BOY, lambda w, h: boy_alpha)
    else:
        rgba = cut(background, BALL, ellipse)
    layer, true_scale = transformed(rgba, scale, flip)
    match = find_in_background(layer, background)
    assert match is not None and match.found, match
    assert abs(match.scale / true_scale - 1) < 0.02, (match.scale, true_scale)
    assert match.flip == flip


def _boy_alpha():
    """The boy's alpha as flip.psd holds it (GIMP's mirrored layer, mirrored back)."""
    flipped = read_comp(DESIGN / "flip.psd").layers[1].rgba[..., 3]
    return np.ascontiguousarray(flipped[:, ::-1])


def test_a_drag_is_found_to_the_pixel(field):
    background, _ = field
    rgba = cut(background, BALL, ellipse)
    match = find_in_background(rgba, background)
    assert match.found and match.scale == 1.0 and match.flip == "" and match.residual == 0
    assert match.matrix.tolist() == [[1.0, 0.0, BALL[0]], [0.0, 1.0, BALL[1]]]


def test_a_picture_from_elsewhere_is_not_found(field):
    background, _ = field
    sticker = read_comp(DESIGN / "full.psd")
    layer = next(l for l in sticker.layers if l.name == "sticker")
    match = find_in_background(layer.rgba, background)
    assert match is not None and not match.found
