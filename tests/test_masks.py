"""Mask rasterising, scene mask values, and the method's mask preprocessing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from PIL import Image

from compiler_scenes import copy_pictures, scene
from designedit import masks as M
from designedit.masks import morphology
from designedit.model import scene as m
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
    monkeypatch.setattr(morphology, "LINE_RADIUS", line_radius)
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


# ---------------------------------------------------------------- mask pictures of another size than their image


def _ball_box_mask(folder, size: tuple[int, int], name: str = "sized.png") -> None:
    """The ball's bounding box (x 100..199, y 150..249 on the 512x384 poster) drawn at another size."""
    sx, sy = size[0] / 512, size[1] / 384
    values = np.zeros((size[1], size[0]), np.uint8)
    values[round(150 * sy) : round(250 * sy), round(100 * sx) : round(200 * sx)] = 255
    Image.fromarray(values).save(folder / name)


@pytest.mark.parametrize("size", [(1024, 768), (256, 192), (171, 128)])  # 171x128: a third, rounded
def test_a_mask_picture_in_its_images_proportions_is_scaled_to_it(tmp_path, size):
    from designedit.compiler import compile_scene

    copy_pictures(tmp_path)
    _ball_box_mask(tmp_path, size)
    masks = [m.Mask(id="sized", src="sized.png"), m.Mask(id="uses", shapes=[m.Use(mask="sized")])]
    layer = m.Layer(id="ball", image="poster", mask="sized", transforms=[m.Move(dx=40, dy=0)])
    sc = scene(tmp_path, masks=masks, layers=[layer], background=m.Background(image="poster", edits=[m.Remove(mask="uses")]))
    plan = compile_scene(sc)
    assert plan.warnings == []
    for selected in (plan.masks["layer:ball@canvas"].data >= 128, M.MaskResolver(sc, 512, 384)("uses", "poster") >= 128):
        ys, xs = np.nonzero(selected)
        assert max(abs(xs.min() - 100), abs(xs.max() - 199), abs(ys.min() - 150), abs(ys.max() - 249)) <= 1


@pytest.mark.parametrize("form", ["xml", "json"])
def test_a_mask_picture_of_other_proportions_is_refused_at_the_mask(tmp_path, capsys, form):
    from designedit.cli import main

    copy_pictures(tmp_path)
    _ball_box_mask(tmp_path, (1024, 700))
    if form == "xml":
        doc = tmp_path / "scene.dedit"
        doc.write_text('<dedit version="1.0">\n<image id="poster" src="poster.png"/>\n<mask id="half"\n  src="sized.png"/>\n'
                       '<background image="poster"/>\n<layer id="ball" image="poster" mask="half"><move dx="40" dy="0"/></layer>\n</dedit>\n')
        where = f"{doc}:4:3"
    else:
        doc = tmp_path / "scene.dedit.json"
        doc.write_text('{"dedit": "1.0", "images": [{"id": "poster", "src": "poster.png"}], "masks": [{"id": "half", "src": "sized.png"}], '
                       '"background": {"image": "poster"}, "layers": [{"id": "ball", "image": "poster", "mask": "half", '
                       '"transforms": [{"op": "move", "dx": 40, "dy": 0}]}]}')
        where = f"{doc}#/masks/0/src"
    assert main(["validate", str(doc)]) == 2
    assert capsys.readouterr().err == (
        f"{where}: mask 'half' is a 1024x700 picture and the image 'poster' it selects from is 512x384: "
        "a mask picture needs its image's size, or its proportions to be scaled to it\n"
    )


def test_same_proportions_allows_one_pixel_of_rounding_in_the_smaller_picture():
    assert M.same_proportions((100, 33), (1000, 333)) and M.same_proportions((3000, 1000), (1000, 333))
    assert M.same_proportions((48, 64), (480, 640)) and M.same_proportions((10, 1), (1000, 3))
    assert not M.same_proportions((1024, 700), (512, 384)) and not M.same_proportions((64, 64), (64, 48))


# ---------------------------------------------------------------- masks kept to their extent


