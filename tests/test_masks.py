"""Mask rasterising, scene mask values, and the method's mask preprocessing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from compiler_scenes import copy_pictures, scene
from designedit import masks as M
from designedit import model as m
from designedit.errors import SceneError

W, H = 64, 48


def test_rect_covers_pixels_whose_centres_are_inside():
    r = M.rasterise_rect(10, 10, 40, 24, 100, 80)
    ys, xs = np.nonzero(r)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 49, 10, 33)
    assert set(np.unique(r)) == {0, 255}


def test_fractional_rect_samples_centres():
    r = M.rasterise_rect(2.4, 0, 3.0, 1, 10, 2)  # centres 2.5, 3.5, 4.5 inside [2.4, 5.4)
    assert list(np.nonzero(r[0])[0]) == [2, 3, 4]
    assert not r[1].any()


def test_ellipse_area_and_symmetry():
    e = M.rasterise_ellipse(50, 40, 20, 10, 100, 80)
    area = np.count_nonzero(e)
    assert abs(area - np.pi * 200) < 0.03 * np.pi * 200
    assert np.array_equal(e[:, :50], e[:, 50:][:, ::-1])
    assert np.array_equal(e[:40], e[40:][::-1])


def test_polygon_square_equals_rect_and_triangle_is_half():
    square = M.rasterise_polygon([(10, 10), (50, 10), (50, 34), (10, 34)], 100, 80)
    assert np.array_equal(square, M.rasterise_rect(10, 10, 40, 24, 100, 80))
    tri = M.rasterise_polygon([(0, 0), (40, 0), (0, 40)], 100, 80)
    assert abs(np.count_nonzero(tri) - 800) <= 40


def test_shapes_clip_to_the_canvas():
    assert np.count_nonzero(M.rasterise_rect(-10, -10, 20, 20, W, H)) == 100
    assert not M.rasterise_ellipse(500, 500, 10, 10, W, H).any()


def test_percent_lengths_resolve_against_width_and_height():
    r = M.rasterise_shape(m.Rect(x="25%", y="50%", width="50%", height="25%"), 64, 48)
    ys, xs = np.nonzero(r)
    assert (xs.min(), xs.max() + 1, ys.min(), ys.max() + 1) == (16, 48, 24, 36)


def test_grow_shrink_feather():
    r = M.rasterise_rect(20, 20, 10, 10, W, H)
    assert np.count_nonzero(M.grow(r, 2)) == 14 * 14
    assert np.count_nonzero(M.grow(r, -2)) == 6 * 6
    f = M.feather(r, 3)
    assert np.array_equal(M.binary(f) > 0, r > 0)  # >= 128 keeps the shape
    assert 0 < np.count_nonzero((f > 0) & (f < 255))


def _resolve(tmp_path, masks, mask_id):
    copy_pictures(tmp_path)
    sc = scene(tmp_path, masks=masks)
    return M.MaskResolver(sc, 512, 384)(mask_id)


def test_picture_union_use_invert(tmp_path):
    masks = [
        m.Mask(id="ball", src="ball-mask.png"),
        m.Mask(id="both", shapes=[m.Use(mask="ball"), m.Rect(x=10, y=10, width=40, height=24)]),
        m.Mask(id="outside", shapes=[m.Use(mask="both")], invert=True),
    ]
    ball = _resolve(tmp_path, masks, "ball")
    assert abs(np.count_nonzero(ball) - np.pi * 60 * 60) < 0.02 * np.pi * 3600
    both = M.MaskResolver(scene(tmp_path, masks=masks), 512, 384)("both")
    assert np.count_nonzero(both) == np.count_nonzero(ball) + 40 * 24
    outside = M.MaskResolver(scene(tmp_path, masks=masks), 512, 384)("outside")
    assert np.array_equal(outside, 255 - both)


def test_jpeg_mask_thresholds_to_the_png_mask(tmp_path):
    masks = [m.Mask(id="png", src="ball-mask.png"), m.Mask(id="jpg", src="ball-mask.jpg")]
    copy_pictures(tmp_path)
    r = M.MaskResolver(scene(tmp_path, masks=masks), 512, 384)
    assert set(np.unique(r("jpg"))) <= {0, 255}
    assert np.count_nonzero(r("png") != r("jpg")) < 40  # a pixel-thin disagreement on the edge at most


def test_smaller_mask_picture_sits_at_the_origin(tmp_path):
    Image.fromarray(np.full((10, 20), 255, np.uint8)).save(tmp_path / "small.png")
    copy_pictures(tmp_path)
    out = M.MaskResolver(scene(tmp_path, masks=[m.Mask(id="s", src="small.png")]), 512, 384)("s")
    ys, xs = np.nonzero(out)
    assert (xs.max(), ys.max(), len(xs)) == (19, 9, 200)


def test_use_cycle_is_a_scene_error(tmp_path):
    masks = [m.Mask(id="a", shapes=[m.Use(mask="b")]), m.Mask(id="b", shapes=[m.Use(mask="a")])]
    with pytest.raises(SceneError, match="cycle"):
        _resolve(tmp_path, masks, "a")


# ---------------------------------------------------------------- method 12 preprocessing


def _dilate_by_rule(mask: np.ndarray, k: int) -> np.ndarray:
    """Method 12's words: p is set when any input in p - k//2 .. p + k - 1 - k//2 is set."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    for y, x in zip(*np.nonzero(mask)):
        y0, y1 = max(0, y - (k - 1 - k // 2)), min(h, y + k // 2 + 1)
        x0, x1 = max(0, x - (k - 1 - k // 2)), min(w, x + k // 2 + 1)
        out[y0:y1, x0:x1] = np.maximum(out[y0:y1, x0:x1], mask[y, x])
    return out


@pytest.mark.parametrize("k", [2, 5, 10, 20, 30])
def test_anchored_dilation_follows_the_rule(k):
    rng = np.random.default_rng(k)
    mask = np.where(rng.random((70, 90)) > 0.995, 255, 0).astype(np.uint8)
    mask[0, 0] = mask[69, 89] = 255  # corners: border handling
    assert np.array_equal(M.dilate_anchored(mask, k), _dilate_by_rule(mask, k))


def test_anchored_dilation_is_not_centred_for_even_k():
    one = np.zeros((40, 40), np.uint8)
    one[20, 20] = 255
    ys, xs = np.nonzero(M.dilate_anchored(one, 20))
    assert (xs.min(), xs.max()) == (11, 30)  # p - 9 .. p + 10 reads x = 20


def test_topleft_downsampling_reads_the_block_corner():
    mask = np.zeros((32, 32), np.uint8)
    mask[8, 16] = 255
    mask[13, 5] = 255  # inside block (1, 0) but not its corner
    lat = M.downsample_topleft(mask, 8)
    assert lat.shape == (4, 4)
    assert list(zip(*np.nonzero(lat))) == [(1, 2)]


def test_reference_latent_pipeline():
    # a 512x384 canvas mask: bilinear to 1024x1024, dilate 20 anchored, read pixel (8i, 8j), > 0
    canvas = np.zeros((384, 512), np.uint8)
    canvas[100:140, 200:260] = 255
    lat = M.reference_latent([canvas], 20, (1024, 1024), 8)
    import cv2

    big = cv2.resize(canvas, (1024, 1024), interpolation=cv2.INTER_LINEAR)
    expected = (_dilate_by_rule(big, 20)[::8, ::8] > 0).astype(np.uint8)
    assert np.array_equal(lat, expected)
    assert set(np.unique(lat)) == {0, 1}


def test_reference_masks_add_saturating():
    a = np.full((16, 16), 200, np.uint8)
    out = M.reference_latent([a, a], 1, (16, 16), 8)
    assert out.all()


@settings(max_examples=40, deadline=None)
@given(
    x=st.integers(0, 500), y=st.integers(0, 380), w=st.integers(1, 80), h=st.integers(1, 80), lw=st.sampled_from([144, 128, 64])
)
def test_fast_latent_covers_every_set_pixel(x, y, w, h, lw):
    canvas = M.rasterise_rect(x, y, w, h, 512, 384)
    lh = lw * 384 // 512
    lat = M.fast_latent([canvas], 0, (lw, lh))
    ys, xs = np.nonzero(canvas)
    cells_y = (ys * lh) // 384
    cells_x = (xs * lw) // 512
    assert lat[cells_y, cells_x].all()


@pytest.mark.parametrize("line_radius", [M.LINE_RADIUS, 40])  # 40: radii past it take the running extrema
@pytest.mark.parametrize("r", [1, 32, 33, 47, 120, 10**9, float("inf")])
def test_every_grow_path_equals_opencvs_square_kernel(r, line_radius, monkeypatch):
    monkeypatch.setattr(M, "LINE_RADIUS", line_radius)
    rng = np.random.default_rng(int(min(r, 1e9)) % 1000)
    mask = ((rng.random((90, 130)) < 0.01) * rng.integers(1, 256, (90, 130))).astype(np.uint8)
    mask[0, 5] = 255  # a set pixel on the border
    k = np.ones((2 * int(min(r, 130)) + 1,) * 2, np.uint8)
    dilated = cv2.dilate(mask, k, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    eroded = cv2.erode(255 - mask, k, borderType=cv2.BORDER_CONSTANT, borderValue=255)
    assert np.array_equal(M.grow(mask, r), dilated)
    assert np.array_equal(M.grow(255 - mask, -r), eroded)


@pytest.mark.parametrize("px", [1e-300, 1e-40, 0.25])
def test_a_feather_narrower_than_a_pixel_is_a_hard_edge_without_overflow(px):
    import warnings

    mask = np.zeros((20, 20), np.uint8)
    mask[5:15, 4:12] = 255
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(M.feather(mask, px), mask)


def test_scaled_radius_keeps_the_reference_reach_on_small_canvases():
    from designedit.masks import fast_latent, scaled_radius

    assert [scaled_radius(20, side) for side in (1024, 512, 256, 64, 2048)] == [10, 5, 3, 1, 20]
    assert scaled_radius(30, 512) == 8 and scaled_radius(0, 512) == 0
    # a 64 px canvas rendered on a 128-cell latent: one set pixel still grows by a pixel each way (2 cells)
    dot = np.zeros((64, 64), np.uint8)
    dot[30, 30] = 255
    assert fast_latent([dot], 20, (128, 128)).sum() == 6 * 6
    assert fast_latent([dot], 0, (128, 128)).sum() == 2 * 2
