"""The overlays' geometry, measured: the outlines trace their masks, and a layer's landed outline is its cut
outline moved by the translation the plan achieved."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

import render_fixtures as fx
from designedit.compiler import resolve_options
from designedit.compiler.lowering import lower
from designedit.io import load
from designedit.studio.overlays import outline, overlays_of
from studio_process import write_scene


def raster(path_data: str, shape: tuple[int, int]) -> np.ndarray:
    """The path filled even-odd, at pixel resolution (its points are pixel centres + 0.5)."""
    out = np.zeros(shape, np.uint8)
    rings = []
    for ring in re.findall(r"M([^Z]*)Z", path_data):
        if "h" in ring:  # a lone pixel's square
            x, y = (int(v) for v in ring.split("h")[0].split())
            rings.append(np.array([[x, y]], np.int32))
            continue
        points = [tuple(float(v) - 0.5 for v in p.split()) for p in ring.split("L")]
        rings.append(np.array(points, np.int32))
    for ring in rings:  # holes come as rings of their own: xor gives even-odd
        one = np.zeros(shape, np.uint8)
        cv2.fillPoly(one, [ring], 1)
        cv2.polylines(one, [ring], True, 1)
        out ^= one
    return out


@pytest.mark.parametrize("shape", ["disk", "ring", "two boxes", "one pixel"])
def test_an_outline_traces_its_mask(shape):
    mask = np.zeros((60, 80), np.uint8)
    if shape == "disk":
        cv2.circle(mask, (40, 30), 20, 255, -1)
    elif shape == "ring":
        cv2.circle(mask, (40, 30), 25, 255, -1)
        cv2.circle(mask, (40, 30), 10, 0, -1)
    elif shape == "two boxes":
        mask[5:20, 5:30] = 255
        mask[30:55, 50:75] = 200  # feathered values: from half coverage on
    else:
        mask[7, 9] = 255
    traced = raster(outline(mask), mask.shape)
    want = (mask >= 128).astype(np.uint8)
    # contours pass through the boundary pixels' centres, so a traced region may miss at most its rim
    assert np.count_nonzero(traced & want) >= 0.9 * np.count_nonzero(want)
    assert np.count_nonzero(traced & ~want.astype(bool)) == 0


def test_an_empty_mask_has_no_outline():
    assert outline(np.zeros((10, 10), np.uint8)) == "" and outline(None) == ""


def test_the_landed_outline_is_the_cut_one_moved_and_the_removals_are_drawn(tmp_path):
    scene = load(write_scene(tmp_path), check_files=True)
    lowered = lower(scene, resolve_options(scene, None, None, 8, None, None), 1024)
    found = overlays_of(lowered).to_json()
    assert found["canvas"] == [fx.W, fx.H]
    (layer,) = found["layers"]
    shape = (fx.H, fx.W)
    cut, landed = raster(layer["cut"], shape), raster(layer["landed"], shape)
    ax, ay = (round(v) for v in lowered.layers[0].applied_px)
    assert abs(ax - 96) <= 4 and ay == 0  # the move, rounded to whole latent cells
    ys, xs = np.nonzero(cut)
    moved = np.zeros(shape, np.uint8)
    moved[ys, xs + ax] = 1
    assert np.array_equal(moved, landed)
    bx0, by0, bx1, by1 = layer["box"]
    assert (bx0, by0, bx1, by1) == (xs.min() + ax, ys.min(), xs.max() + ax + 1, ys.max() + 1)
    assert abs(layer["centre"][0] - (fx.BALL_C[0] + 0.5 + ax)) < 1 and abs(layer["centre"][1] - (fx.BALL_C[1] + 0.5)) < 1
    removal = raster(found["remove"], shape)
    assert removal[10:34, 10:50].all()  # the stamp rectangle (grown by the removal dilation)
    assert removal[fx.BALL_C[1], fx.BALL_C[0]] == 1  # the cut ball's old place is removed too
    edit = raster(found["edit"], shape)
    assert edit[landed.astype(bool)].all() and edit[removal.astype(bool)].mean() > 0.99
