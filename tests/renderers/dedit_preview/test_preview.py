"""The preview renderer on hand-built plans: geometry, removal, decomposition, paste-back."""

from __future__ import annotations

import subprocess
from pathlib import Path
import sys

import cv2
import numpy as np
import pytest

import render_fixtures as fx
from dedit_preview import PreviewRenderer, shift
from dedit_preview.inpaint import HOLE_BUDGET, inpaint
from designedit.plan import AffineOp
from designedit.rendering.protocol import RenderOptions


@pytest.fixture()
def poster(tmp_path):
    return fx.write_poster(tmp_path)


def move_plan(poster, dx, dy, cut=True, edit_all=True):
    bg = fx.image("bg", poster)
    remove = fx.ball_mask(grow=6) if cut else np.zeros((fx.H, fx.W), np.uint8)
    edit = np.full((fx.H, fx.W), 255, np.uint8) if edit_all else np.zeros((fx.H, fx.W), np.uint8)
    masks = {"remove@canvas": remove, "edit@canvas": edit, "layer:ball@canvas": fx.ball_mask()}
    return fx.plan(bg, masks, [(fx.plan_layer("ball", "bg", dx, dy), bg)])


def test_shift_moves_whole_pixels_and_zero_fills():
    a = np.arange(20, dtype=np.uint8).reshape(4, 5) + 1
    s = shift(a, 2, -1)
    assert s[0, 2] == a[1, 0] and s[2, 4] == a[3, 2]
    assert not s[:, :2].any() and not s[3].any()
    assert not shift(a, 5, 0).any() and not shift(a, 0, -4).any()
    assert np.array_equal(shift(a, 0, 0), a)


def test_move_puts_the_ball_where_the_plan_says_and_clears_the_old_spot(poster):
    result = PreviewRenderer(RenderOptions()).render(move_plan(poster, 200, -40))
    assert result.image.shape == (fx.H, fx.W, 3) and result.image.dtype == np.uint8
    cx, cy = fx.centroid(fx.red(result.image))
    assert abs(cx - 350) <= 1 and abs(cy - 160) <= 1
    old = fx.ball_mask(grow=-4) > 0
    assert fx.red(result.image)[old].mean() == 0  # inpainted, no red left where the ball was
    # the ball keeps its size: same red area as in the source, within the anti-aliased rim
    assert abs(fx.red(result.image).sum() - fx.red(fx.poster_pixels()).sum()) < 0.03 * fx.red(fx.poster_pixels()).sum()


def test_copy_without_cut_keeps_the_original(poster):
    result = PreviewRenderer().render(move_plan(poster, 200, 0, cut=False))
    red = fx.red(result.image)
    assert red[fx.BALL_C[1], fx.BALL_C[0]] and red[fx.BALL_C[1], fx.BALL_C[0] + 200]


def test_decomposition_holds_background_and_moved_layer(poster):
    result = PreviewRenderer().render(move_plan(poster, 100, 20))
    assert list(result.layers) == ["background", "layer:ball"]
    bg, layer = result.layers["background"], result.layers["layer:ball"]
    assert bg.shape == layer.shape == (fx.H, fx.W, 4)
    assert (bg[..., 3] == 255).all() and not fx.red(bg[..., :3]).any()
    assert np.array_equal(layer[..., 3], shift(fx.ball_mask(), 100, 20))
    cx, cy = fx.centroid(layer[..., 3] >= 128)
    assert abs(cx - 250) < 0.5 and abs(cy - 220) < 0.5
    assert result.stats["unet_evals"] == 0 and result.stats["seconds"] >= 0


def test_layers_follow_paint_order(poster):
    bg = fx.image("bg", poster)
    green = np.zeros((fx.H, fx.W), np.uint8)
    green[150:270, 300:420] = 255
    # the ball is moved onto the box; painted after it, the ball is on top
    masks = {"remove@canvas": np.zeros_like(green), "edit@canvas": np.full_like(green, 255),
             "layer:box@canvas": green, "layer:ball@canvas": fx.ball_mask()}
    layers = [(fx.plan_layer("box", "bg", 0, 0), bg), (fx.plan_layer("ball", "bg", 210, 10), bg)]
    out = PreviewRenderer().render(fx.plan(bg, masks, layers)).image
    assert fx.red(out)[210, 360]
    layers.reverse()
    masks_rev = dict(masks)
    out = PreviewRenderer().render(fx.plan(bg, masks_rev, layers)).image
    assert not fx.red(out)[210, 360] and out[210, 360, 1] > 150