def _full_canvas_value(sc: m.Scene, mask_id: str, width: int, height: int) -> np.ndarray:
    """A scene mask as the format defines it, computed on whole canvases (as the resolver did before it kept
    masks cropped): union of shapes and used masks, invert, grow, feather."""
    mask = sc.mask(mask_id)
    acc = np.zeros((height, width), np.uint8)
    for shape in mask.shapes:
        if isinstance(shape, m.Use):
            np.maximum(acc, _full_canvas_value(sc, shape.mask, width, height), out=acc)
        else:
            M.rasterise_shape(shape, width, height, out=acc)
    if mask.invert:
        acc = 255 - acc
    r = min(int(round(abs(mask.grow))), max(width, height))
    if r and mask.grow > 0:
        acc = cv2.dilate(acc, np.ones((2 * r + 1, 2 * r + 1), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    elif r:
        acc = cv2.erode(acc, np.ones((2 * r + 1, 2 * r + 1), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=255)
    return morphology._feather_all(acc, mask.feather) if mask.feather > 0 else acc


_shapes = st.one_of(
    st.builds(m.Rect, x=st.integers(-20, 70), y=st.integers(-20, 50), width=st.integers(-30, 40), height=st.integers(-30, 40)),
    st.builds(m.Ellipse, cx=st.integers(-10, 70), cy=st.integers(-10, 50), rx=st.integers(1, 30), ry=st.integers(1, 30)),
)


@settings(max_examples=60, deadline=None)
# a feathered mask eroded to nothing: an empty crop, which OpenCV 4's threshold answered with None
@example(layers=[([m.Ellipse(cx=0, cy=0, rx=1, ry=1)], False, -1, 1.5, False)])
@given(
    layers=st.lists(
        st.tuples(st.lists(_shapes, min_size=1, max_size=3), st.booleans(), st.integers(-6, 6), st.sampled_from([0, 0, 1.5, 4]), st.booleans()),
        min_size=1, max_size=4,
    )
)
def test_cropped_masks_equal_the_whole_canvas_computation(tmp_path_factory, layers):
    """Each mask uses the one before it (when drawn so): crops, grows at the canvas border, erosions next to
    unselected pixels, inverted and feathered masks all give the values computed on whole canvases."""
    masks = []
    for i, (shapes, invert, grow, feather, uses) in enumerate(layers):
        extra = [m.Use(mask=f"m{i - 1}")] if uses and i else []
        masks.append(m.Mask(id=f"m{i}", shapes=shapes + extra, invert=invert, grow=grow, feather=feather))
    folder = tmp_path_factory.mktemp("crops")
    sc = scene(folder, masks=masks)
    resolver = M.MaskResolver(sc, W, H)
    for mask in masks:
        assert np.array_equal(resolver(mask.id), _full_canvas_value(sc, mask.id, W, H)), mask.id


def test_announced_masks_are_made_once_and_dropped_after_their_last_use(tmp_path, monkeypatch):
    """A diamond (a and b use base; top uses a and b) and a chain: each mask is made once, and once every
    announced request is served the resolver holds nothing."""
    made: list[str] = []
    value = M.MaskResolver._value
    monkeypatch.setattr(M.MaskResolver, "_value", lambda self, mask, target: made.append(mask.id) or value(self, mask, target))
    rect = lambda i: m.Rect(x=i, y=i, width=5, height=5)  # noqa: E731
    masks = [m.Mask(id="base", shapes=[rect(0)]), m.Mask(id="a", shapes=[m.Use(mask="base"), rect(10)]),
             m.Mask(id="b", shapes=[m.Use(mask="base"), rect(20)]), m.Mask(id="top", shapes=[m.Use(mask="a"), m.Use(mask="b")])]
    masks += [m.Mask(id="c0", shapes=[rect(1)])] + [m.Mask(id=f"c{i}", shapes=[m.Use(mask=f"c{i - 1}"), rect(i)]) for i in range(1, 50)]
    resolver = M.MaskResolver(scene(tmp_path, masks=masks), W, H)
    for mask_id in ("top", "a", "c49", "top"):
        resolver.expect(mask_id)
    held = []
    for mask_id in ("top", "a", "c49", "top"):
        assert np.count_nonzero(resolver(mask_id)) > 0
        held.append(len(resolver._cache))
    assert sorted(made) == sorted(["base", "a", "b", "top"] + [f"c{i}" for i in range(50)])
    assert held[-1] == 0 and resolver._held.bytes == 0
    assert held[2] == 1  # after the chain: only `top`, asked for once more


def test_requests_nobody_announced_are_still_answered(tmp_path):
    """A mask used twice by one mask, asked for without `expect` after others were announced: made again
    where its announced uses were spent, never missing."""
    masks = [m.Mask(id="y", shapes=[m.Rect(x=1, y=1, width=4, height=4)]),
             m.Mask(id="x", shapes=[m.Use(mask="y"), m.Use(mask="y"), m.Rect(x=9, y=9, width=2, height=2)]),
             m.Mask(id="z", shapes=[m.Use(mask="y")])]
    resolver = M.MaskResolver(scene(tmp_path, masks=masks), W, H)
    resolver.expect("z")
    assert np.count_nonzero(resolver("x")) == 16 + 4 and np.count_nonzero(resolver("z")) == 16
    assert np.count_nonzero(resolver("x")) == 20 and resolver._held.bytes == 0


@pytest.mark.parametrize("schedule", ["fast", "reference"])
def test_a_compile_makes_each_mask_once(tmp_path, monkeypatch, schedule):
    """Shared, inverted and picture masks, asked for by removals and layers (the reference reads grey
    pictures and makes inverted masks with its drawn resolver): every request was announced, so no mask is
    made twice by one resolver and none is missing when its user comes."""
    from collections import Counter

    from designedit.compiler import compile_scene

    made: Counter = Counter()
    value = M.MaskResolver._value
    monkeypatch.setattr(M.MaskResolver, "_value", lambda self, mask, target: made.update([(id(self), mask.id)]) or value(self, mask, target))
    copy_pictures(tmp_path)
    masks = [m.Mask(id="ball", src="ball-mask.png"), m.Mask(id="inv", shapes=[m.Rect(x=0, y=0, width=400, height=300)], invert=True),
             m.Mask(id="u", shapes=[m.Use(mask="inv"), m.Use(mask="ball")]), m.Mask(id="box", src="box-mask.png", grow=3)]
    layers = [m.Layer(id="ball", image="poster", mask="ball", occluder="u", transforms=[m.Move(dx=30, dy=0)]),
              m.Layer(id="copy", image="poster", mask="ball", keep=True, transforms=[m.Resize(scale=0.5)]),
              m.Layer(id="box", image="poster", mask="box", transforms=[m.Move(dx=-40, dy=0)])]
    edits = [m.Remove(mask="u", refine="inv"), m.Remove(mask="box")]
    compile_scene(scene(tmp_path, masks=masks, layers=layers, background=m.Background(image="poster", edits=edits)), schedule=schedule)
    assert made and max(made.values()) == 1


@pytest.mark.parametrize("render", [None, (40, 30)])
def test_a_group_plus_masks_is_a_new_group_as_if_they_were_added(render):
    masks = [M.Crop.of(M.rasterise_rect(x, 5, 20, 10, 64, 48)) for x in (2, 30, 50)]
    group = M.MaskGroup((48, 64), render)
    group.add(masks[0])
    before = (group.count, group.union().copy(), None if render is None else group.resized.copy())
    more = group.plus(masks[1:])
    whole = M.MaskGroup((48, 64), render)
    for mask in masks:
        whole.add(mask)
    assert more.count == whole.count == 3 and np.array_equal(more.union(), whole.union())
    assert render is None or np.array_equal(more.resized, whole.resized)
    assert group.count == before[0] and np.array_equal(group.union(), before[1])
    assert render is None or np.array_equal(group.resized, before[2])
    assert group.plus([]) is group
