"""Masks are warped in our own float arithmetic (designedit.imaging.warp), so plans do not depend on OpenCV's release;
warps that OpenCV cannot do safely are refused before they reach it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from designedit.imaging import warp


def _blob(h: int = 60, w: int = 80) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (40, 30), (25, 15), 20, 0, 360, 255, -1)
    mask = cv2.GaussianBlur(mask, (5, 5), 0)  # grey edges, where rounding shows
    return mask


def test_whole_pixel_moves_and_the_identity_are_exact():
    src = _blob()
    assert np.array_equal(warp.warp_mask(src, np.array([[1.0, 0, 0], [0, 1, 0]]), 80, 60), src)
    moved = warp.warp_mask(src, np.array([[1.0, 0, 7], [0, 1, -3]]), 80, 60)
    expected = np.zeros_like(src)
    expected[0:57, 7:80] = src[3:60, 0:73]
    assert np.array_equal(moved, expected)


def test_half_pixel_moves_average_neighbours_and_round_half_up():
    src = np.zeros((3, 4), np.uint8)
    src[:, 1] = 255
    src[:, 2] = 100
    out = warp.warp_mask(src, np.array([[1.0, 0, 0.5], [0, 1, 0]]), 4, 3)
    # destination x reads source x - 0.5: pixel 1 = (0 + 255) / 2 = 127.5 -> 128; pixel 2 = (255 + 100) / 2 = 177.5 -> 178
    assert out[0].tolist() == [0, 128, 178, 50]


def test_a_rotation_agrees_with_opencv_within_its_fixed_point_rounding():
    src = _blob()
    a = np.deg2rad(-17.0)
    lin = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * 1.3
    c = np.array([40.0, 30.0])
    m = np.hstack([lin, (c - lin @ c)[:, None]])
    ours = warp.warp_mask(src, m, 80, 60).astype(int)
    theirs = cv2.warpAffine(src, m, (80, 60), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(int)
    diff = np.abs(ours - theirs)
    assert diff.max() <= 8  # OpenCV samples at 1/32 pixel: at most 255/32 apart on the steepest edge
    assert diff.mean() < 0.5
    assert abs(int((ours >= 128).sum()) - int((theirs >= 128).sum())) <= 0.01 * (theirs >= 128).sum()


def test_large_frames_are_warped_in_bounded_chunks():
    src = np.full((3000, 700), 255, np.uint8)
    out = warp.warp_mask(src, np.array([[0.5, 0, 0], [0, 0.5, 0]]), 700, 3000)
    assert out[:1499, :349].min() == 255 and out[1501:, :].max() == 0 and out[:, 351:].max() == 0


@pytest.mark.parametrize(
    "matrix",
    [
        [[1e-8, 0, 0], [0, 1e-8, 0]],  # two resize 0.0001: crashed cv2.warpAffine with SIGSEGV
        [[1, 0, float("nan")], [0, 1, 0]],
        [[1e9, 0, 0], [0, 1, 0]],
        [[1, 1, 0], [1, 1, 0]],  # singular
    ],
)
def test_matrices_opencv_cannot_warp_safely_are_refused(matrix):
    with pytest.raises(ValueError):
        warp.check_bounded(np.array(matrix))


def test_the_smallest_allowed_scale_passes_the_guard():
    warp.check_bounded(np.array([[1e-4, 0, 5], [0, 1e-4, 5]]))


def _plain_warp(src: np.ndarray, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """The definition, evaluated at every destination pixel over the whole source."""
    inv = warp.inverse(matrix)
    h, w = src.shape
    padded = np.zeros((h + 2, w + 2))
    padded[1:-1, 1:-1] = src
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    sx = np.clip(inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2], -1.0, float(w))
    sy = np.clip(inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2], -1.0, float(h))
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = sx - x0, sy - y0
    xi, yi = x0.astype(int) + 1, y0.astype(int) + 1
    xj, yj = np.minimum(xi + 1, w + 1), np.minimum(yi + 1, h + 1)
    value = (padded[yi, xi] * (1 - fx) + padded[yi, xj] * fx) * (1 - fy) + (padded[yj, xi] * (1 - fx) + padded[yj, xj] * fx) * fy
    return np.floor(value + 0.5).astype(np.uint8)


@pytest.mark.parametrize("degrees, sx, sy, shift", [(30, 1.7, 1.7, (5, -3)), (-75, 0.6, 1.3, (0, 0)), (0, 1, 1, (0.5, 0.25)),
                                                   (90, 2.0, 0.5, (-10, 4)), (180, 1, 1, (0, 0)), (12, 0.2, 3.0, (1.5, 2.5))])
def test_only_the_reachable_part_is_computed_and_it_equals_the_definition(degrees, sx, sy, shift):
    """warp_mask samples only the source's non-zero box and the destination columns that can reach it: the
    bytes are those of the definition evaluated everywhere."""
    src = np.zeros((90, 120), np.uint8)
    src[20:70, 30:100] = _blob(50, 70)
    a = np.deg2rad(degrees)
    lin = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.diag([sx, sy])
    c = np.array([65.0, 45.0])
    m = np.hstack([lin, (c - lin @ c + np.array(shift))[:, None]])
    assert np.array_equal(warp.warp_mask(src, m, 120, 90), _plain_warp(src, m, 120, 90))