def test_transformed_layer_image_comes_from_its_recipe(poster):
    # a layer image whose recipe flips the picture horizontally about x = 230: the ball lands at x = 310,
    # where the layer mask (a disk there) selects it; the source picture shows only background there
    flip = AffineOp((-1, 0, 459, 0, 1, 0))
    bg = fx.image("bg", poster)
    flipped = fx.image("ball-img", poster, [flip])
    spot = np.zeros((fx.H, fx.W), np.uint8)
    cv2.circle(spot, (310, fx.BALL_C[1]), fx.BALL_R, 255, -1)
    masks = {"remove@canvas": np.zeros((fx.H, fx.W), np.uint8), "edit@canvas": np.full((fx.H, fx.W), 255, np.uint8),
             "layer:ball@canvas": spot}
    out = PreviewRenderer().render(fx.plan(bg, masks, [(fx.plan_layer("ball", "ball-img", 0, 0), flipped)])).image
    src = fx.poster_pixels()
    assert not fx.red(src)[spot > 0].any()  # without the recipe no red could appear there
    mirrored = src[:, ::-1][:, 52:]  # column x shows source column 459 - x
    mirrored = np.concatenate([mirrored, np.zeros((fx.H, 52, 3), np.uint8)], axis=1)
    # the mirrored ball (centre 309) leaves a one-pixel rim of background in the spot (centre 310): the preview
    # mattes such rims out (matte.py), so the layer's pixels are exact inside it and wherever the ball is
    inner = cv2.erode(spot, np.ones((3, 3), np.uint8)) == 255
    assert np.array_equal(out[inner], mirrored[inner])
    assert np.array_equal(out[fx.red(mirrored) & (spot == 255)], mirrored[fx.red(mirrored) & (spot == 255)])
    cx, cy = fx.centroid(fx.red(out) & (spot > 0))
    assert abs(cx - 310) <= 1 and abs(cy - fx.BALL_C[1]) <= 1
    assert np.array_equal(out[spot == 0], src[spot == 0])  # the original ball stays: nothing is cut


def test_paste_back_keeps_source_pixels_outside_the_edit_region(poster):
    p = move_plan(poster, 200, 0, edit_all=False)
    edit = np.zeros((fx.H, fx.W), np.uint8)
    edit[:, :256] = 255  # the old spot may change; the new spot may not
    p.masks["edit@canvas"].data = edit
    src = fx.poster_pixels()
    out = PreviewRenderer(RenderOptions(paste_back=True)).render(p).image
    assert np.array_equal(out[:, 256:], src[:, 256:])
    assert not fx.red(out)[fx.BALL_C[1], fx.BALL_C[0]]
    free = PreviewRenderer(RenderOptions(paste_back=False)).render(p).image
    assert fx.red(free)[fx.BALL_C[1], fx.BALL_C[0] + 200]


def test_feathered_removal_blends_into_the_source(poster):
    bg = fx.image("bg", poster)
    m = cv2.GaussianBlur(fx.ball_mask(grow=10), (0, 0), 4)
    p = fx.plan(bg, {"remove@canvas": m, "edit@canvas": np.full_like(m, 255)})
    out = PreviewRenderer().render(p).image
    src = fx.poster_pixels()
    assert np.array_equal(out[m == 0], src[m == 0])
    assert not fx.red(out)[fx.ball_mask() > 0].any()


NOOP_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <image id="poster" src="poster.png"/>
  <background image="poster"/>
</dedit>
"""


@pytest.mark.parametrize("paste_back", [True, False])
def test_a_scene_that_changes_nothing_renders_the_background_exactly(poster, paste_back):
    import designedit
    from designedit.rendering.outputs import read_png_metadata
    from PIL import Image

    doc = poster.parent / "noop.dedit"
    doc.write_text(NOOP_DOCUMENT)
    out = poster.parent / "noop.png"
    result = designedit.render(doc, output=out, renderer="preview", paste_back=paste_back, announce=None)
    assert result.stats["planned_unet_evals"]["total"] == 0 and result.stats["unet_evals"] == 0
    assert np.array_equal(result.image, fx.poster_pixels())
    assert np.array_equal(np.asarray(Image.open(out)), fx.poster_pixels())
    assert read_png_metadata(out)["renderer"] == "preview"
    assert np.array_equal(result.layers["background"][..., :3], fx.poster_pixels()) and list(result.layers) == ["background"]


@pytest.mark.parametrize("radius", [20, 150])  # a small blob and one past the Telea budget (both membrane)
def test_inpaint_fills_from_the_surroundings(radius):
    img = np.zeros((400, 400, 3), np.uint8)
    img[:] = (40, 90, 200)
    cv2.circle(img, (200, 200), radius - 5, (255, 255, 0), -1)
    hole = np.zeros((400, 400), np.uint8)
    cv2.circle(hole, (200, 200), radius, 255, -1)
    assert (np.count_nonzero(hole) > HOLE_BUDGET) == (radius == 150)
    out = inpaint(img, hole)
    assert np.abs(out[hole > 0].astype(int) - (40, 90, 200)).max() <= 8  # none of the yellow survives
    assert np.array_equal(out[hole == 0], img[hole == 0])


def test_inpaint_continues_a_gradient_smoothly():
    # a vertical gradient with a large hole: the fill must follow the gradient row by row
    # (Telea-style fills draw cone-shaped streaks here) and change slowly across columns
    ramp = np.linspace(20, 220, 300).astype(np.float32)
    img = np.repeat(np.repeat(ramp[:, None, None], 300, axis=1), 3, axis=2).astype(np.uint8)
    hole = np.zeros((300, 300), np.uint8)
    cv2.circle(hole, (150, 150), 90, 255, -1)
    out = inpaint(img, hole).astype(int)
    inside = hole > 0
    assert np.abs(out - img.astype(int))[inside].max() <= 25
    assert np.abs(np.diff(out[..., 0], axis=1))[inside[:, 1:]].max() <= 3


def _gradient(side: int = 300) -> np.ndarray:
    ramp = np.linspace(20, 220, side).astype(np.float32)
    return np.repeat(np.repeat(ramp[:, None, None], side, axis=1), 3, axis=2).astype(np.uint8)


def test_a_blob_under_the_telea_budget_gets_no_cones_either():
    """A removed object of ordinary size (a 60 px radius disc, under HOLE_BUDGET pixels) on a gradient."""
    img = _gradient()
    hole = np.zeros((300, 300), np.uint8)
    cv2.circle(hole, (150, 150), 60, 255, -1)
    assert np.count_nonzero(hole) <= HOLE_BUDGET
    img[hole > 0] = (250, 30, 30)  # the object
    truth = _gradient().astype(int)
    err = np.abs(inpaint(img, hole).astype(int) - truth)[hole > 0]
    telea = cv2.inpaint(img, (hole > 0).astype(np.uint8), 3, cv2.INPAINT_TELEA).astype(int)
    assert err.max() <= 4 < 20 < np.abs(telea - truth)[hole > 0].max()  # Telea alone streaks here


def test_thin_holes_keep_telea_and_read_no_object_pixel():
    """Strokes (text, scratches) are filled by Telea; a stroke beside a removed blob never reads the blob."""
    rng = np.random.default_rng(0)
    img = rng.integers(60, 120, (200, 200, 3)).astype(np.uint8)  # texture
    stroke = np.zeros((200, 200), np.uint8)
    cv2.line(stroke, (20, 30), (180, 30), 255, 5)
    np.testing.assert_array_equal(
        inpaint(img, stroke), cv2.inpaint(img, (stroke > 0).astype(np.uint8), 3, cv2.INPAINT_TELEA))
    both = stroke.copy()
    cv2.circle(both, (100, 120), 50, 255, -1)
    cv2.line(both, (40, 175), (160, 175), 255, 3)  # 5 px below the blob's edge, not touching it
    img[(both > 0) & (stroke == 0)] = (255, 255, 0)  # the blob and the second stroke are yellow objects
    cv2.circle(img, (100, 120), 50, (255, 255, 0), -1)
    out = inpaint(img, both).astype(int)
    assert (np.abs(out - (255, 255, 0)).sum(axis=-1)[both > 0] > 200).all()  # no yellow left in any hole


def test_preview_modules_do_not_import_torch():
    code = (
        "import sys, dedit_preview, designedit.rendering.session, designedit.watch, designedit.rendering.cache, "
        "designedit.rendering.ora, designedit.rendering.outputs, designedit.rendering.select, designedit.cli; "
        "designedit.cli.build_parser(); "
        "assert not {'torch', 'diffusers', 'transformers'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("shape", [(1, 40), (40, 1), (2, 3), (200, 3000)])
def test_inpaint_fills_thin_and_flat_pictures_from_their_edges(shape):
    """One-pixel rows and columns, tiny pictures and long banners: the pyramid runs down both sides."""
    img = np.full((*shape, 3), 150, np.uint8)
    hole = np.zeros(shape, np.uint8)
    hole[..., : max(1, shape[1] // 2)] = 255 if shape[1] > 1 else 0
    if shape[1] == 1:
        hole[: shape[0] // 2] = 255
    img[hole > 0] = (250, 30, 30)
    out = inpaint(img, hole)
    assert np.abs(out.astype(int) - 150)[hole > 0].max() <= 2


def test_a_hole_with_a_thin_band_of_known_pixels_keeps_that_band_s_values():
    """Everything but a 2 px frame removed from a gradient: the fill follows the frame, not the hole's mean."""
    img = _gradient(400)
    hole = np.zeros((400, 400), np.uint8)
    hole[2:-2, 2:-2] = 255
    truth = img.astype(int)
    img[hole > 0] = (250, 30, 30)
    out = inpaint(img, hole).astype(int)
    assert np.abs(out - truth)[hole > 0].max() <= 10


def test_far_apart_holes_are_filled_each_from_its_own_surroundings():
    """Two holes in opposite corners of a large picture: each filled from what is around it (and quickly,
    since neither makes the other's box the whole picture)."""
    img = np.zeros((1500, 1500, 3), np.uint8)
    img[:750] = (40, 90, 200)
    img[750:] = (200, 180, 40)
    hole = np.zeros((1500, 1500), np.uint8)
    hole[20:120, 20:120] = 255
    hole[1380:1480, 1380:1480] = 255
    img[hole > 0] = (255, 0, 255)
    out = inpaint(img, hole).astype(int)
    assert np.abs(out[20:120, 20:120] - (40, 90, 200)).max() <= 2
    assert np.abs(out[1380:1480, 1380:1480] - (200, 180, 40)).max() <= 2
    assert np.array_equal(out[hole == 0], img[hole == 0])


def test_a_wide_hole_near_another_colour_is_filled_with_its_own_surroundings_only():
    """Issue 12, 10: text removed from sand just below the sky left a darker band: the membrane's coarse levels
    averaged in the sky, which lies beyond the hole's boundary (every pixel around the hole is sand)."""
    img = np.zeros((384, 512, 3), np.uint8)
    img[:280] = (176, 203, 201)  # sky
    img[280:] = (236, 214, 160)  # sand
    hole = np.zeros((384, 512), np.uint8)
    hole[289:361, 29:483] = 255  # a title's box, grown: 9 px below the horizon
    img[hole > 0] = (60, 40, 30)  # the letters
    out = inpaint(img, hole).astype(int)
    assert np.abs(out[hole > 0] - (236, 214, 160)).max() <= 1
    assert np.array_equal(out[hole == 0], img[hole == 0])


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _preview_example(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The README example rendered by the preview (nothing written), and its source picture."""
    import designedit
    from PIL import Image

    result = designedit.render(EXAMPLES / name, renderer="preview", announce=None)
    return result.image.astype(int), np.asarray(Image.open(EXAMPLES / "pictures" / "poster.png").convert("RGB")).astype(int)


def _rings(region: np.ndarray, near: tuple[int, int], far: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixels at a distance in `near` and in `far` (px, inclusive) outside `region`."""
    d = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 3)
    return (d >= near[0]) & (d <= near[1]), (d >= far[0]) & (d <= far[1])


def test_a_moved_object_whose_mask_is_grown_brings_no_ring_of_its_old_background():
    """Issue 12, 10: in examples/move-sun.dedit the sun (mask grown by 2 px, resized by 0.7) moves up into a
    darker sky; the preview carried the lighter sky of its old place along as a ring around it."""
    out, _ = _preview_example("move-sun.dedit")
    sun = (out[..., 0] > 200) & (out[..., 2] < 100) & (out[..., 1] > 140) & (out[..., 1] < 200)  # orange
    count, labels, stats, _ = cv2.connectedComponentsWithStats(sun.astype(np.uint8))
    moved = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    cy = np.nonzero(moved)[0].mean()
    assert cy < 100  # the moved sun (its old place, y 190, is inpainted)
    ring, sky = _rings(moved, (2, 4), (7, 12))
    ring_mean, sky_mean = out[ring].mean(axis=0), out[sky].mean(axis=0)
    assert np.abs(ring_mean - sky_mean).max() < 4, (ring_mean, sky_mean)


def test_removed_text_leaves_no_band_in_the_sand():
    """Issue 12, 10: examples/remove-title.dedit removes the title from the sand below the sky; the fill was a
    darker band (the sky tinted it)."""
    from designedit.compiler import compile_scene
    from designedit.io import load

    out, source = _preview_example("remove-title.dedit")
    plan = compile_scene(load(EXAMPLES / "remove-title.dedit"))
    hole = (plan.masks["remove@canvas"].data > 0) & (np.arange(out.shape[0])[:, None] > 250)
    sand = source[300:].reshape(-1, 3)
    sand_colour = np.median(sand, axis=0)
    assert np.abs(out[hole].mean(axis=0) - sand_colour).max() < 2
    assert np.abs(out[hole] - sand_colour).max() <= 3


OCCLUSION_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<dedit version="1.0">
  <image id="p" src="poster.png"/>
  <mask id="ball" src="ball-mask.png"/>
  <mask id="front"><rect x="110" y="250" width="80" height="40"/></mask>
  <background image="p"/>
  <layer id="ball" image="p" mask="ball"{occluder}>
    <move dx="0" dy="-100"/>
  </layer>
</dedit>
"""


def test_the_preview_fills_what_an_occluder_hid_as_the_plan_says(poster):
    """Issue 12, 9b: the ball's lower edge hides behind `front`; moved up, the model inpaints the moved
    occluder's region (method 10). The preview ignored `occluder` (the same picture with and without); it
    now fills `occlude@canvas`, less the pasted ball, from its surroundings: the ball continues into it."""
    import designedit
    from designedit.compiler import compile_scene
    from designedit.io import load

    folder = poster.parent
    (folder / "occluded.dedit").write_text(OCCLUSION_DOCUMENT.format(occluder=' occluder="front"'))
    (folder / "plain.dedit").write_text(OCCLUSION_DOCUMENT.format(occluder=""))
    plan = compile_scene(load(folder / "occluded.dedit"))
    region = plan.masks["occlude@canvas"].data > 0
    ys, xs = np.nonzero(region)
    # the occluder moved with the layer: 100 px up (dilated by 20 px at 1024)
    assert ys.min() < 150 < 190 < ys.max() < 200 and xs.min() < 110 and xs.max() > 189
    with_occluder = designedit.render(folder / "occluded.dedit", renderer="preview", announce=None).image.astype(int)
    plain = designedit.render(folder / "plain.dedit", renderer="preview", announce=None).image.astype(int)
    ball = shift(fx.ball_mask(), 0, -100) >= 128
    hidden = region & ~ball
    assert hidden.sum() > 1000
    assert np.array_equal(with_occluder[~region], plain[~region])  # nothing else changes
    assert np.array_equal(with_occluder[ball], plain[ball])  # the ball's own pixels are kept
    # without the occluder the background shows there; with it, the ball's red reaches into the hidden part
    red_excess = lambda img: (img[..., 0] - img[..., 2])[hidden & (np.arange(fx.H)[:, None] < 175)].mean()  # noqa: E731
    assert red_excess(with_occluder) > red_excess(plain) + 20


def _green(img: np.ndarray) -> np.ndarray:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (g > 120) & (r < 120) & (b < 120)


@pytest.mark.parametrize("resize, size", [('scale-x="1.5" scale-y="0.5"', (180, 60)), ('scale-x="0.5"', (60, 120)),
                                          ('scale-y="1.25"', (120, 150)), ('scale="0.75"', (90, 90))])
def test_a_resize_by_width_and_height_ratios_shows_on_the_preview_pixels(poster, resize, size):
    """Issue 12, 9f: the paper resizes by a width and a height ratio; format 1.1 says them as scale-x and
    scale-y (the one left out is 1). The 120 px green box, copied 200 px left and 90 px down, measures
    width x height on the rendered picture, about its own centre."""
    import designedit

    doc = poster.parent / "stretch.dedit"
    doc.write_text(fx.stretch_document(resize))
    (moved,) = designedit.compile(designedit.load(doc)).layers
    out = designedit.render(doc, renderer="preview", announce=None).image
    copy = _green(out)
    copy[:, 280:] = False  # the original box stays where it was (keep="true")
    ys, xs = np.nonzero(copy)
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == size
    # about the box's centre (359.5, 209.5), then moved by whole latent cells
    assert abs(xs.mean() - (359.5 + round(moved.applied_px[0]))) <= 0.5
    assert abs(ys.mean() - (209.5 + round(moved.applied_px[1]))) <= 0.5
    assert copy.sum() == pytest.approx(size[0] * size[1], abs=2 * (size[0] + size[1]))
